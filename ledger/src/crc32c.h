// Private CRC-32C (Castagnoli), the per-record and header checksum of
// ledger segments: it localizes accidental corruption to one record. The
// segment trailer's SHA-256 is the strong whole-file check.
#pragma once

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace cairn::ledger::internal {

inline uint32_t Crc32c(absl::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  for (char ch : data) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

}  // namespace cairn::ledger::internal
