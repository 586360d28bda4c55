// Fixed-width big-endian integers in byte strings: appending them, and a
// bounds-checked reader. Shared by the ledger's canonical encodings and
// segment files and storage's keys, values and snapshot payloads (big-endian
// so that RocksDB's bytewise key order is numeric order).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cairn::base {

// Appends the low `width` bytes of `v` (1 to 8), most significant first.
inline void PutBigEndian(std::string* out, uint64_t v, size_t width) {
  for (size_t i = width; i-- > 0;) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutU16(std::string* out, uint16_t v) { PutBigEndian(out, v, 2); }
inline void PutU32(std::string* out, uint32_t v) { PutBigEndian(out, v, 4); }
inline void PutU64(std::string* out, uint64_t v) { PutBigEndian(out, v, 8); }

// Reads big-endian integers and byte runs off the front of a byte string.
// Every read checks the bounds first: past the end it returns false and
// consumes nothing.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view data) : data_(data) {}

  // Bytes consumed so far, and left.
  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  // What is left, unconsumed.
  absl::string_view rest() const { return data_.substr(pos_); }

  bool ReadU8(uint8_t* v) { return Read(1, v); }
  bool ReadU16(uint16_t* v) { return Read(2, v); }
  bool ReadU32(uint32_t* v) { return Read(4, v); }
  bool ReadU64(uint64_t* v) { return Read(8, v); }
  bool ReadBytes(size_t n, absl::string_view* out) {
    if (remaining() < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  template <typename T>
  bool Read(size_t width, T* v) {
    if (remaining() < width) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value = (value << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    }
    pos_ += width;
    *v = static_cast<T>(value);
    return true;
  }

  absl::string_view data_;
  size_t pos_ = 0;  // Invariant: pos_ <= data_.size()
};

}  // namespace cairn::base
