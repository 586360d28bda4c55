// RFC 9162 Merkle tree: Certificate Transparency known answers, exhaustive
// agreement with a naive recursive reference for every size up to 64, every
// index and every size pair, negative cases for both verifiers, and the
// O(log n) read bound of proof generation.
#include "cairn/ledger/merkle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle_tree.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;

// ---- Naive reference, straight from RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 ----

uint64_t LargestPowerOfTwoBelow(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hash NaiveMth(const std::vector<Hash>& d, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 0) return Sha256("");
  if (n == 1) return d[begin];
  const uint64_t k = LargestPowerOfTwoBelow(n);
  return NodeHash(NaiveMth(d, begin, begin + k), NaiveMth(d, begin + k, end));
}

std::vector<Hash> NaivePath(uint64_t m, const std::vector<Hash>& d, uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  if (n == 1) return {};
  const uint64_t k = LargestPowerOfTwoBelow(n);
  std::vector<Hash> path;
  if (m < k) {
    path = NaivePath(m, d, begin, begin + k);
    path.push_back(NaiveMth(d, begin + k, end));
  } else {
    path = NaivePath(m - k, d, begin + k, end);
    path.push_back(NaiveMth(d, begin, begin + k));
  }
  return path;
}

std::vector<Hash> NaiveSubproof(uint64_t m, const std::vector<Hash>& d, uint64_t begin,
                                uint64_t end, bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {NaiveMth(d, begin, end)};
  }
  const uint64_t k = LargestPowerOfTwoBelow(n);
  std::vector<Hash> proof;
  if (m <= k) {
    proof = NaiveSubproof(m, d, begin, begin + k, b);
    proof.push_back(NaiveMth(d, begin + k, end));
  } else {
    proof = NaiveSubproof(m - k, d, begin + k, end, false);
    proof.push_back(NaiveMth(d, begin, begin + k));
  }
  return proof;
}

// ---- Helpers ---------------------------------------------------------------

Hash H(absl::string_view hex) {
  auto h = HashFromHex(hex, "test");
  CAIRN_CHECK_OK(h.status());
  return *h;
}

std::vector<Hash> LeafHashes(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash("leaf " + std::to_string(i)));
  return leaves;
}

struct Fixture {
  MemoryMerkleStore store;
  MerkleTree tree{&store};
  explicit Fixture(const std::vector<Hash>& leaves) {
    for (const Hash& leaf : leaves) tree.Append(leaf, store);
  }
};

// The classic 8-leaf tree of the Certificate Transparency reference tests.
const char* const kCtLeafData[] = {"",
                                   "00",
                                   "10",
                                   "2021",
                                   "3031",
                                   "40414243",
                                   "5051525354555657",
                                   "606162636465666768696a6b6c6d6e6f"};
const char* const kCtRoots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                                "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                                "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                                "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                                "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                                "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

std::vector<Hash> CtLeaves() {
  std::vector<Hash> leaves;
  for (const char* hex : kCtLeafData) leaves.push_back(LeafHash(*base::HexDecode(hex)));
  return leaves;
}

// ---- Known answers ---------------------------------------------------------

TEST(MerkleKnownAnswerTest, EmptyTree) {
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  EXPECT_EQ(HashToHex(tree.Root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(*tree.RootAt(0), EmptyRoot());
}

TEST(MerkleKnownAnswerTest, CertificateTransparencyRoots) {
  Fixture f(CtLeaves());
  for (uint64_t size = 1; size <= 8; ++size) {
    EXPECT_EQ(HashToHex(*f.tree.RootAt(size)), kCtRoots[size - 1]) << "size " << size;
  }
  EXPECT_EQ(HashToHex(f.tree.Root()), kCtRoots[7]);
}

TEST(MerkleKnownAnswerTest, CertificateTransparencyProofs) {
  Fixture f(CtLeaves());
  const std::vector<Hash> incl0 = {
      H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
      H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
      H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")};
  const std::vector<Hash> incl5 = {
      H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
      H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
      H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")};
  EXPECT_EQ(*f.tree.InclusionProof(0, 8), incl0);
  EXPECT_EQ(*f.tree.InclusionProof(5, 8), incl5);
  EXPECT_EQ(*f.tree.ConsistencyProof(1, 8), incl0);
  EXPECT_EQ(*f.tree.ConsistencyProof(2, 8), (std::vector<Hash>{incl0[1], incl0[2]}));
  EXPECT_EQ(
      *f.tree.ConsistencyProof(6, 8),
      (std::vector<Hash>{H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                         H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                         H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}));
  EXPECT_EQ(
      *f.tree.ConsistencyProof(2, 5),
      (std::vector<Hash>{H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                         H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}));
  const std::vector<Hash> leaves = CtLeaves();
  EXPECT_TRUE(VerifyInclusion(5, 8, leaves[5], incl5, H(kCtRoots[7])).ok());
  EXPECT_TRUE(
      VerifyConsistency(6, 8, H(kCtRoots[5]), H(kCtRoots[7]), *f.tree.ConsistencyProof(6, 8)).ok());
}

// ---- Exhaustive agreement with the reference -------------------------------

TEST(MerkleExhaustiveTest, EverySizeIndexAndPairUpTo64MatchesTheReference) {
  constexpr uint64_t kMax = 64;
  const std::vector<Hash> leaves = LeafHashes(kMax);
  Fixture f(leaves);
  for (uint64_t size = 0; size <= kMax; ++size) {
    const Hash root = NaiveMth(leaves, 0, size);
    ASSERT_EQ(*f.tree.RootAt(size), root) << "size " << size;
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = f.tree.InclusionProof(index, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, NaivePath(index, leaves, 0, size)) << index << "/" << size;
      ASSERT_TRUE(VerifyInclusion(index, size, leaves[index], *proof, root).ok())
          << index << "/" << size;
    }
    for (uint64_t size1 = 1; size1 <= size; ++size1) {
      auto proof = f.tree.ConsistencyProof(size1, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, NaiveSubproof(size1, leaves, 0, size, true)) << size1 << "->" << size;
      ASSERT_TRUE(VerifyConsistency(size1, size, NaiveMth(leaves, 0, size1), root, *proof).ok())
          << size1 << "->" << size;
    }
  }
}

TEST(MerkleExhaustiveTest, TreesOfEverySizeAndReopenedTreesAgree) {
  const std::vector<Hash> leaves = LeafHashes(64);
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  for (uint64_t size = 1; size <= 64; ++size) {
    tree.Append(leaves[size - 1], store);
    ASSERT_EQ(tree.size(), size);
    ASSERT_EQ(tree.Root(), NaiveMth(leaves, 0, size));
    auto reopened = MerkleTree::Open(&store, size);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    ASSERT_EQ(reopened->Root(), tree.Root());
    for (uint64_t index = 0; index < size; ++index) {
      ASSERT_EQ(*reopened->InclusionProof(index, size), NaivePath(index, leaves, 0, size));
    }
  }
}

TEST(MerkleExhaustiveTest, EveryTreeSizeServesEveryEarlierSize) {
  // Past sizes are served from the store and the current frontier together;
  // check every tree size against every query below it.
  constexpr uint64_t kMax = 40;
  const std::vector<Hash> leaves = LeafHashes(kMax);
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  for (uint64_t n = 1; n <= kMax; ++n) {
    tree.Append(leaves[n - 1], store);
    for (uint64_t size2 = 1; size2 <= n; ++size2) {
      ASSERT_EQ(*tree.RootAt(size2), NaiveMth(leaves, 0, size2)) << size2 << " in " << n;
      for (uint64_t index = 0; index < size2; ++index) {
        ASSERT_EQ(*tree.InclusionProof(index, size2), NaivePath(index, leaves, 0, size2))
            << index << "/" << size2 << " in " << n;
      }
      for (uint64_t size1 = 1; size1 <= size2; ++size1) {
        ASSERT_EQ(*tree.ConsistencyProof(size1, size2),
                  NaiveSubproof(size1, leaves, 0, size2, true))
            << size1 << "->" << size2 << " in " << n;
      }
      // The store-only forms (for concurrent readers) agree.
      ASSERT_EQ(*StoredRootAt(store, size2), NaiveMth(leaves, 0, size2));
      ASSERT_EQ(*StoredInclusionProof(store, size2 - 1, size2),
                NaivePath(size2 - 1, leaves, 0, size2));
      ASSERT_EQ(*StoredConsistencyProof(store, 1, size2), NaiveSubproof(1, leaves, 0, size2, true));
    }
  }
}

// ---- Negative cases --------------------------------------------------------

Hash Flip(Hash h, int bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

TEST(MerkleVerifyInclusionTest, RejectsEveryTamperedProof) {
  const std::vector<Hash> leaves = LeafHashes(20);
  Fixture f(leaves);
  const Hash extra = LeafHash("extra");
  for (uint64_t size = 1; size <= 20; ++size) {
    const Hash root = *f.tree.RootAt(size);
    for (uint64_t index = 0; index < size; ++index) {
      const std::vector<Hash> proof = *f.tree.InclusionProof(index, size);
      const Hash leaf = leaves[index];
      for (size_t e = 0; e < proof.size(); ++e) {
        for (int bit : {0, 77, 255}) {
          std::vector<Hash> bad = proof;
          bad[e] = Flip(bad[e], bit);
          EXPECT_FALSE(VerifyInclusion(index, size, leaf, bad, root).ok());
        }
      }
      EXPECT_FALSE(VerifyInclusion(index, size, Flip(leaf, 3), proof, root).ok());
      EXPECT_FALSE(VerifyInclusion(index, size, leaf, proof, Flip(root, 200)).ok());
      if (!proof.empty()) {
        std::vector<Hash> truncated(proof.begin(), proof.end() - 1);
        EXPECT_THAT(VerifyInclusion(index, size, leaf, truncated, root).message(),
                    HasSubstr("fewer"));
        std::vector<Hash> no_first(proof.begin() + 1, proof.end());
        EXPECT_FALSE(VerifyInclusion(index, size, leaf, no_first, root).ok());
      }
      std::vector<Hash> extended = proof;
      extended.push_back(extra);
      EXPECT_THAT(VerifyInclusion(index, size, leaf, extended, root).message(), HasSubstr("more"));
      std::vector<Hash> prefixed = {extra};
      prefixed.insert(prefixed.end(), proof.begin(), proof.end());
      EXPECT_FALSE(VerifyInclusion(index, size, leaf, prefixed, root).ok());
      // Wrong index or size.
      if (index > 0) {
        EXPECT_FALSE(VerifyInclusion(index - 1, size, leaf, proof, root).ok());
      }
      if (index + 1 < size) {
        EXPECT_FALSE(VerifyInclusion(index + 1, size, leaf, proof, root).ok());
      }
      // A tree of another height needs another number of hashes. (A size
      // differing by one can share the path's shape, and then the proof
      // still leads to `root`: (size, root) come as a signed pair, which is
      // why the verifier cannot and need not tell them apart.)
      EXPECT_FALSE(VerifyInclusion(index, size * 2, leaf, proof, root).ok());
      if (index < size / 2) {
        EXPECT_FALSE(VerifyInclusion(index, size / 2, leaf, proof, root).ok());
      }
      EXPECT_THAT(VerifyInclusion(size, size, leaf, proof, root).message(), HasSubstr("not below"));
    }
  }
  EXPECT_FALSE(VerifyInclusion(0, 0, leaves[0], {}, EmptyRoot()).ok());
}

TEST(MerkleVerifyConsistencyTest, RejectsEveryTamperedProof) {
  const std::vector<Hash> leaves = LeafHashes(20);
  Fixture f(leaves);
  const Hash extra = LeafHash("extra");
  for (uint64_t size2 = 1; size2 <= 20; ++size2) {
    const Hash root2 = *f.tree.RootAt(size2);
    for (uint64_t size1 = 1; size1 <= size2; ++size1) {
      const Hash root1 = *f.tree.RootAt(size1);
      const std::vector<Hash> proof = *f.tree.ConsistencyProof(size1, size2);
      ASSERT_TRUE(VerifyConsistency(size1, size2, root1, root2, proof).ok());
      for (size_t e = 0; e < proof.size(); ++e) {
        std::vector<Hash> bad = proof;
        bad[e] = Flip(bad[e], 129);
        EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, bad).ok())
            << size1 << "->" << size2 << " element " << e;
      }
      EXPECT_FALSE(VerifyConsistency(size1, size2, Flip(root1, 1), root2, proof).ok());
      EXPECT_FALSE(VerifyConsistency(size1, size2, root1, Flip(root2, 1), proof).ok());
      std::vector<Hash> extended = proof;
      extended.push_back(extra);
      EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, extended).ok());
      if (size1 == size2) {
        EXPECT_TRUE(proof.empty());
        continue;
      }
      EXPECT_FALSE(VerifyConsistency(size1, size2, root2, root1, proof).ok()) << "swapped roots";
      std::vector<Hash> truncated(proof.begin(), proof.end() - 1);
      EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, truncated).ok());
      // As for inclusion, size2 +- 1 can share the proof's shape; a tree of
      // another height cannot.
      EXPECT_FALSE(VerifyConsistency(size1, size2 * 2, root1, root2, proof).ok());
      EXPECT_FALSE(VerifyConsistency(size1 + 1, size2, root1, root2, proof).ok());
      if (size1 > 1) {
        EXPECT_FALSE(VerifyConsistency(size1 - 1, size2, root1, root2, proof).ok());
      }
    }
  }
  const Hash r = *f.tree.RootAt(5);
  EXPECT_THAT(VerifyConsistency(0, 5, EmptyRoot(), r, {r}).message(), HasSubstr("size 0"));
  EXPECT_THAT(VerifyConsistency(6, 5, r, r, {r}).message(), HasSubstr("larger"));
  EXPECT_THAT(VerifyConsistency(3, 5, *f.tree.RootAt(3), r, {}).message(), HasSubstr("empty"));
  EXPECT_THAT(VerifyConsistency(5, 5, r, r, {r}).message(), HasSubstr("must be empty"));
  EXPECT_THAT(VerifyConsistency(5, 5, r, Flip(r, 0), {}).message(), HasSubstr("different roots"));
}

TEST(MerkleTreeTest, ArgumentsOutOfRangeAreRejected) {
  Fixture f(LeafHashes(10));
  EXPECT_THAT(f.tree.RootAt(11).status().message(), HasSubstr("tree_size"));
  EXPECT_THAT(f.tree.InclusionProof(10, 10).status().message(), HasSubstr("leaf_index"));
  EXPECT_THAT(f.tree.InclusionProof(0, 11).status().message(), HasSubstr("tree_size"));
  EXPECT_FALSE(f.tree.InclusionProof(0, 0).ok());
  EXPECT_THAT(f.tree.ConsistencyProof(0, 5).status().message(), HasSubstr("size1"));
  EXPECT_THAT(f.tree.ConsistencyProof(6, 5).status().message(), HasSubstr("size1"));
  EXPECT_THAT(f.tree.ConsistencyProof(5, 11).status().message(), HasSubstr("size2"));
  EXPECT_TRUE(f.tree.ConsistencyProof(10, 10)->empty());
}

TEST(MerkleTreeTest, ProofBytesMustBe32Each) {
  google::protobuf::RepeatedPtrField<std::string> wire;
  wire.Add(std::string(32, 'a'));
  EXPECT_TRUE(ProofFromBytes(wire, "proof").ok());
  wire.Add(std::string(31, 'a'));
  EXPECT_THAT(ProofFromBytes(wire, "proof").status().message(), HasSubstr("proof[1]"));
}

// ---- Storage behaviour -----------------------------------------------------

TEST(MerkleTreeTest, AppendAndRootReadNothingProofsReadLogarithmically) {
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  constexpr uint64_t kSize = (1 << 16) + 12345;
  for (uint64_t i = 0; i < kSize; ++i) tree.Append(LeafHash(std::to_string(i)), store);
  EXPECT_EQ(store.reads(), 0u);
  (void)tree.Root();
  EXPECT_EQ(store.reads(), 0u);
  EXPECT_EQ(store.node_count(), 2 * kSize - static_cast<uint64_t>(__builtin_popcountll(kSize)));

  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    const uint64_t size2 = 1 + rng() % kSize;
    const uint64_t size1 = 1 + rng() % size2;
    const uint64_t index = rng() % size2;
    uint64_t before = store.reads();
    auto incl = tree.InclusionProof(index, size2);
    ASSERT_TRUE(incl.ok());
    EXPECT_LE(store.reads() - before, 2 * 17u + 2) << index << "/" << size2;
    before = store.reads();
    auto cons = tree.ConsistencyProof(size1, size2);
    ASSERT_TRUE(cons.ok());
    EXPECT_LE(store.reads() - before, 2 * 17u + 2) << size1 << "->" << size2;
    before = store.reads();
    auto root = tree.RootAt(size2);
    EXPECT_LE(store.reads() - before, 17u);
    EXPECT_TRUE(VerifyInclusion(index, size2, LeafHash(std::to_string(index)), *incl, *root).ok());
    EXPECT_TRUE(VerifyConsistency(size1, size2, *tree.RootAt(size1), *root, *cons).ok());
  }
}

TEST(MerkleTreeTest, StoredFormsValidateArgumentsAndReportMissingNodes) {
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  for (int i = 0; i < 10; ++i) tree.Append(LeafHash(std::to_string(i)), store);
  EXPECT_EQ(*StoredRootAt(store, 0), EmptyRoot());
  EXPECT_EQ(*StoredRootAt(store, 10), tree.Root());
  EXPECT_THAT(StoredInclusionProof(store, 10, 10).status().message(), HasSubstr("leaf_index"));
  EXPECT_THAT(StoredConsistencyProof(store, 0, 10).status().message(), HasSubstr("size1"));
  EXPECT_EQ(StoredInclusionProof(store, 0, 11).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(StoredRootAt(store, 12).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MerkleTreeTest, MissingNodesAreDataLoss) {
  MemoryMerkleStore full;
  MerkleTree tree(&full);
  for (int i = 0; i < 10; ++i) tree.Append(LeafHash(std::to_string(i)), full);
  MemoryMerkleStore empty;
  EXPECT_EQ(MerkleTree::Open(&empty, 10).status().code(), absl::StatusCode::kDataLoss);
  // A tree over a store that lost old nodes still appends and serves its
  // root, but proofs that need a lost node fail loudly.
  full.DiscardBefore(8);
  EXPECT_TRUE(tree.RootAt(9).ok());
  EXPECT_TRUE(tree.RootAt(10).ok());
  EXPECT_EQ(tree.InclusionProof(0, 10).status().code(), absl::StatusCode::kDataLoss);
}

TEST(MemoryMerkleStoreTest, DiscardBeforeKeepsWhatLargerRootsNeed) {
  const std::vector<Hash> leaves = LeafHashes(300);
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  uint64_t watermark = 0;
  std::mt19937_64 rng(7);
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    tree.Append(leaves[i], store);
    if (rng() % 5 == 0) {
      watermark += rng() % (tree.size() - watermark + 1);
      for (uint64_t s = watermark; s <= tree.size(); ++s) {
        ASSERT_EQ(*tree.RootAt(s), NaiveMth(leaves, 0, s)) << s;
      }
      store.DiscardBefore(watermark);
    }
  }
  EXPECT_LT(store.node_count(), 64u);
}

}  // namespace
}  // namespace cairn::ledger
