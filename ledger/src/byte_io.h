// Private big-endian integer encoding and a bounds-checked reader, shared by
// the canonical encodings and the segment format.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace cairn::ledger::internal {

inline void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

inline void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

inline void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// Reads big-endian fields from a byte string; every read checks the bounds
// first and reports failure instead of reading past the end.
class ByteReader {
 public:
  explicit ByteReader(absl::string_view data) : data_(data) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

  bool ReadU32(uint32_t* v) {
    uint64_t wide = 0;
    if (!ReadBigEndian(4, &wide)) return false;
    *v = static_cast<uint32_t>(wide);
    return true;
  }
  bool ReadU64(uint64_t* v) { return ReadBigEndian(8, v); }
  bool ReadBytes(size_t n, absl::string_view* out) {
    if (remaining() < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  bool ReadBigEndian(size_t n, uint64_t* v) {
    if (remaining() < n) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < n; ++i)
      value = (value << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += n;
    *v = value;
    return true;
  }

  absl::string_view data_;
  size_t pos_ = 0;  // Invariant: pos_ <= data_.size()
};

}  // namespace cairn::ledger::internal
