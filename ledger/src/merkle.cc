// RFC 9162 hashing and the §2.1.3.2 / §2.1.4.2 verification algorithms,
// written step for step as the RFC states them (see merkle.h).
#include "cairn/ledger/merkle.h"

#include "absl/strings/str_cat.h"

namespace cairn::ledger {
namespace {

constexpr char kLeafPrefix = '\x00';
constexpr char kNodePrefix = '\x01';

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// Right-shifts fn and sn together until LSB(fn) is set or fn is 0.
void ShiftWhileEven(uint64_t& fn, uint64_t& sn) {
  while ((fn & 1) == 0 && fn != 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

// A tree is consistent with itself: empty proof, same root.
absl::Status VerifyEqualSizes(const Hash& root1, const Hash& root2, absl::Span<const Hash> proof) {
  if (!proof.empty()) {
    return absl::InvalidArgumentError("consistency proof: must be empty for equal sizes");
  }
  if (root1 != root2) {
    return absl::InvalidArgumentError("consistency proof: equal sizes with different roots");
  }
  return absl::OkStatus();
}

}  // namespace

Hash LeafHash(absl::string_view leaf_data) {
  return Sha256Parts({absl::string_view(&kLeafPrefix, 1), leaf_data});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256Parts({absl::string_view(&kNodePrefix, 1), HashBytes(left), HashBytes(right)});
}

Hash EmptyRoot() { return Sha256(""); }

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                            absl::Span<const Hash> proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("inclusion proof: leaf index ", index, " is not below tree size ", size));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError(absl::StrCat("inclusion proof: has ", proof.size(),
                                                     " hashes, more than (index ", index, ", size ",
                                                     size, ") needs"));
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(absl::StrCat("inclusion proof: has ", proof.size(),
                                                   " hashes, fewer than (index ", index, ", size ",
                                                   size, ") needs"));
  }
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  absl::StatusOr<Hash> computed = RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inclusion proof: leads to root ", HashToHex(*computed), ", not ", HashToHex(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                               absl::Span<const Hash> proof) {
  if (size1 == 0) {
    return absl::InvalidArgumentError("consistency proof: from tree size 0 proves nothing");
  }
  if (size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof: size1 ", size1, " is larger than size2 ", size2));
  }
  if (size1 == size2) return VerifyEqualSizes(root1, root2, proof);
  if (proof.empty()) return absl::InvalidArgumentError("consistency proof: is empty");
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (IsPowerOfTwo(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) {
      return absl::InvalidArgumentError(absl::StrCat("consistency proof: has ", proof.size(),
                                                     " hashes, more than (", size1, ", ", size2,
                                                     ") needs"));
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(absl::StrCat("consistency proof: has ", proof.size(),
                                                   " hashes, fewer than (", size1, ", ", size2,
                                                   ") needs"));
  }
  if (fr != root1) {
    return absl::InvalidArgumentError("consistency proof: does not lead to root1");
  }
  if (sr != root2) {
    return absl::InvalidArgumentError("consistency proof: does not lead to root2");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> ProofFromBytes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes, absl::string_view what) {
  std::vector<Hash> out;
  out.reserve(static_cast<size_t>(hashes.size()));
  for (int i = 0; i < hashes.size(); ++i) {
    absl::StatusOr<Hash> h = HashFromBytes(hashes.Get(i), absl::StrCat(what, "[", i, "]"));
    if (!h.ok()) return h.status();
    out.push_back(*h);
  }
  return out;
}

}  // namespace cairn::ledger
