// Transaction ids: "term.index", the Raft term and log index of an entry
// (e.g. "3.1042"). The text form is strict so that every id has exactly one
// spelling: decimal digits only, no sign, no leading zeros, no whitespace,
// both parts at least 1 and at most 2^64-1. Leaf i of the Merkle tree is the
// entry at log index i + 1.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::ledger {

struct TxId {
  uint64_t term = 0;   // >= 1 in every valid id
  uint64_t index = 0;  // >= 1 in every valid id

  // Parses the strict text form. InvalidArgument naming `what` (e.g. the
  // request field) and saying what is wrong otherwise.
  static absl::StatusOr<TxId> Parse(absl::string_view text, absl::string_view what = "txid");

  // "term.index". Only meaningful for a valid id.
  std::string ToString() const;

  // Zero-based Merkle leaf index of this entry (index - 1).
  uint64_t leaf_index() const { return index - 1; }

  friend bool operator==(const TxId& a, const TxId& b) = default;
};

}  // namespace cairn::ledger
