// Verified client state against fake nodes that sign real checkpoints: a
// growing ledger is accepted through consistency proofs; a fork (another
// root at the same size, or a longer history that does not extend the
// trusted one), a rollback (a smaller latest checkpoint) and a bad
// consistency proof are each reported as DataLoss; the state survives a
// restart through the state file, which clients may share (it never goes
// backwards); and it can be
// turned off.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cairn/client/client.h"
#include "fake_cluster.h"
#include "testing/process.h"

namespace cairn {
namespace {

using client::Client;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kFork[] = "ledger fork or rollback detected: ";

std::unique_ptr<Client> MakeClient(client::ClientOptions options) {
  auto c = Client::Create(std::move(options));
  CAIRN_CHECK_OK(c.status());
  return *std::move(c);
}

class VerifiedStateTest : public ::testing::Test {
 protected:
  void AppendN(int n, const std::string& prefix = "e") {
    for (int i = 0; i < n; ++i) {
      v1::AppendRequest request;
      request.set_collection_id("c");
      request.set_contents(prefix + std::to_string(i));
      ASSERT_TRUE(cluster_.ledger().Append(request, cluster_.pki().UserId("writer")).ok());
    }
  }

  uint64_t TrustedSize(const Client& c) {
    auto trusted = c.TrustedCheckpoint();
    return trusted.has_value() ? trusted->checkpoint().checkpoint().tree_size() : 0;
  }

  testing::FakeCluster cluster_;
};

TEST_F(VerifiedStateTest, NewerCheckpointsAreAcceptedWithAConsistencyProof) {
  auto c = MakeClient(cluster_.Options("reader"));
  EXPECT_FALSE(c->TrustedCheckpoint().has_value());
  AppendN(3);
  auto first = c->GetLatestCheckpoint();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(TrustedSize(*c), 3u);
  EXPECT_EQ(cluster_.server(0).calls("GetConsistencyProof"), 0);  // trusted on first use
  AppendN(5);
  auto second = c->GetLatestCheckpoint();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(TrustedSize(*c), 8u);
  EXPECT_EQ(cluster_.server(0).calls("GetConsistencyProof"), 1);
  // The same checkpoint again needs no proof.
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  EXPECT_EQ(cluster_.server(0).calls("GetConsistencyProof"), 1);
}

TEST_F(VerifiedStateTest, DifferentRootAtTheSameSizeIsAFork) {
  auto c = MakeClient(cluster_.Options("reader"));
  AppendN(4);
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  // The node now serves a history that shares 2 entries and then differs.
  std::unique_ptr<testing::FakeLedger> fork = cluster_.ledger().ForkAt(2, 1);
  for (int i = 0; i < 2; ++i) {
    v1::AppendRequest request;
    request.set_collection_id("c");
    request.set_contents("forged" + std::to_string(i));
    ASSERT_TRUE(fork->Append(request, cluster_.pki().UserId("writer")).ok());
  }
  cluster_.server(0).set_ledger(fork.get());
  auto r = c->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(kFork));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("same size differ"));
  EXPECT_EQ(TrustedSize(*c), 4u);  // unchanged
  cluster_.server(0).set_ledger(&cluster_.ledger());
}

TEST_F(VerifiedStateTest, LongerHistoryThatDoesNotExtendTheTrustedOneIsAFork) {
  auto c = MakeClient(cluster_.Options("reader"));
  AppendN(4);
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  std::unique_ptr<testing::FakeLedger> fork = cluster_.ledger().ForkAt(3, 2);
  for (int i = 0; i < 4; ++i) {
    v1::AppendRequest request;
    request.set_collection_id("c");
    request.set_contents("forged" + std::to_string(i));
    ASSERT_TRUE(fork->Append(request, cluster_.pki().UserId("writer")).ok());
  }
  cluster_.server(0).set_ledger(fork.get());
  auto r = c->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(kFork));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not extend"));
  // Receipts served from the fork are refused for the same reason.
  auto receipt = c->GetReceipt("2.7");
  EXPECT_EQ(receipt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(receipt.status().message()), StartsWith(kFork));
  EXPECT_EQ(TrustedSize(*c), 4u);
  cluster_.server(0).set_ledger(&cluster_.ledger());
}

TEST_F(VerifiedStateTest, SmallerLatestCheckpointIsARollback) {
  auto c = MakeClient(cluster_.Options("reader"));
  AppendN(6);
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  cluster_.server(0).set_latest_size(4);  // a genuine, older checkpoint
  auto r = c->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(absl::StrCat(kFork, "rollback")));
  EXPECT_EQ(TrustedSize(*c), 6u);
}

TEST_F(VerifiedStateTest, BadConsistencyProofIsRefused) {
  auto c = MakeClient(cluster_.Options("reader"));
  AppendN(5);
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  AppendN(6);
  cluster_.server(0).set_corrupt_proofs(true);
  auto r = c->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(kFork));
  EXPECT_EQ(TrustedSize(*c), 5u);
  cluster_.server(0).set_corrupt_proofs(false);
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());  // the honest proof is accepted
  EXPECT_EQ(TrustedSize(*c), 11u);
}

TEST_F(VerifiedStateTest, ReceiptsMoveTheTrustedCheckpointForward) {
  auto c = MakeClient(cluster_.Options("writer"));
  auto first = c->Append("c", "a");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(c->GetReceipt(first->txid).ok());
  EXPECT_EQ(TrustedSize(*c), 1u);
  AppendN(3);
  auto second = c->Append("c", "b");
  ASSERT_TRUE(second.ok());
  auto receipt = c->GetReceipt(second->txid);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(TrustedSize(*c), 5u);
  // A receipt under an older checkpoint is fine when that checkpoint is a
  // prefix of the trusted one (checked with a proof); the trusted one stays.
  cluster_.server(0).set_receipt_size(2);
  const int proofs = cluster_.server(0).calls("GetConsistencyProof");
  EXPECT_TRUE(c->GetReceipt(first->txid).ok());
  EXPECT_EQ(cluster_.server(0).calls("GetConsistencyProof"), proofs + 1);
  EXPECT_EQ(TrustedSize(*c), 5u);
  // ...and a fork when it is not.
  cluster_.server(0).set_corrupt_proofs(true);
  auto forked = c->GetReceipt(first->txid);
  EXPECT_EQ(forked.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(forked.status().message()), StartsWith(kFork));
}

TEST_F(VerifiedStateTest, UnverifiableCheckpointIsRefused) {
  // A ledger whose checkpoints claim signer 2 but are signed with node 1's key.
  const testing::CertFiles node1 = cluster_.pki().Node(1);
  testing::FakeLedger liar(cluster_.pki().service_cert(), node1.cert, node1.key, 2);
  v1::AppendRequest request;
  request.set_collection_id("c");
  request.set_contents("x");
  ASSERT_TRUE(liar.Append(request, cluster_.pki().UserId("writer")).ok());
  liar.PutUser(cluster_.pki().UserId("reader"), v1::ROLE_READER);
  cluster_.server(0).set_ledger(&liar);
  auto c = MakeClient(cluster_.Options("reader"));
  auto r = c->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("unverifiable checkpoint"));
  EXPECT_FALSE(c->TrustedCheckpoint().has_value());
  cluster_.server(0).set_ledger(&cluster_.ledger());
}

TEST_F(VerifiedStateTest, StateFileCarriesTheTrustedCheckpointAcrossRestarts) {
  const std::string state = cluster_.dir() + "/state.json";
  client::ClientOptions options = cluster_.Options("reader");
  options.verified_state.state_file = state;
  AppendN(7);
  {
    auto c = MakeClient(options);
    ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  }
  ASSERT_FALSE(testing::ReadFileOrEmpty(state).empty());
  cluster_.server(0).set_latest_size(5);
  {
    auto restarted = MakeClient(options);
    EXPECT_EQ(TrustedSize(*restarted), 7u);
    auto r = restarted->GetLatestCheckpoint();
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("rollback"));
  }
  // A state file that was tampered with is refused when loaded.
  std::string text = testing::ReadFileOrEmpty(state);
  const size_t at = text.find("\"treeSize\": \"7\"");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 15, "\"treeSize\": \"6\"");
  std::ofstream(state, std::ios::trunc) << text;
  auto tampered = Client::Create(options);
  EXPECT_EQ(tampered.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(tampered.status().message()), HasSubstr("state.json"));
}

// Two clients sharing one state file, as two cairnctl processes would: each
// save goes through a temporary file of its own (the fixed "<file>.tmp" of
// old is taken here by a directory), so every save succeeds, the file stays
// loadable and private, and no temporary file is left behind.
TEST_F(VerifiedStateTest, ClientsSharingAStateFileDoNotClobberIt) {
  const std::string state = cluster_.dir() + "/shared-state.json";
  std::filesystem::create_directory(state + ".tmp");
  client::ClientOptions options = cluster_.Options("reader");
  options.verified_state.state_file = state;
  AppendN(2);
  auto first = MakeClient(options);
  auto second = MakeClient(options);
  constexpr int kRounds = 20;
  std::atomic<int> failures{0};
  // Each round grows the ledger, so each observation is newer and saved.
  auto observe = [&](Client* c) {
    for (int i = 0; i < kRounds; ++i) {
      v1::AppendRequest request;
      request.set_collection_id("c");
      request.set_contents("shared");
      if (!cluster_.ledger().Append(request, cluster_.pki().UserId("writer")).ok()) {
        failures.fetch_add(1);
      }
      if (!c->GetLatestCheckpoint().ok()) failures.fetch_add(1);
    }
  };
  std::thread a(observe, first.get());
  std::thread b(observe, second.get());
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  auto restarted = MakeClient(options);  // the file verifies
  EXPECT_GT(TrustedSize(*restarted), 2u);
  struct stat st;
  ASSERT_EQ(::stat(state.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(cluster_.dir())) {
    const std::string name = e.path().filename().string();
    if (name.find("shared-state") != std::string::npos) names.push_back(name);
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("shared-state.json", "shared-state.json.tmp",
                                                     "shared-state.json.lock"));
}

// A client that trusts an older checkpoint than another process saved in
// the shared file meanwhile does not overwrite it: the file never goes
// backwards, whoever writes last.
TEST_F(VerifiedStateTest, SharedStateFileKeepsTheLargerCheckpoint) {
  const std::string state = cluster_.dir() + "/state.json";
  client::ClientOptions options = cluster_.Options("reader");
  options.verified_state.state_file = state;
  AppendN(7);
  auto late = MakeClient(options);  // loads nothing: the file does not exist yet
  {
    auto early = MakeClient(options);
    ASSERT_TRUE(early->GetLatestCheckpoint().ok());  // saves size 7
  }
  cluster_.server(0).set_latest_size(5);
  ASSERT_TRUE(late->GetLatestCheckpoint().ok());  // trusts 5 on first use, saves last
  EXPECT_EQ(TrustedSize(*late), 5u);
  auto next = MakeClient(options);
  EXPECT_EQ(TrustedSize(*next), 7u);
  auto r = next->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << "5 after 7 is a rollback";
}

TEST_F(VerifiedStateTest, RogueNodeWithAGenuineKeyIsDetectedThroughTheStateFile) {
  // An honest run remembers size 5 in the state file, after seeing size 3.
  const std::string state = cluster_.dir() + "/state.json";
  client::ClientOptions options = cluster_.Options("reader");
  options.verified_state.state_file = state;
  AppendN(3);
  auto honest = MakeClient(options);
  auto earlier = honest->GetLatestCheckpoint();
  ASSERT_TRUE(earlier.ok());
  AppendN(2);
  ASSERT_TRUE(honest->GetLatestCheckpoint().ok());
  honest.reset();

  // A rogue node with a genuine certificate (node 9) serves its own history.
  const testing::CertFiles node9 = cluster_.pki().Node(9);
  testing::FakeLedger rogue_ledger(cluster_.pki().service_cert(), node9.cert, node9.key, 9);
  rogue_ledger.PutUser(cluster_.pki().UserId("reader"), v1::ROLE_READER);
  for (int i = 0; i < 7; ++i) {
    v1::AppendRequest request;
    request.set_collection_id("c");
    request.set_contents("rogue" + std::to_string(i));
    ASSERT_TRUE(rogue_ledger.Append(request, cluster_.pki().UserId("writer")).ok());
  }
  testing::FakeServer rogue(&rogue_ledger, node9.cert, node9.key, cluster_.pki().service_cert());
  ASSERT_TRUE(rogue.Start().ok());
  options.endpoints = {rogue.address()};
  auto victim = MakeClient(options);
  auto r = victim->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not extend"));
  // Replaying a genuine but older checkpoint of the real service: a rollback.
  rogue.set_fixed_checkpoint(*earlier);
  r = victim->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(absl::StrCat(kFork, "rollback")));
  EXPECT_EQ(TrustedSize(*victim), 5u);
}

TEST_F(VerifiedStateTest, CanBeTurnedOff) {
  client::ClientOptions options = cluster_.Options("reader");
  options.verified_state.enabled = false;
  auto c = MakeClient(options);
  AppendN(6);
  ASSERT_TRUE(c->GetLatestCheckpoint().ok());
  cluster_.server(0).set_latest_size(3);
  auto r = c->GetLatestCheckpoint();
  ASSERT_TRUE(r.ok());  // not checked: the caller opted out
  EXPECT_EQ(r->checkpoint().checkpoint().tree_size(), 3u);
  EXPECT_FALSE(c->TrustedCheckpoint().has_value());
}

}  // namespace
}  // namespace cairn
