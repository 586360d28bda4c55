// Log-linear latency histogram (see histogram.h).
#include "load/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cairn::bench {

size_t LatencyHistogram::SlotOf(uint64_t value_ns) {
  if (value_ns < kSubBuckets) return static_cast<size_t>(value_ns);
  const int msb = 63 - std::countl_zero(value_ns);
  const int bucket = msb - (kSubBucketBits - 1);
  const uint64_t sub = value_ns >> bucket;  // in [kHalf, kSubBuckets)
  return static_cast<size_t>(bucket) * kHalf + static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::HighestInSlot(size_t slot) {
  if (slot < kSubBuckets) return slot;
  const size_t bucket = slot / kHalf - 1;
  const uint64_t sub = slot - bucket * kHalf;
  // (sub + 1) << bucket overflows only for the very last slot, whose highest
  // value is the largest uint64_t.
  if (bucket + kSubBucketBits >= 64 && sub + 1 == kSubBuckets) {
    return std::numeric_limits<uint64_t>::max();
  }
  return ((sub + 1) << bucket) - 1;
}

void LatencyHistogram::Record(uint64_t value_ns) {
  ++counts_[SlotOf(value_ns)];
  ++count_;
  sum_ += value_ns;
  min_ = std::min(min_, value_ns);
  max_ = std::max(max_, value_ns);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kSlots; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::ValueAtQuantile(double quantile) const {
  if (count_ == 0) return 0;
  quantile = std::clamp(quantile, 0.0, 1.0);
  // The rank of the value asked for, 1-based: at least one value.
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(quantile * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t slot = 0; slot < kSlots; ++slot) {
    seen += counts_[slot];
    if (seen >= rank) return std::min(HighestInSlot(slot), max_);
  }
  return max_;
}

}  // namespace cairn::bench
