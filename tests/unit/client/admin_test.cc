// The SDK's administration calls against a fake node: each happy path, role
// checks, and which governance calls are retried after an ambiguous failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/client/client.h"
#include "fake_cluster.h"
#include "testing/process.h"

namespace cairn {
namespace {

using client::Client;
using ::testing::HasSubstr;

std::unique_ptr<Client> MakeClient(client::ClientOptions options) {
  auto c = Client::Create(std::move(options));
  CAIRN_CHECK_OK(c.status());
  return *std::move(c);
}

TEST(AdminTest, UsersCanBeAddedListedAndRemoved) {
  testing::FakeCluster cluster(2);
  auto admin = MakeClient(cluster.Options("admin", {cluster.server(1).address()}));
  v1::User bot;
  bot.set_role(v1::ROLE_CONTRIBUTOR);
  bot.set_description("release-bot");
  auto txid = admin->PutUser(bot, testing::ReadFileOrEmpty(cluster.pki().User("bot").cert));
  ASSERT_TRUE(txid.ok()) << txid.status();
  EXPECT_EQ(*txid, "1.1");
  EXPECT_EQ(admin->LeaderHint(), cluster.server(0).address());  // governance went to the leader

  const std::string bot_id = cluster.pki().UserId("bot");
  auto user = admin->GetUser(bot_id);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->role(), v1::ROLE_CONTRIBUTOR);
  auto users = admin->ListUsers();
  ASSERT_TRUE(users.ok());
  EXPECT_EQ(users->size(), 4u);  // admin, writer, reader and the bot

  // The new user can append now.
  auto bot_client = MakeClient(cluster.Options("bot"));
  EXPECT_TRUE(bot_client->Append("releases", "v1").ok());

  auto removed = admin->RemoveUser(bot_id);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(admin->GetUser(bot_id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(admin->RemoveUser(bot_id).status().code(), absl::StatusCode::kNotFound);
}

TEST(AdminTest, MembershipLeadershipSnapshotAndStatus) {
  testing::FakeCluster cluster;
  auto admin = MakeClient(cluster.Options("admin"));
  v1::NodeInfo learner;
  learner.set_node_id(4);
  learner.set_peer_address("127.0.0.1:7204");
  learner.set_client_address("127.0.0.1:7104");
  learner.set_certificate_pem(testing::ReadFileOrEmpty(cluster.pki().Node(4).cert));
  EXPECT_TRUE(admin->AddLearner(learner).ok());
  EXPECT_TRUE(admin->PromoteLearner(4).ok());
  EXPECT_EQ(admin->PromoteLearner(2).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(admin->RemoveNode(4).ok());
  EXPECT_EQ(admin->RemoveNode(9).status().code(), absl::StatusCode::kNotFound);

  auto transfer = admin->TransferLeadership(3);
  ASSERT_TRUE(transfer.ok());
  EXPECT_EQ(transfer->new_leader_id(), 3u);
  EXPECT_EQ(admin->LeaderHint(), "");  // rediscovered on the next write

  auto snapshot = admin->TriggerSnapshot();
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->snapshot_index(), 3u);
  auto status = admin->GetClusterStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->nodes_size(), 1);
  EXPECT_EQ(status->nodes(0).role(), v1::RAFT_ROLE_LEADER);
}

TEST(AdminTest, OnlyAdministratorsAdminister) {
  testing::FakeCluster cluster;
  auto writer = MakeClient(cluster.Options("writer"));
  v1::User u;
  u.set_user_id(std::string(64, 'a'));
  u.set_role(v1::ROLE_READER);
  EXPECT_EQ(writer->PutUser(u).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(writer->ListUsers().status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(writer->TriggerSnapshot().status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(writer->GetClusterStatus().ok());  // any known user
}

TEST(AdminTest, AmbiguousFailuresAreRetriedOnlyForIdempotentChanges) {
  testing::FakeCluster cluster;
  auto admin = MakeClient(cluster.Options("admin"));
  // A timed-out RemoveUser (OUTCOME_UNKNOWN) may have been applied: it is
  // not repeated, and says so.
  cluster.server(0).FailNext(1, grpc::StatusCode::DEADLINE_EXCEEDED, "RemoveUser");
  absl::Status unknown = admin->RemoveUser(cluster.pki().UserId("reader")).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client::ReasonOf(unknown), client::ErrorReason::kOutcomeUnknown);
  EXPECT_TRUE(client::MayHaveBeenWritten(unknown));
  EXPECT_EQ(cluster.server(0).calls("RemoveUser"), 1);
  // PutUser sets a role: repeating it is harmless.
  cluster.server(0).FailNext(1, grpc::StatusCode::DEADLINE_EXCEEDED, "PutUser");
  v1::User u;
  u.set_user_id(cluster.pki().UserId("reader"));
  u.set_role(v1::ROLE_CONTRIBUTOR);
  EXPECT_TRUE(admin->PutUser(u).ok());
  EXPECT_EQ(cluster.server(0).calls("PutUser"), 2);
  // Refusals ("not written" reasons) are retried for every change.
  testing::Fault no_leader;
  no_leader.reason = v1::ERROR_REASON_NO_LEADER;
  no_leader.method = "RemoveUser";
  cluster.server(0).Fail(2, no_leader);
  EXPECT_TRUE(admin->RemoveUser(cluster.pki().UserId("reader")).ok());
  EXPECT_EQ(cluster.server(0).calls("RemoveUser"), 4);
  // A broken connection (no details: gRPC's own UNAVAILABLE) may have
  // delivered the change: not repeated either.
  testing::Fault broken;
  broken.bare = true;
  broken.method = "RemoveUser";
  broken.message = "Socket closed";
  cluster.server(0).Fail(1, broken);
  absl::Status lost = admin->RemoveUser(cluster.pki().UserId("writer")).status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client::ReasonOf(lost), client::ErrorReason::kOutcomeUnknown) << lost;
  EXPECT_EQ(cluster.server(0).calls("RemoveUser"), 5);
}

TEST(AdminTest, SnapshotGoesToTheNamedNodeOnly) {
  testing::FakeCluster cluster(2);
  auto admin = MakeClient(cluster.Options("admin"));
  ASSERT_TRUE(admin->TriggerSnapshot(cluster.server(1).address()).ok());
  EXPECT_EQ(cluster.server(1).calls("TriggerSnapshot"), 1);
  EXPECT_EQ(cluster.server(0).calls("TriggerSnapshot"), 0);
  // A leader hint from the named node is not followed.
  testing::Fault not_leader;
  not_leader.reason = v1::ERROR_REASON_NOT_LEADER;
  not_leader.metadata = {{"leader_address", cluster.server(0).address()}};
  not_leader.method = "TriggerSnapshot";
  not_leader.hint = cluster.server(0).address();
  cluster.server(1).Fail(100, not_leader);
  client::ClientOptions options = cluster.Options("admin");
  options.retry.total_timeout_ms = 300;
  auto impatient = MakeClient(options);
  absl::Status refused = impatient->TriggerSnapshot(cluster.server(1).address()).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client::ReasonOf(refused), client::ErrorReason::kNotLeader);
  EXPECT_GE(cluster.server(1).calls("TriggerSnapshot"), 3);  // retried there, after backoffs
  EXPECT_EQ(cluster.server(0).calls("TriggerSnapshot"), 0);
}

}  // namespace
}  // namespace cairn
