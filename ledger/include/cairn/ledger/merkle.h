// RFC 9162 §2.1 Merkle tree hashing and proof verification: pure functions
// over hashes, with no storage, used by the node and by offline verifiers.
//
//   leaf hash  H(0x00 || leaf_data)         interior  H(0x01 || left || right)
//   empty tree H("")                        split     largest power of 2 < n
//
// The verifiers implement §2.1.3.2 and §2.1.4.2 exactly and reject, with
// InvalidArgument saying why: an index not below the tree size, a size out of
// range, a consistency proof from size 0, proofs with hashes missing or left
// over, and any root that does not match. Hash lengths are enforced where
// bytes become a Hash (HashFromBytes, ProofFromBytes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "cairn/ledger/hash.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace cairn::ledger {

// H(0x00 || leaf_data).
Hash LeafHash(absl::string_view leaf_data);
// H(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of the empty string.
Hash EmptyRoot();

// The root an inclusion proof leads to (§2.1.3.2), for callers that report
// the mismatch themselves. InvalidArgument when index >= size or the proof
// has the wrong number of hashes for (index, size).
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                            absl::Span<const Hash> proof);

// OK when `proof` shows leaf `leaf_hash` at `index` in the tree of `size`
// leaves with root `root`.
absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);

// OK when `proof` shows the tree (size2, root2) extends the tree (size1,
// root1). Requires 0 < size1 <= size2; for size1 == size2 the proof must be
// empty and the roots equal.
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                               absl::Span<const Hash> proof);

// Proof hashes from their wire form (each exactly 32 bytes).
absl::StatusOr<std::vector<Hash>> ProofFromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes, absl::string_view what);

}  // namespace cairn::ledger
