// The canonical byte encodings that are hashed or signed: leaf data (what a
// Merkle leaf commits to) and checkpoints (what a node signs). Protobuf
// serialization is not canonical, so neither is ever used for these; the
// layouts are documented byte by byte in docs/formats.md and are part of the
// durable format: a version is never changed, only added.
//
// Both encoders validate every field first and fail with InvalidArgument
// naming the field, so a value that encodes is always a well-formed one, and
// two different valid values never encode to the same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/hash.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::ledger {

// Version of the leaf encoding this code writes and the only one it reads.
inline constexpr uint32_t kLeafEncodingVersion = 1;
// Domain-separation prefixes. Neither is a prefix of the other, so a leaf
// encoding is never a checkpoint encoding and a signature over a checkpoint
// can never be presented as anything else.
inline constexpr absl::string_view kLeafMagic = "cairn-leaf";
inline constexpr absl::string_view kCheckpointMagic = "cairn-checkpoint-v1";

inline constexpr size_t kCollectionIdBytesMax = 256;

// Reserved collections of the entries the service writes itself.
inline constexpr absl::string_view kGovernanceCollection = "cairn.governance";
inline constexpr absl::string_view kSignaturesCollection = "cairn.signatures";
inline constexpr absl::string_view kInternalCollection = "cairn.internal";
// Collection ids starting with this are reserved for the service.
inline constexpr absl::string_view kReservedCollectionPrefix = "cairn.";

// True for the kinds a user writes: USER, and PRIVATE_USER in a private
// ledger. Both follow the same leaf rules; only the contents digest differs.
inline bool IsUserKind(v1::EntryKind kind) {
  return kind == v1::ENTRY_KIND_USER || kind == v1::ENTRY_KIND_PRIVATE_USER;
}

// OK when `id` is a collection a user may append to: 1 to 256 bytes of valid
// UTF-8 without control characters, not starting with "cairn.".
absl::Status ValidateUserCollectionId(absl::string_view id,
                                      absl::string_view what = "collection_id");

// OK when `user_id` is a user id: 64 lowercase hex digits (a certificate
// fingerprint). With `allow_empty`, "" (written by the service) is accepted too.
// A region name (a node's --region, a residency policy's entries): 1 to 64
// of letters, digits, '-' and '_'. InvalidArgument naming `what`.
absl::Status ValidateRegion(absl::string_view region, absl::string_view what);

absl::Status ValidateUserId(absl::string_view user_id, bool allow_empty,
                            absl::string_view what = "user_id");

// OK when `digest` is a claims digest: empty or exactly 32 bytes.
absl::Status ValidateClaimsDigest(absl::string_view digest,
                                  absl::string_view what = "claims_digest");

// The canonical leaf data of `leaf` (docs/formats.md, "Leaf encoding v1").
// Besides each field's own rules, the kind and collection must agree: user
// entries use a non-reserved collection, the others their reserved one.
absl::StatusOr<std::string> EncodeLeaf(const v1::LeafComponents& leaf);

// RFC 9162 leaf hash H(0x00 || EncodeLeaf(leaf)).
absl::StatusOr<Hash> LeafHashOf(const v1::LeafComponents& leaf);

// The canonical signed bytes of `checkpoint` (docs/formats.md, "Checkpoint
// encoding v1"). Requires service_id 64 lowercase hex digits, tree_size >= 1,
// a 32-byte root, last_txid valid with index == tree_size (leaf i is log
// index i + 1), and timestamp_unix_ms >= 0.
absl::StatusOr<std::string> EncodeCheckpoint(const v1::Checkpoint& checkpoint);

}  // namespace cairn::ledger
