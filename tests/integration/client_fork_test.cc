// Verified client state against a real cluster and a rogue node. The rogue is
// a fake node (tests/unit/client/fake_server.h) holding a genuine node
// certificate issued by the cluster's service identity (as a compromised or
// misconfigured member would), so everything it signs passes the signature
// check; what gives it away is that its history does not extend the one the
// client verified on the real cluster. The client remembers that history in
// a state file, as cairnctl --state-file does, so the detection works across
// processes too:
//   fork:      the rogue's own ledger (a longer one, and one of the same size)
//   rollback:  the rogue replays a genuine, older checkpoint of the real cluster
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "client_cluster_fixture.h"
#include "fake_ledger.h"
#include "fake_server.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kFork[] = "ledger fork or rollback detected: ";

TEST_F(ClientClusterTest, RogueNodeServingAForkOrARollbackIsDetected) {
  const std::string state = tmp_.path() + "/client-state.json";
  client::ClientOptions options = Options();
  options.verified_state.state_file = state;
  auto honest = MakeClient(options);
  // Two genuine checkpoints of the real cluster, the second one trusted.
  client::ReceiptOptions wait;
  wait.wait = true;
  auto first = honest->Append("records", "one");
  ASSERT_TRUE(first.ok()) << first.status();
  {
    auto receipt = honest->GetReceipt(first->txid, wait);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
  }
  auto earlier = honest->GetLatestCheckpoint();
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(honest->Append("records", absl::StrCat("r", i)).ok());
  auto last = honest->Append("records", "last");
  ASSERT_TRUE(last.ok());
  {
    auto receipt = honest->GetReceipt(last->txid, wait);
    ASSERT_TRUE(receipt.ok()) << receipt.status();
  }
  auto trusted = honest->GetLatestCheckpoint();
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  const uint64_t size = trusted->checkpoint().checkpoint().tree_size();
  ASSERT_GT(size, earlier->checkpoint().checkpoint().tree_size());
  honest.reset();

  // The rogue: node 9's genuine certificate, its own history, longer than the real one.
  const CertFiles node9 = cluster_->pki().Node(9);
  FakeLedger rogue_ledger(cluster_->pki().service_cert(), node9.cert, node9.key, 9, 7);
  rogue_ledger.PutUser(cluster_->pki().UserId("admin"), v1::ROLE_ADMINISTRATOR);
  for (uint64_t i = 0; i < size + 3; ++i) {
    v1::AppendRequest request;
    request.set_collection_id("records");
    request.set_contents(absl::StrCat("rewritten history ", i));
    ASSERT_TRUE(rogue_ledger.Append(request, cluster_->pki().UserId("admin")).ok());
  }
  FakeServer rogue(&rogue_ledger, node9.cert, node9.key, cluster_->pki().service_cert());
  ASSERT_TRUE(rogue.Start().ok());
  client::ClientOptions victim_options = options;
  victim_options.endpoints = {rogue.address()};
  auto victim = MakeClient(victim_options);  // a later run, same state file
  ASSERT_EQ(victim->TrustedCheckpoint()->checkpoint().checkpoint().tree_size(), size);

  auto r = victim->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(kFork));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not extend"));
  // Its receipts carry the same forked checkpoints.
  auto receipt = victim->GetReceipt(absl::StrCat("7.", size + 3));
  EXPECT_EQ(receipt.status().code(), absl::StatusCode::kDataLoss);

  // A fork of the same size as the trusted checkpoint: another root.
  rogue.set_latest_size(size);
  r = victim->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("same size differ"));

  // A rollback: the real cluster's own, genuinely signed, older checkpoint.
  rogue.set_fixed_checkpoint(*earlier);
  r = victim->GetLatestCheckpoint();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(absl::StrCat(kFork, "rollback")));

  // cairnctl with the same state file says so too, with exit code 1.
  const CertFiles admin = cluster_->pki().User("admin");
  CommandResult cli =
      RunCommand({BinaryPath("client/cairnctl"), "checkpoint", "--endpoint=" + rogue.address(),
                  "--state-file=" + state, "--cert=" + admin.cert, "--key=" + admin.key,
                  "--service-cert=" + cluster_->pki().service_cert()});
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_THAT(cli.err, HasSubstr("DATA_LOSS: ledger fork or rollback detected"));

  // Nothing the rogue said moved the trusted checkpoint; the real cluster still verifies.
  EXPECT_EQ(victim->TrustedCheckpoint()->checkpoint().checkpoint().tree_size(), size);
  auto back = MakeClient(options);
  EXPECT_TRUE(back->GetLatestCheckpoint().ok());
}

}  // namespace
}  // namespace cairn::testing
