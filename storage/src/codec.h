// Byte encodings shared by the storage tables and the snapshot payload.
//
// Integers in keys are big-endian fixed width, so RocksDB's bytewise order is
// numeric order. Lengths inside values are varints. Decoding never trusts its
// input: a Decoder returns false on short or malformed bytes and the caller
// turns that into DataLoss (a stored value that does not parse means the
// database or a payload is damaged).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/base/big_endian.h"
#include "cairn/consensus/types.h"

namespace cairn::storage::internal {

void PutU8(std::string* out, uint8_t v);
using base::PutU16;
using base::PutU32;
using base::PutU64;
void PutVarint(std::string* out, uint64_t v);
// Varint length, then the bytes.
void PutLengthPrefixed(std::string* out, absl::string_view bytes);

// A big-endian u64 as an 8-byte key.
std::string U64Key(uint64_t v);
// Maps int64 order onto unsigned byte order (flips the sign bit).
uint64_t OrderedFromSigned(int64_t v);
int64_t SignedFromOrdered(uint64_t v);

// Reads a varint (7 bits a byte, least significant first, high bit set on
// every byte but the last) a byte at a time through `get_u8` (bool(uint8_t*)).
// False when a byte is missing or after 10 bytes (not a varint we wrote).
template <typename GetU8>
bool GetVarintFrom(GetU8 get_u8, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    uint8_t byte = 0;
    if (!get_u8(&byte)) return false;
    out |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = out;
      return true;
    }
  }
  return false;
}

// base::ByteReader with the varint and length-prefixed forms of storage.
class Decoder {
 public:
  explicit Decoder(absl::string_view in) : in_(in) {}

  bool GetU8(uint8_t* v) { return in_.ReadU8(v); }
  bool GetU16(uint16_t* v) { return in_.ReadU16(v); }
  bool GetU32(uint32_t* v) { return in_.ReadU32(v); }
  bool GetU64(uint64_t* v) { return in_.ReadU64(v); }
  bool GetVarint(uint64_t* v);
  bool GetLengthPrefixed(absl::string_view* v);
  bool GetBytes(size_t n, absl::string_view* v) { return in_.ReadBytes(n, v); }

  absl::string_view rest() const { return in_.rest(); }
  bool empty() const { return in_.empty(); }

 private:
  base::ByteReader in_;
};

// Raft value encodings.
void PutHardState(std::string* out, const consensus::HardState& hs);
bool GetHardState(Decoder* d, consensus::HardState* hs);
void PutConfState(std::string* out, const consensus::ConfState& cs);
bool GetConfState(Decoder* d, consensus::ConfState* cs);
void PutSnapshotMeta(std::string* out, const consensus::SnapshotMeta& meta);
bool GetSnapshotMeta(Decoder* d, consensus::SnapshotMeta* meta);
void PutConfChange(std::string* out, const consensus::ConfChange& cc);
bool GetConfChange(Decoder* d, consensus::ConfChange* cc);

// A Raft log entry value (the index is the key): term, flags, optional conf
// change, then the data to the end.
std::string EncodeRaftEntry(const consensus::Entry& e);
bool DecodeRaftEntry(uint64_t index, absl::string_view value, consensus::Entry* e);

// DataLoss naming what failed to decode.
absl::Status Malformed(absl::string_view what);

}  // namespace cairn::storage::internal
