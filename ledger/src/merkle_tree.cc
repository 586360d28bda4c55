// RFC 9162 Merkle tree over a node store (see merkle_tree.h).
//
// Proof generation follows the RFC's recursive definitions (PATH in §2.1.3.1,
// SUBPROOF in §2.1.4.1), unrolled into loops over (begin, end) ranges. Each
// step needs the hash of the sibling range; siblings that are complete
// subtrees are one node read, and at most one sibling per proof is an
// incomplete range at the right edge, costing one read per set bit of its size.
#include "cairn/ledger/merkle_tree.h"

#include <algorithm>
#include <bit>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/ledger/merkle.h"

namespace cairn::ledger {
namespace {

// Largest power of two strictly less than n (n >= 2): RFC 9162's split point.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// A stored node; a node that should be there and is not is DataLoss.
absl::StatusOr<Hash> ReadStoredNode(const MerkleNodeReader& reader, uint32_t level,
                                    uint64_t index) {
  absl::StatusOr<Hash> node = reader.ReadNode(level, index);
  if (!node.ok()) {
    return absl::DataLossError(absl::StrCat("merkle node (", level, ", ", index,
                                            ") unreadable: ", node.status().message()));
  }
  return node;
}

}  // namespace

MerkleTree::MerkleTree(const MerkleNodeReader* reader) : reader_(reader) {
  CAIRN_CHECK(reader_ != nullptr) << "MerkleTree needs a node reader";
}

absl::StatusOr<MerkleTree> MerkleTree::Open(const MerkleNodeReader* reader, uint64_t size) {
  MerkleTree tree(reader);
  for (uint32_t level = 0; level < 64; ++level) {
    if (((size >> level) & 1) == 0) continue;
    absl::StatusOr<Hash> node = reader->ReadNode(level, (size >> level) - 1);
    if (!node.ok()) {
      return absl::DataLossError(absl::StrCat("merkle tree of size ", size, ": frontier node (",
                                              level, ", ", (size >> level) - 1,
                                              ") unreadable: ", node.status().message()));
    }
    tree.frontier_[level] = *node;
  }
  tree.size_ = size;
  return tree;
}

Hash MerkleTree::Root() const {
  if (size_ == 0) return EmptyRoot();
  // Fold the frontier from the smallest (rightmost) subtree to the largest.
  const int low = std::countr_zero(size_);
  Hash root = frontier_[low];
  for (int level = low + 1; level < 64; ++level) {
    if (((size_ >> level) & 1) != 0) root = NodeHash(frontier_[level], root);
  }
  return root;
}

void MerkleTree::Append(const Hash& leaf_hash, MerkleNodeWriter& writer) {
  CAIRN_CHECK(size_ < UINT64_MAX) << "merkle tree is full";
  Hash hash = leaf_hash;
  uint32_t level = 0;
  uint64_t index = size_;
  writer.WriteNode(level, index, hash);
  // While the new node is a right child, it completes its parent, whose left
  // child is the frontier node of the same level.
  while ((index & 1) != 0) {
    hash = NodeHash(frontier_[level], hash);
    index >>= 1;
    ++level;
    writer.WriteNode(level, index, hash);
  }
  frontier_[level] = hash;
  ++size_;
}

absl::StatusOr<Hash> MerkleTree::Node(uint32_t level, uint64_t index) const {
  if (level < 64 && ((size_ >> level) & 1) != 0 && index == (size_ >> level) - 1) {
    return frontier_[level];
  }
  return ReadStoredNode(*reader_, level, index);
}

namespace {

// Where proof generation gets its hashes: complete-subtree nodes.
using NodeSource = absl::FunctionRef<absl::StatusOr<Hash>(uint32_t level, uint64_t index)>;

// MTH of leaves [begin, end), where begin is a multiple of a power of two
// >= end - begin (true of every range a proof needs): the complete subtrees
// of the range, one per set bit of its size, largest first, folded from the
// right.
absl::StatusOr<Hash> RangeHash(NodeSource src, uint64_t begin, uint64_t end) {
  CAIRN_CHECK(begin < end) << "range [" << begin << ", " << end << ")";
  const uint64_t n = end - begin;
  Hash subtrees[64];
  int count = 0;
  uint64_t offset = begin;
  for (int level = 63; level >= 0; --level) {
    if (((n >> level) & 1) == 0) continue;
    CAIRN_CHECK(offset % (uint64_t{1} << level) == 0)
        << "unaligned range [" << begin << ", " << end << ")";
    absl::StatusOr<Hash> node = src(static_cast<uint32_t>(level), offset >> level);
    if (!node.ok()) return node.status();
    subtrees[count++] = *node;
    offset += uint64_t{1} << level;
  }
  Hash hash = subtrees[count - 1];
  for (int i = count - 2; i >= 0; --i) hash = NodeHash(subtrees[i], hash);
  return hash;
}

absl::StatusOr<Hash> Root(NodeSource src, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return RangeHash(src, 0, size);
}

// PATH(m, D[begin:end]) of RFC 9162 §2.1.3.1: descend towards the leaf; each
// step's sibling goes after the deeper part of the path, so collect and reverse.
absl::StatusOr<std::vector<Hash>> Path(NodeSource src, uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf_index: ", index, " is not below tree_size ", size));
  }
  std::vector<Hash> proof;
  uint64_t begin = 0;
  uint64_t end = size;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    const bool left = index - begin < k;
    absl::StatusOr<Hash> sibling =
        left ? RangeHash(src, begin + k, end) : RangeHash(src, begin, begin + k);
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
    if (left) {
      end = begin + k;
    } else {
      begin += k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

// PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 §2.1.4.1, unrolled;
// `whole` is SUBPROOF's b.
absl::StatusOr<std::vector<Hash>> Subproof(NodeSource src, uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("size1: must be 1 to size2 (", size2, "), got ", size1));
  }
  std::vector<Hash> siblings;
  uint64_t m = size1;
  uint64_t begin = 0;
  uint64_t end = size2;
  bool whole = true;
  while (m != end - begin) {
    const uint64_t k = SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling;
    if (m <= k) {
      sibling = RangeHash(src, begin + k, end);
      end = begin + k;
    } else {
      sibling = RangeHash(src, begin, begin + k);
      m -= k;
      begin += k;
      whole = false;
    }
    if (!sibling.ok()) return sibling.status();
    siblings.push_back(*sibling);
  }
  std::vector<Hash> proof;
  proof.reserve(siblings.size() + 1);
  if (!whole) {
    absl::StatusOr<Hash> subtree = RangeHash(src, begin, end);
    if (!subtree.ok()) return subtree.status();
    proof.push_back(*subtree);
  }
  proof.insert(proof.end(), siblings.rbegin(), siblings.rend());
  return proof;
}

absl::Status CheckSize(uint64_t size, uint64_t tree_size, absl::string_view what) {
  if (size > tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", size, " is larger than the tree (", tree_size, " leaves)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Hash> MerkleTree::RootAt(uint64_t size) const {
  if (absl::Status s = CheckSize(size, size_, "tree_size"); !s.ok()) return s;
  if (size == size_) return Root();  // no reads
  auto node = [this](uint32_t level, uint64_t index) { return Node(level, index); };
  return ledger::Root(node, size);
}

absl::StatusOr<std::vector<Hash>> MerkleTree::InclusionProof(uint64_t index, uint64_t size) const {
  if (absl::Status s = CheckSize(size, size_, "tree_size"); !s.ok()) return s;
  auto node = [this](uint32_t level, uint64_t index) { return Node(level, index); };
  return Path(node, index, size);
}

absl::StatusOr<std::vector<Hash>> MerkleTree::ConsistencyProof(uint64_t size1,
                                                               uint64_t size2) const {
  if (absl::Status s = CheckSize(size2, size_, "size2"); !s.ok()) return s;
  auto node = [this](uint32_t level, uint64_t index) { return Node(level, index); };
  return Subproof(node, size1, size2);
}

absl::StatusOr<Hash> StoredRootAt(const MerkleNodeReader& reader, uint64_t size) {
  auto node = [&reader](uint32_t level, uint64_t index) {
    return ReadStoredNode(reader, level, index);
  };
  return ledger::Root(node, size);
}

absl::StatusOr<std::vector<Hash>> StoredInclusionProof(const MerkleNodeReader& reader,
                                                       uint64_t index, uint64_t size) {
  auto node = [&reader](uint32_t level, uint64_t index) {
    return ReadStoredNode(reader, level, index);
  };
  return Path(node, index, size);
}

absl::StatusOr<std::vector<Hash>> StoredConsistencyProof(const MerkleNodeReader& reader,
                                                         uint64_t size1, uint64_t size2) {
  auto node = [&reader](uint32_t level, uint64_t index) {
    return ReadStoredNode(reader, level, index);
  };
  return Subproof(node, size1, size2);
}

}  // namespace cairn::ledger
