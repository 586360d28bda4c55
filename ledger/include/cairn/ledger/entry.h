// From a committed Raft log entry to its Merkle leaf. The node (when it
// applies an entry) and the auditor (when it replays segments) both go
// through LeafComponentsFor, so they cannot disagree on what a leaf is.
//
// Mapping (docs/formats.md, "From log entry to leaf"):
//   USER        collection, SHA-256(contents), claims digest, user_id and
//               timestamp of the UserTransaction
//   GOVERNANCE  "cairn.governance", SHA-256(entry data), the admin's user_id
//               and the transaction's timestamp
//   SIGNATURE   "cairn.signatures", SHA-256(entry data), no user, the
//               checkpoint's timestamp
//   empty data  INTERNAL, "cairn.internal", SHA-256(""), no user, timestamp 0
// For governance and signature entries the digest covers every byte of the
// entry data, so the leaf binds all of it. For user entries it covers the
// contents (so a receipt can be checked against them); the idempotency key
// is not bound by the tree (only the segment checksums protect it).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/hash.h"
#include "cairn/v1/log.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::ledger {

// The leaf components of the entry at (term, index) whose data is
// `log_command_bytes` (a serialized cairn.v1.LogCommand; empty for an
// internal entry). InvalidArgument naming the entry's txid when the data is
// not a LogCommand, holds no command, or holds one that cannot be a leaf.
absl::StatusOr<v1::LeafComponents> LeafComponentsFor(uint64_t term, uint64_t index,
                                                     absl::string_view log_command_bytes);

// The same for a caller that has parsed the data already (the applier, the
// read handlers), so it is parsed once: `command` must be what non-empty
// `log_command_bytes` parse to (the bytes are still needed: a service entry's
// contents digest is over them). Ignored when the bytes are empty.
absl::StatusOr<v1::LeafComponents> LeafComponentsFor(uint64_t term, uint64_t index,
                                                     const v1::LogCommand& command,
                                                     absl::string_view log_command_bytes);

// RFC 9162 leaf hash of that entry: LeafHashOf(LeafComponentsFor(...)).
absl::StatusOr<Hash> LeafHashFor(uint64_t term, uint64_t index,
                                 absl::string_view log_command_bytes);
absl::StatusOr<Hash> LeafHashFor(uint64_t term, uint64_t index, const v1::LogCommand& command,
                                 absl::string_view log_command_bytes);

// OK when `tx` can become a leaf: what the node checks before proposing an
// append, so that applying it later cannot fail. Checks collection_id,
// claims_digest, user_id (required) and timestamp_unix_ms (>= 0); limits on
// the contents' size are the node's.
absl::Status ValidateUserTransaction(const v1::UserTransaction& tx);

}  // namespace cairn::ledger
