// cairnctl's administration commands against a fake node: users, nodes,
// transfer-leader, snapshot and cluster status (also `nodes status` and plain
// `status`); happy paths, refusals (exit 1) and usage errors (exit 2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cairnctl_runner.h"

namespace cairn {
namespace {

using testing::Cairnctl;
using testing::CommandResult;
using ::testing::HasSubstr;

TEST(CairnctlAdminTest, Users) {
  testing::FakeCluster cluster;
  const testing::CertFiles bot = cluster.pki().User("bot");
  CommandResult r = Cairnctl(cluster, {"users", "put", "--cert-file", bot.cert, "--role",
                                       "Contributor", "--description", "release bot"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1.1\n");
  const std::string bot_id = cluster.pki().UserId("bot");
  r = Cairnctl(cluster, {"users", "get", bot_id});
  EXPECT_EQ(r.out, bot_id + "\tcontributor\t\n");  // the fake keeps no descriptions
  r = Cairnctl(cluster, {"users", "list", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["users"].size(), 4u);
  r = Cairnctl(cluster, {"users", "put", "--user-id", bot_id, "--role", "reader", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["txid"], "1.2");
  EXPECT_EQ(Cairnctl(cluster, {"append", "c", "x"}, "bot").exit_code, 1);  // now a reader
  EXPECT_EQ(Cairnctl(cluster, {"users", "remove", bot_id}).out, "1.3\n");
  r = Cairnctl(cluster, {"users", "get", bot_id});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  // Refused: not an administrator.
  r = Cairnctl(cluster, {"users", "list"}, "writer");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
  // Usage: a role that does not exist, no role, both or neither of id and certificate.
  EXPECT_EQ(Cairnctl(cluster, {"users", "put", "--user-id", bot_id, "--role", "owner"}).exit_code,
            2);
  EXPECT_EQ(Cairnctl(cluster, {"users", "put", "--user-id", bot_id}).exit_code, 2);
  EXPECT_EQ(Cairnctl(cluster, {"users", "put", "--role", "reader"}).exit_code, 2);
  EXPECT_EQ(Cairnctl(cluster, {"users", "put", "--role", "reader", "--user-id", bot_id,
                               "--cert-file", bot.cert})
                .exit_code,
            2);
  EXPECT_EQ(Cairnctl(cluster, {"users"}).exit_code, 2);
}

TEST(CairnctlAdminTest, NodesLeadershipSnapshotAndStatus) {
  testing::FakeCluster cluster;
  const testing::CertFiles node4 = cluster.pki().Node(4);
  CommandResult r = Cairnctl(
      cluster, {"nodes", "add-learner", "--node-id", "4", "--peer-address", "127.0.0.1:7204",
                "--client-address", "127.0.0.1:7104", "--cert-file", node4.cert});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1.1\n");
  EXPECT_EQ(Cairnctl(cluster, {"nodes", "promote", "4"}).out, "1.2\n");
  r = Cairnctl(cluster, {"nodes", "promote", "2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_EQ(Cairnctl(cluster, {"nodes", "remove", "--node-id", "4"}).out, "1.3\n");
  EXPECT_EQ(Cairnctl(cluster, {"nodes", "remove", "9"}).exit_code, 1);
  EXPECT_EQ(Cairnctl(cluster, {"nodes", "add-learner", "--node-id", "4"}).exit_code, 2);
  EXPECT_EQ(
      Cairnctl(cluster, {"nodes", "add-learner", "--node-id", "5", "--peer-address", "a:1",
                         "--client-address", "a:2", "--cert-file", cluster.dir() + "/missing.pem"})
          .exit_code,
      2);

  r = Cairnctl(cluster, {"transfer-leader", "--to", "3"});
  EXPECT_EQ(r.out, "node 3 leads in term 2\n");
  r = Cairnctl(cluster, {"transfer-leader", "--to", "7"});
  EXPECT_EQ(r.exit_code, 1);
  r = Cairnctl(cluster, {"snapshot", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["snapshot_index"], 3);
  r = Cairnctl(cluster, {"snapshot", "--node", cluster.server(0).address()});
  EXPECT_EQ(r.out, "snapshot at index 3\n");
  EXPECT_EQ(Cairnctl(cluster, {"snapshot"}, "reader").exit_code, 1);

  r = Cairnctl(cluster, {"cluster", "status"}, "reader");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("leader node 1"));
  EXPECT_THAT(r.out, HasSubstr("node 1\tLEADER\tVOTER\t" + cluster.server(0).address()));
  nlohmann::json j = nlohmann::json::parse(Cairnctl(cluster, {"nodes", "status", "--json"}).out);
  EXPECT_EQ(j["leader_id"], 1);
  EXPECT_EQ(j["nodes"][0]["role"], "LEADER");
  EXPECT_EQ(Cairnctl(cluster, {"cluster", "status"}, "stranger").exit_code, 1);

  // Plain `status` (no TXID) is the same command, text and JSON.
  const CommandResult text = Cairnctl(cluster, {"cluster", "status"}, "reader");
  r = Cairnctl(cluster, {"status"}, "reader");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, text.out);
  r = Cairnctl(cluster, {"status", "--json"}, "reader");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json::parse(Cairnctl(cluster, {"cluster", "status", "--json"}).out));
  EXPECT_EQ(Cairnctl(cluster, {"status"}, "stranger").exit_code, 1);
  r = Cairnctl(cluster, {"status", "--wait"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("needs a TXID"));
}

}  // namespace
}  // namespace cairn
