// Ledger micro-benchmarks: Merkle leaves appended per second, inclusion and
// consistency proofs generated per second at 1M and 10M leaves (in-memory
// node store), proof verification, ECDSA P-256 sign and verify, whole receipt
// verification, and SHA-256 throughput.
//
//   ninja -C build/release ledger_bench && build/release/bench/ledger_bench
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "cairn/base/check.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/receipt.h"

namespace cairn::ledger {
namespace {

Hash LeafFor(uint64_t i) {
  return LeafHash(absl::string_view(reinterpret_cast<const char*>(&i), sizeof(i)));
}

// A tree of n leaves, built once per size and shared by the benchmarks.
struct BigTree {
  MemoryMerkleStore store;
  MerkleTree tree{&store};
};

const BigTree& TreeOf(uint64_t n) {
  static std::map<uint64_t, std::unique_ptr<BigTree>>* trees =
      new std::map<uint64_t, std::unique_ptr<BigTree>>();
  auto& slot = (*trees)[n];
  if (!slot) {
    slot = std::make_unique<BigTree>();
    for (uint64_t i = 0; i < n; ++i) slot->tree.Append(LeafFor(i), slot->store);
  }
  return *slot;
}

void BM_Sha256(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(1024)->Arg(64 << 10)->Arg(1 << 20);

void BM_MerkleAppend(benchmark::State& state) {
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  uint64_t i = 0;
  for (auto _ : state) tree.Append(LeafFor(i++), store);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["leaves"] = static_cast<double>(tree.size());
}
BENCHMARK(BM_MerkleAppend);

// Appending a leaf from its data: the leaf hash plus the tree append.
void BM_MerkleAppendWithLeafHash(benchmark::State& state) {
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  const std::string data(static_cast<size_t>(state.range(0)), 'd');
  for (auto _ : state) tree.Append(LeafHash(data), store);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MerkleAppendWithLeafHash)->Arg(150);

void BM_InclusionProof(benchmark::State& state) {
  const BigTree& big = TreeOf(static_cast<uint64_t>(state.range(0)));
  std::mt19937_64 rng(1);
  const uint64_t n = big.tree.size();
  for (auto _ : state) {
    auto proof = big.tree.InclusionProof(rng() % n, n);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProof)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);

// Proofs for a past tree size (what receipts under an older checkpoint need).
void BM_InclusionProofPastSize(benchmark::State& state) {
  const BigTree& big = TreeOf(static_cast<uint64_t>(state.range(0)));
  std::mt19937_64 rng(2);
  const uint64_t n = big.tree.size();
  for (auto _ : state) {
    const uint64_t size = 1 + rng() % n;
    auto proof = big.tree.InclusionProof(rng() % size, size);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProofPastSize)
    ->Arg(1'000'000)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof(benchmark::State& state) {
  const BigTree& big = TreeOf(static_cast<uint64_t>(state.range(0)));
  std::mt19937_64 rng(3);
  const uint64_t n = big.tree.size();
  for (auto _ : state) {
    const uint64_t size2 = 1 + rng() % n;
    auto proof = big.tree.ConsistencyProof(1 + rng() % size2, size2);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ConsistencyProof)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);

void BM_RootAtPastSize(benchmark::State& state) {
  const BigTree& big = TreeOf(static_cast<uint64_t>(state.range(0)));
  std::mt19937_64 rng(4);
  for (auto _ : state) benchmark::DoNotOptimize(big.tree.RootAt(1 + rng() % big.tree.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RootAtPastSize)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);

void BM_VerifyInclusion(benchmark::State& state) {
  const BigTree& big = TreeOf(static_cast<uint64_t>(state.range(0)));
  const uint64_t n = big.tree.size();
  const uint64_t index = n / 3;
  const std::vector<Hash> proof = *big.tree.InclusionProof(index, n);
  const Hash root = big.tree.Root();
  for (auto _ : state) {
    CAIRN_CHECK_OK(VerifyInclusion(index, n, LeafFor(index), proof, root));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_VerifyInclusion)->Arg(10'000'000);

struct Identities {
  PrivateKey service_key = *PrivateKey::Generate();
  Certificate service_cert = *CreateServiceCertificate(service_key, {});
  PrivateKey node_key = *PrivateKey::Generate();
  Certificate node_cert = *IssueNodeCertificate(service_cert, service_key, node_key,
                                                NodeCertificateOptions{.node_id = 1});
};

const Identities& Ids() {
  static const Identities* ids = new Identities();
  return *ids;
}

std::string CheckpointBytes() {
  const v1::Checkpoint cp = MakeCheckpoint(Ids().service_cert.Fingerprint(), 1000, Sha256("root"),
                                           TxId{3, 1000}, absl::ToUnixMillis(absl::Now()));
  return *EncodeCheckpoint(cp);
}

void BM_EcdsaSign(benchmark::State& state) {
  const std::string message = CheckpointBytes();
  for (auto _ : state) benchmark::DoNotOptimize(Ids().node_key.Sign(message));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EcdsaSign);

void BM_EcdsaVerify(benchmark::State& state) {
  const std::string message = CheckpointBytes();
  const std::string signature = *Ids().node_key.Sign(message);
  for (auto _ : state) CAIRN_CHECK_OK(Ids().node_cert.VerifySignature(message, signature));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EcdsaVerify);

// A whole receipt: certificate chain, leaf, inclusion proof at 1M, signature.
void BM_VerifyReceipt(benchmark::State& state) {
  const BigTree& big = TreeOf(1'000'000);
  const uint64_t n = big.tree.size();
  v1::LeafComponents leaf;
  leaf.set_encoding_version(1);
  leaf.set_kind(v1::ENTRY_KIND_USER);
  leaf.set_txid("1.1");
  leaf.set_collection_id("orders");
  leaf.set_contents_digest(HashToString(Sha256("x")));
  leaf.set_user_id(std::string(64, 'a'));  // a user leaf names its user
  // A tree whose leaf 0 is this leaf: reuse the big tree's shape with our leaf.
  MemoryMerkleStore store;
  MerkleTree tree(&store);
  tree.Append(*LeafHashOf(leaf), store);
  for (uint64_t i = 1; i < n; ++i) tree.Append(LeafFor(i), store);
  const v1::Checkpoint cp = MakeCheckpoint(Ids().service_cert.Fingerprint(), n, tree.Root(),
                                           TxId{1, n}, absl::ToUnixMillis(absl::Now()));
  const v1::SignedCheckpoint signed_cp = *SignCheckpoint(cp, 1, Ids().node_key);
  const v1::Receipt receipt = *BuildReceipt(leaf, tree, signed_cp, Ids().node_cert.ToPem());
  for (auto _ : state) CAIRN_CHECK_OK(VerifyReceipt(receipt, Ids().service_cert));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_VerifyReceipt)->Unit(benchmark::kMicrosecond);

// What a private ledger's leader adds per entry (docs/performance.md,
// "Private ledgers"): the salted commitment and the sealing of 256 bytes.
void BM_ContentsCommitment(benchmark::State& state) {
  const std::string salt(kContentsSaltBytes, '\x01');
  const std::string contents(256, 'c');
  for (auto _ : state) benchmark::DoNotOptimize(ContentsCommitment(salt, contents));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ContentsCommitment);

void BM_SealContents(benchmark::State& state) {
  const LedgerSecret secret = *LedgerSecret::Generate(1);
  const std::string salt(kContentsSaltBytes, '\x01');
  const std::string contents(256, 'c');
  uint64_t index = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(SealContents(secret, TxId{1, ++index}, "orders", salt, contents));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_SealContents);

void BM_OpenContents(benchmark::State& state) {
  const LedgerSecret secret = *LedgerSecret::Generate(1);
  const std::string sealed = *SealContents(
      secret, TxId{1, 7}, "orders", std::string(kContentsSaltBytes, '\x01'), std::string(256, 'c'));
  for (auto _ : state) {
    benchmark::DoNotOptimize(OpenContents(secret, TxId{1, 7}, "orders", sealed));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_OpenContents);

void BM_NewContentsSalt(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(NewContentsSalt());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_NewContentsSalt);

}  // namespace
}  // namespace cairn::ledger

BENCHMARK_MAIN();
