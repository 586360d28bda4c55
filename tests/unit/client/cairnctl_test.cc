// cairnctl's data and proof commands against fake nodes: each command's
// happy path, its error paths with the documented exit codes (1 refused or
// failed, 2 usage, 3 unreachable), --json, --help on every command, and
// settings from environment variables and a config file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cairn/client/verify.h"
#include "cairnctl_runner.h"

namespace cairn {
namespace {

using testing::Cairnctl;
using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CairnctlTest : public ::testing::Test {
 protected:
  CommandResult Run(const std::vector<std::string>& args, const std::string& user = "admin",
                    const std::string& stdin_data = "") {
    return Cairnctl(cluster_, args, user, stdin_data);
  }
  nlohmann::json Json(const CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  std::string File(const std::string& name, const std::string& contents) {
    const std::string path = cluster_.dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  testing::FakeCluster cluster_;
};

TEST_F(CairnctlTest, AppendFromArgumentStdinAndFileThenGet) {
  CommandResult r = Run({"append", "orders", "first"}, "writer");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1.1 COMMITTED\n");
  r = Run({"append", "orders", "-"}, "writer", "from stdin");
  EXPECT_EQ(r.out, "1.2 COMMITTED\n");
  r = Run({"append", "orders", "--file", File("doc.txt", "from a file")}, "writer");
  EXPECT_EQ(r.out, "1.3 COMMITTED\n");
  nlohmann::json j =
      Json(Run({"append", "orders", "x", "--json", "--idempotency-key=k1"}, "writer"));
  EXPECT_EQ(j["txid"], "1.4");
  EXPECT_EQ(j["status"], "COMMITTED");
  EXPECT_EQ(j["duplicate"], false);
  EXPECT_EQ(j["idempotency_key"], "k1");
  r = Run({"append", "orders", "x", "--idempotency-key=k1"}, "writer");
  EXPECT_EQ(r.out, "1.4 COMMITTED (duplicate)\n");

  EXPECT_EQ(Run({"get", "1.1"}).out, "first\n");
  EXPECT_EQ(Run({"get", "1.2"}).out, "from stdin\n");
  j = Json(Run({"get", "1.3", "--json"}));
  EXPECT_EQ(j["contents_hex"], "66726f6d20612066696c65");
  EXPECT_EQ(j["user_id"], cluster_.pki().UserId("writer"));
  const std::string out = cluster_.dir() + "/out.bin";
  r = Run({"get", "1.3", "--output", out});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(testing::ReadFileOrEmpty(out), "from a file");
}

TEST_F(CairnctlTest, AppendErrorsHaveTheirExitCodes) {
  CommandResult r = Run({"append", "orders", "x"}, "reader");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
  r = Run({"append", "", "x"}, "writer");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  r = Run({"append", "orders", "x", "--json"}, "reader");
  EXPECT_EQ(nlohmann::json::parse(r.out)["error"], "PERMISSION_DENIED");
  // Usage errors: exit 2, nothing sent.
  EXPECT_EQ(Run({"append", "orders"}, "writer").exit_code, 2);
  r = Run({"append", "orders", "x", "--claims-digest", "zz"}, "writer");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--claims-digest"));
  EXPECT_EQ(Run({"append", "orders", "x", "--claims-digest", "abcd"}, "writer").exit_code, 2);
  EXPECT_EQ(Run({"append", "orders", "--file", cluster_.dir() + "/missing"}, "writer").exit_code,
            2);
  EXPECT_EQ(Run({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(cluster_.server(0).calls("Append"), 3);
  // Unreachable: exit 3, quickly.
  const std::string dead = "127.0.0.1:" + std::to_string(testing::PickFreePort());
  r = Cairnctl(cluster_,
               {"append", "orders", "x", "--timeout-ms=" + std::to_string(testing::ScaledMs(500))},
               "writer", "", {dead});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));
  // Credentials that cannot be read: usage error.
  r = testing::RunCommand({testing::CairnctlBinary(), "get", "1.1", "--endpoint", dead, "--cert",
                           "/nonexistent.pem", "--key", "/nonexistent.key", "--service-cert",
                           cluster_.pki().service_cert()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.pem"));
}

TEST_F(CairnctlTest, ReadCommands) {
  for (int i = 0; i < 5; ++i) Run({"append", "a", "entry " + std::to_string(i)}, "writer");
  Run({"append", "b", "other", "--claims-digest", std::string(64, 'c')}, "writer");

  EXPECT_EQ(Run({"current", "a"}).out, "entry 4\n");
  EXPECT_EQ(Json(Run({"current", "b", "--json", "--local"}))["claims_digest"],
            std::string(64, 'c'));
  EXPECT_EQ(Run({"current", "zzz"}).exit_code, 1);

  CommandResult r = Run({"list", "a", "--page-size", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("1.1\t"));
  EXPECT_THAT(r.out, HasSubstr("7 bytes\tentry 4\n"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5);
  r = Run({"list", "a", "--json", "--limit", "3", "--no-contents"});
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);  // JSON Lines
  EXPECT_FALSE(nlohmann::json::parse(r.out.substr(0, r.out.find('\n'))).contains("contents_hex"));

  r = Run({"collections"});
  EXPECT_EQ(r.out, "a\t5 entries\t1.1..1.5\nb\t1 entries\t1.6..1.6\n");
  EXPECT_EQ(Json(Run({"collections", "--json"}))["collections"].size(), 2u);

  EXPECT_EQ(Run({"status", "1.3"}).out, "COMMITTED (commit index 6)\n");
  EXPECT_EQ(Run({"status", "1.99"}).out, "UNKNOWN (commit index 6)\n");
  EXPECT_EQ(Json(Run({"status", "1.2", "--json"}))["status"], "COMMITTED");
  EXPECT_EQ(Run({"status", "1.3", "--wait"}).out, "COMMITTED\n");
  r = Run({"status", "2.3", "--wait"});
  EXPECT_EQ(r.exit_code, 1);  // INVALID: it will never commit
  EXPECT_EQ(r.out, "INVALID\n");
  r = Run(
      {"status", "1.99", "--wait", "--wait-timeout-ms", std::to_string(testing::ScaledMs(200))});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("still TRANSACTION_STATUS_UNKNOWN"));
  EXPECT_EQ(Run({"status", "garbage"}).exit_code, 1);
}

TEST_F(CairnctlTest, ReceiptCheckpointConsistencyAndIdentity) {
  const std::string claims = File("claims.json", R"({"approved":true})");
  Run({"append", "c", "one", "--claims-file", claims}, "writer");
  Run({"append", "c", "two"}, "writer");
  const std::string receipt_file = cluster_.dir() + "/r.json";
  CommandResult r = Run({"receipt", "get", "1.1", "--output", receipt_file, "--claims-file", claims,
                         "--contents-file", File("one.txt", "one")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("receipt for 1.1 (collection c) verified"));
  auto saved = client::ReadReceiptFile(receipt_file);
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_TRUE(client::VerifyReceipt(*saved, testing::ReadFileOrEmpty(cluster_.pki().service_cert()),
                                    {.claims_digest = client::ClaimsDigest(R"({"approved":true})")})
                  .ok());
  r = Run({"receipt", "get", "1.2", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["leaf"]["txid"], "1.2");
  r = Run({"receipt", "get", "1.2", "--contents-file", File("wrong.txt", "not two")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("does not prove what was expected"));
  EXPECT_EQ(Run({"receipt", "get", "1.9"}).exit_code, 1);
  EXPECT_EQ(Run({"receipt", "get"}).exit_code, 2);

  r = Run({"checkpoint"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("tree size 2\n"));
  EXPECT_THAT(r.out, HasSubstr("verified"));
  nlohmann::json j = Json(Run({"checkpoint", "--json"}));
  EXPECT_EQ(j["tree_size"], 2);
  EXPECT_EQ(j["last_txid"], "1.2");

  j = Json(Run({"consistency", "1", "2", "--json"}));
  EXPECT_EQ(j["hashes"].size(), 1u);
  EXPECT_THAT(Run({"consistency", "1"}).out, HasSubstr("from tree size 1 to 2: 1 hashes"));
  EXPECT_EQ(Run({"consistency", "3", "9"}).exit_code, 1);
  EXPECT_EQ(Run({"consistency", "0"}).exit_code, 2);

  const std::string pem = cluster_.dir() + "/served.pem";
  r = Run({"identity", "--output", pem});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node 1 certificate"));
  EXPECT_EQ(testing::ReadFileOrEmpty(pem), testing::ReadFileOrEmpty(cluster_.pki().service_cert()));
  EXPECT_EQ(Json(Run({"identity", "--json"}))["matches_pinned"], true);
}

// A node serving another service's identity: exit 1, and --output is not
// written (nor anything beside it), so nobody pins the wrong certificate.
TEST_F(CairnctlTest, IdentityWritesNothingWhenTheServedCertificateIsNotThePinnedOne) {
  std::filesystem::create_directory(cluster_.dir() + "/other");
  testing::TestPki other(cluster_.dir() + "/other");
  const testing::CertFiles node = other.Node(1);
  testing::FakeLedger foreign(other.service_cert(), node.cert, node.key, 1);
  cluster_.server(0).set_ledger(&foreign);
  const std::string out_dir = cluster_.dir() + "/saved";
  std::filesystem::create_directory(out_dir);
  const std::string pem = out_dir + "/served.pem";
  CommandResult r = Cairnctl(cluster_, {"identity", "--output", pem}, "admin", "",
                             {cluster_.server(0).address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not the pinned one; --output not written"));
  EXPECT_THAT(r.out, HasSubstr("answered by node 1"));  // what is served is still shown
  r = Cairnctl(cluster_, {"identity", "--output", pem, "--json"}, "admin", "",
               {cluster_.server(0).address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(r.out)["matches_pinned"], false);
  EXPECT_TRUE(std::filesystem::is_empty(out_dir));
  // An earlier, good file is left as it was.
  cluster_.server(0).set_ledger(&cluster_.ledger());
  ASSERT_EQ(Run({"identity", "--output", pem}).exit_code, 0);
  cluster_.server(0).set_ledger(&foreign);
  EXPECT_EQ(Run({"identity", "--output", pem}).exit_code, 1);
  EXPECT_EQ(testing::ReadFileOrEmpty(pem), testing::ReadFileOrEmpty(cluster_.pki().service_cert()));
  cluster_.server(0).set_ledger(&cluster_.ledger());
  // Written atomically: no temporary file stays beside it.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(out_dir)) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::ElementsAre("served.pem"));
  // An --output that cannot be written: exit 1, with the reason.
  r = Run({"identity", "--output", cluster_.dir() + "/no/such/dir/served.pem"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--output: "));
}

TEST_F(CairnctlTest, StateFileMakesLaterRunsDetectARollback) {
  for (int i = 0; i < 4; ++i) Run({"append", "c", "x" + std::to_string(i)}, "writer");
  const std::string state = "--state-file=" + cluster_.dir() + "/state.json";
  EXPECT_EQ(Run({"checkpoint", state}).exit_code, 0);
  cluster_.server(0).set_latest_size(2);
  CommandResult r = Run({"checkpoint", state});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("DATA_LOSS: ledger fork or rollback detected: rollback"));
  // Without the state file a fresh run has nothing to compare with.
  EXPECT_EQ(Run({"checkpoint"}).exit_code, 0);
  // --no-verify opts out even with the file.
  EXPECT_EQ(Run({"checkpoint", state, "--no-verify"}).exit_code, 0);
}

TEST_F(CairnctlTest, SettingsComeFromFlagsThenEnvironmentThenConfigFile) {
  Run({"append", "c", "hello"}, "writer");
  const testing::CertFiles reader = cluster_.pki().User("reader");
  const std::string dead = "127.0.0.1:" + std::to_string(testing::PickFreePort());
  const std::string config =
      File("cairnctl.yaml",
           "endpoint: [" + dead + "]\ncert: " + reader.cert + "\nkey: " + reader.key +
               "\nservice_cert: " + cluster_.pki().service_cert() + "\ntimeout_ms: 3000\n");
  const std::string bin = testing::CairnctlBinary();
  // The file alone: its endpoint is dead.
  CommandResult r = testing::RunCommand({bin, "get", "1.1", "--config", config});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // The environment wins over the file.
  r = testing::RunCommand({"/usr/bin/env", "CAIRN_ENDPOINT=" + cluster_.server(0).address(), bin,
                           "get", "1.1", "--config", config});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  // A flag wins over the environment.
  r = testing::RunCommand({"/usr/bin/env", "CAIRN_ENDPOINT=" + cluster_.server(0).address(), bin,
                           "get", "1.1", "--config", config, "--endpoint", dead});
  EXPECT_EQ(r.exit_code, 3);
  // Everything from the environment, including the config file's name.
  r = testing::RunCommand({"/usr/bin/env", "CAIRN_CONFIG=" + config,
                           "CAIRN_ENDPOINT=" + cluster_.server(0).address(), "CAIRN_JSON=1", bin,
                           "get", "1.1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["txid"], "1.1");
  // A config key that names no flag is a usage error.
  r = testing::RunCommand({bin, "get", "1.1", "--config", File("bad.yaml", "endpoints: x\n")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown config field 'endpoints'"));
}

// The subcommand names a --help text lists under "Subcommands:".
std::vector<std::string> SubcommandsIn(const std::string& help) {
  std::vector<std::string> names;
  const size_t at = help.find("\nSubcommands:\n");
  if (at == std::string::npos) return names;
  std::istringstream lines(help.substr(at + 14));
  std::string line;
  // Entries are "  name   description"; wrapped descriptions are indented further.
  while (std::getline(lines, line) && !line.empty()) {
    if (line.size() > 2 && line.rfind("  ", 0) == 0 && line[2] != ' ') {
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return names;
}

// Every command, found by walking the help texts from the top, has --help
// (exit 0, a usage line and its own options), so none can be left out.
TEST(CairnctlHelpTest, EveryCommandHasHelp) {
  std::set<std::string> seen;
  std::vector<std::vector<std::string>> pending = {{}};
  while (!pending.empty()) {
    std::vector<std::string> command = pending.back();
    pending.pop_back();
    std::string name = "cairnctl";
    for (const std::string& part : command) name += " " + part;
    std::vector<std::string> argv = {testing::CairnctlBinary()};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.push_back("--help");
    const CommandResult r = testing::RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr("Usage: " + name)) << name;
    EXPECT_THAT(r.out, HasSubstr("-h,--help")) << name;
    seen.insert(name);
    for (const std::string& sub : SubcommandsIn(r.out)) {
      std::vector<std::string> next = command;
      next.push_back(sub);
      pending.push_back(next);
    }
  }
  // The walk found every command the docs name (docs/cli.md).
  for (const char* command : {
           "cairnctl append",
           "cairnctl get",
           "cairnctl current",
           "cairnctl list",
           "cairnctl collections",
           "cairnctl status",
           "cairnctl receipt get",
           "cairnctl receipt verify",
           "cairnctl checkpoint",
           "cairnctl consistency",
           "cairnctl identity",
           "cairnctl proof root",
           "cairnctl proof inclusion",
           "cairnctl proof consistency",
           "cairnctl proof verify-inclusion",
           "cairnctl proof verify-consistency",
           "cairnctl audit",
           "cairnctl users put",
           "cairnctl users remove",
           "cairnctl users get",
           "cairnctl users list",
           "cairnctl nodes add-learner",
           "cairnctl nodes promote",
           "cairnctl nodes remove",
           "cairnctl nodes status",
           "cairnctl transfer-leader",
           "cairnctl snapshot",
           "cairnctl cluster status",
           "cairnctl certs create-service",
           "cairnctl certs create-node",
           "cairnctl certs create-user",
           "cairnctl certs fingerprint",
       }) {
    EXPECT_TRUE(seen.count(command)) << command << " was not reached from cairnctl --help";
  }
  // The top-level help documents the exit codes.
  const CommandResult r = testing::RunCommand({testing::CairnctlBinary(), "--help"});
  EXPECT_THAT(r.out, HasSubstr("3 no node reachable"));
}

}  // namespace
}  // namespace cairn
