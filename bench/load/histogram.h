// A latency histogram in the style of HdrHistogram: log-linear buckets that
// keep a fixed relative precision over the whole range, so one histogram holds
// a 20 µs fsync-free read and a 2 s stalled append alike, in a fixed 16 KiB.
//
// Layout. A value v (nanoseconds) falls in "bucket" b = max(0, msb(v) - 6),
// where msb is the index of the highest set bit, and in "sub-bucket"
// s = v >> b. Bucket 0 holds v < 128 exactly (s in [0, 128)); every later
// bucket b covers [64 << b, 128 << b) in 64 slots of width 2^b, so a slot's
// width is at most 1/64 of the values in it: any recorded value is known to
// within 1.6 %. The flat slot index is b * 64 + s for b > 0 (s in [64, 128)),
// s for b = 0. 58 buckets reach 2^64 ns; the array is sized for that.
//
// Recording is one shift, one count-leading-zeros and one increment; nothing
// is locked. Each closed-loop worker owns one histogram (its callbacks never
// run concurrently), and the driver merges them at the end.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace cairn::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 sub-buckets in bucket 0
  static constexpr uint64_t kSubBuckets = 1 << kSubBucketBits;
  static constexpr uint64_t kHalf = kSubBuckets / 2;          // 64 slots in later buckets
  static constexpr int kBuckets = 64 - kSubBucketBits + 1;    // 58
  static constexpr size_t kSlots = kBuckets * kHalf + kHalf;  // flat index space

  void Record(uint64_t value_ns);
  void Merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t min_ns() const { return count_ == 0 ? 0 : min_; }
  uint64_t max_ns() const { return max_; }
  double mean_ns() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  // The smallest recorded-value bound V such that at least `quantile` (in
  // [0, 1]) of the recorded values are <= V, to within one slot (1.6 %), and
  // never above max_ns(). 0 when empty.
  uint64_t ValueAtQuantile(double quantile) const;

  // Exposed for tests: the slot of a value and the highest value in a slot.
  static size_t SlotOf(uint64_t value_ns);
  static uint64_t HighestInSlot(size_t slot);

 private:
  std::array<uint64_t, kSlots> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = std::numeric_limits<uint64_t>::max();
  uint64_t max_ = 0;
};

}  // namespace cairn::bench
