// cairnctl end to end against a real three-node cluster: every command's
// happy path and an error path, with the documented exit codes (0 ok, 1
// refused or failed, 2 usage, 3 unreachable).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/identity.h"
#include "client_cluster_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CairnctlClusterTest : public ClientClusterTest {
 protected:
  std::string File(const std::string& name, const std::string& contents) {
    const std::string path = tmp_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  // The txid cairnctl append printed.
  std::string Append(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    std::vector<std::string> argv = {"append"};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = Cairnctl(argv, "admin", stdin_data);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find(' '));
  }
};

TEST_F(CairnctlClusterTest, DataAndProofCommands) {
  AddUser("auditor", v1::ROLE_READER);
  const std::string t1 = Append({"orders", "first"});
  const std::string t2 = Append({"orders", "-"}, "from stdin");
  const std::string claims = File("claims.json", R"({"po":"4711"})");
  const std::string t3 =
      Append({"orders", "--file", File("third.txt", "third"), "--claims-file", claims});
  EXPECT_EQ(Cairnctl({"append", "orders", "x"}, "auditor").exit_code, 1);  // a Reader

  CommandResult r = Cairnctl({"get", t1}, "auditor");
  EXPECT_EQ(r.out, "first\n") << r.err;
  EXPECT_EQ(Cairnctl({"get", "1.999999"}).exit_code, 1);
  // Asked of any one node, the leader or a follower, a txid beyond the
  // ledger is NOT_FOUND (exit 1) at once; a follower used to wait out its
  // deadline and end UNAVAILABLE (exit 3).
  for (uint64_t id = 1; id <= 3; ++id) {
    r = cluster_->node(id).Cairnctl({"get", "1.999999"});
    EXPECT_EQ(r.exit_code, 1) << "node " << id << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("is not in the ledger")) << "node " << id;
    // And so is its receipt, with or without --wait (it used to say that no
    // signature covers it yet, or wait for one).
    for (const bool wait : {false, true}) {
      std::vector<std::string> args = {"receipt", "get", "1.999999"};
      if (wait) args.push_back("--wait");
      r = cluster_->node(id).Cairnctl(args);
      EXPECT_EQ(r.exit_code, 1) << "node " << id << " wait " << wait << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr("is not in the ledger")) << "node " << id << " wait " << wait;
    }
  }
  r = Cairnctl({"current", "orders"});
  EXPECT_EQ(r.out, "third\n") << r.err;
  EXPECT_EQ(Cairnctl({"current", "no-such-collection"}).exit_code, 1);
  r = Cairnctl({"list", "orders", "--page-size", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3);
  EXPECT_EQ(Cairnctl({"list", "orders", "--from", "not-a-txid"}).exit_code, 1);
  r = Cairnctl({"collections", "--json"});
  uint64_t orders = 0;
  const nlohmann::json collections = nlohmann::json::parse(r.out);
  for (const auto& c : collections["collections"]) {
    if (c["collection_id"] == "orders") orders = c["entry_count"];
  }
  EXPECT_EQ(orders, 3u) << r.out << r.err;

  EXPECT_THAT(Cairnctl({"status", t2}).out, StartsWith("COMMITTED"));
  EXPECT_EQ(Cairnctl({"status", t3, "--wait"}).exit_code, 0);
  EXPECT_EQ(Cairnctl({"status", "x.y"}).exit_code, 1);

  const std::string receipt = tmp_.path() + "/r3.json";
  r = Cairnctl({"receipt", "get", t3, "--wait", "--output", receipt, "--claims-file", claims,
                "--contents-file", File("third-again.txt", "third")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The offline command needs no node, only the service certificate.
  r = RunCommand({BinaryPath("client/cairnctl"), "receipt", "verify", "--receipt", receipt,
                  "--service-cert", cluster_->pki().service_cert()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = Cairnctl({"receipt", "get", t3, "--wait", "--contents-file", File("no.txt", "not it")});
  EXPECT_EQ(r.exit_code, 1);

  r = Cairnctl({"checkpoint", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const uint64_t size = nlohmann::json::parse(r.out)["tree_size"];
  EXPECT_GE(size, 3u);
  EXPECT_EQ(Cairnctl({"consistency", "1"}).exit_code, 0);
  EXPECT_EQ(Cairnctl({"consistency", "1", absl::StrCat(size + 1000)}).exit_code, 1);
  r = Cairnctl({"identity", "--json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)["matches_pinned"], true);
  EXPECT_GE(nlohmann::json::parse(r.out)["nodes"].size(), 1u);

  // Usage and unreachable.
  EXPECT_EQ(Cairnctl({"append"}).exit_code, 2);
  const CertFiles admin = cluster_->pki().User("admin");
  r = RunCommand({BinaryPath("client/cairnctl"), "get", t1,
                  "--endpoint=127.0.0.1:" + std::to_string(PickFreePort()), "--cert=" + admin.cert,
                  "--key=" + admin.key, "--service-cert=" + cluster_->pki().service_cert(),
                  "--timeout-ms=1000"});
  EXPECT_EQ(r.exit_code, 3);
}

// What a user sees at a terminal: cairnctl run under script(1), which gives
// it a pseudo-terminal for stdout and stderr (both come back in `out`).
CommandResult OnTerminal(const std::vector<std::string>& argv) {
  std::string command;
  for (const std::string& arg : argv) {
    std::string quoted = "'";
    for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    absl::StrAppend(&command, command.empty() ? "" : " ", quoted, "'");
  }
  return RunCommand({"/usr/bin/script", "-qec", command, "/dev/null"});
}

// On an idle ledger no signature interval ever covers the newest signature
// transaction (a signature over nothing but a signature is never due), so
// `receipt get --wait` of it used to time out and exit 3. A leader now signs
// for a reader waiting on it, and a follower forwards the wait there.
TEST_F(CairnctlClusterTest, TheNewestSignatureOfAnIdleLedgerGetsAReceipt) {
  const std::string txid = Append({"orders", "idle"});
  CommandResult r = Cairnctl({"receipt", "get", txid, "--wait", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string newest = nlohmann::json::parse(r.out)["checkpoint"]["signature_txid"];
  for (uint64_t id = 1; id <= 3; ++id) {  // the leader and both followers, in some order
    r = cluster_->node(id).Cairnctl(
        {"receipt", "get", newest, "--wait", "--wait-timeout-ms", "5000", "--json"});
    ASSERT_EQ(r.exit_code, 0) << "node " << id << ", signature " << newest << ": " << r.err;
    const nlohmann::json receipt = nlohmann::json::parse(r.out);
    EXPECT_EQ(receipt["leaf"]["txid"], newest);
    EXPECT_EQ(receipt["leaf"]["kind"], "signature");
    // The signature that covers it is now the newest, and nothing else was
    // appended: it covers exactly the entries up to the one asked for.
    const std::string next = receipt["checkpoint"]["signature_txid"];
    EXPECT_EQ(receipt["checkpoint"]["checkpoint"]["last_txid"], newest);
    newest = next;
  }
}

// `identity` listed only the answering node's certificate: the initial
// members have none on record. Each is now asked for its own.
TEST_F(CairnctlClusterTest, IdentityListsEveryMembersCertificate) {
  std::map<uint64_t, std::string> expected;
  for (uint64_t id = 1; id <= 3; ++id) {
    expected[id] = ledger::ReadCertificateFile(cluster_->pki().Node(id).cert)->Fingerprint();
  }
  for (uint64_t id = 1; id <= 3; ++id) {
    const CommandResult r = cluster_->node(id).Cairnctl({"identity", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    std::map<uint64_t, std::string> listed;
    for (const auto& n : j["nodes"]) listed[n["node_id"]] = n["certificate_fingerprint"];
    EXPECT_EQ(listed, expected) << "asked node " << id << ": " << r.out;
    EXPECT_TRUE(j["unreachable_node_ids"].empty()) << r.out;
  }
  // A member that is down is named, not silently left out.
  cluster_->node(3).Kill();
  const CommandResult r = cluster_->node(1).Cairnctl({"identity"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node 1 certificate " + expected[1]));
  EXPECT_THAT(r.out, HasSubstr("node 2 certificate " + expected[2]));
  EXPECT_THAT(r.out, HasSubstr("node 3 certificate unknown: it did not answer"));
}

TEST_F(CairnctlClusterTest, ContentsThatAreNotTextAreNotPrintedToATerminal) {
  static const char kBinary[] = "\x1b[2J\x1b]0;owned\x07\x00\xff\xc2\x9b";
  const std::string binary(kBinary, sizeof(kBinary) - 1);
  const std::string text = "caf\xc3\xa9 \u2713\tline\n";
  const std::string binary_txid = Append({"orders", "--file", File("binary.bin", binary)});
  const std::string text_txid = Append({"orders", text});
  const CertFiles admin = cluster_->pki().User("admin");
  auto get = [&](const std::string& txid, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {BinaryPath("client/cairnctl"), "get", txid};
    for (const std::string& e : cluster_->Endpoints()) argv.push_back(e);
    argv.insert(argv.end(), {"--cert=" + admin.cert, "--key=" + admin.key,
                             "--service-cert=" + cluster_->pki().service_cert()});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  CommandResult r = OnTerminal(get(binary_txid));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         binary.size(), " bytes that are not text; not printed to a terminal")));
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "an escape reached the terminal";
  // Asked for: as hex, or into a file, or through a pipe (no terminal).
  r = OnTerminal(get(binary_txid, {"--json"}));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"contents_hex\":\"1b5b324a"));
  const std::string saved = tmp_.path() + "/saved.bin";
  EXPECT_EQ(OnTerminal(get(binary_txid, {"--output", saved})).exit_code, 0);
  std::ifstream in(saved, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), binary);
  r = RunCommand(get(binary_txid));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, binary + "\n");
  // Text, UTF-8 included, prints as before.
  r = OnTerminal(get(text_txid));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("caf\xc3\xa9 \u2713"));
}

// A certificate problem is said in one line, at once for the node's
// certificate (no retries, no gRPC handshake log), and exit 1: the node was
// reached, it is the certificate that is wrong.
TEST_F(CairnctlClusterTest, CertificateProblemsAreNamedInOneLine) {
  std::filesystem::create_directories(tmp_.path() + "/other");
  TestPki other(tmp_.path() + "/other");
  const CertFiles admin = cluster_->pki().User("admin");
  const CertFiles eve = other.User("eve");
  const std::string endpoint = cluster_->node(1).client_address();
  auto get = [&](const CertFiles& user, const std::string& service_cert) {
    return RunCommand({BinaryPath("client/cairnctl"), "get", "1.1", "--endpoint=" + endpoint,
                       "--cert=" + user.cert, "--key=" + user.key, "--service-cert=" + service_cert,
                       "--timeout-ms=" + std::to_string(ScaledMs(3000))});
  };
  CommandResult r = get(admin, other.service_cert());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "cairnctl: UNAUTHENTICATED: the node at " + endpoint +
                       " presented a certificate the pinned service certificate did not issue: "
                       "the service certificate given (--service-cert, CAIRN_SERVICE_CERT) is "
                       "another service's, or " +
                       endpoint +
                       " is not a node of this service (TLS: certificate verify failed)\n");
  r = get(eve, cluster_->pki().service_cert());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("cairnctl: UNAUTHENTICATED: the node at " + endpoint +
                                " refused the client certificate (--cert, CAIRN_CERT): "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(CairnctlClusterTest, AdministrationCommands) {
  const CertFiles bot = cluster_->pki().User("bot");
  CommandResult r = Cairnctl({"users", "put", "--cert-file", bot.cert, "--role", "contributor",
                              "--description", "release bot"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string bot_id = cluster_->pki().UserId("bot");
  EXPECT_THAT(Cairnctl({"users", "get", bot_id}).out, HasSubstr("contributor\trelease bot"));
  EXPECT_THAT(Cairnctl({"users", "list"}).out, HasSubstr(bot_id));
  EXPECT_EQ(Cairnctl({"append", "c", "x"}, "bot").exit_code, 0);
  EXPECT_EQ(Cairnctl({"users", "list"}, "bot").exit_code, 1);  // not an Administrator
  EXPECT_EQ(Cairnctl({"users", "remove", bot_id}).exit_code, 0);
  EXPECT_EQ(Cairnctl({"users", "get", bot_id}).exit_code, 1);
  EXPECT_EQ(Cairnctl({"users", "remove", cluster_->pki().UserId("admin")}).exit_code, 1);

  r = Cairnctl({"cluster", "status", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json status = nlohmann::json::parse(r.out);
  EXPECT_EQ(status["nodes"].size(), 3u);
  // In text, the newest signature and what it covers, in the words receipt
  // errors use ("covers entries up to").
  const uint64_t signature = status["last_signed_index"];
  const uint64_t covered = status["signed_tree_size"];
  ASSERT_GT(signature, 0u);
  EXPECT_LT(covered, signature);
  r = Cairnctl({"cluster", "status"});
  EXPECT_THAT(r.out, ::testing::ContainsRegex("last signature at index [0-9]+ \\(covers "
                                              "entries up to index [0-9]+\\)"))
      << r.out;
  const uint64_t leader = status["leader_id"];
  const uint64_t target = leader == 1 ? 2 : 1;
  r = Cairnctl({"transfer-leader", "--to", std::to_string(target)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith(absl::StrCat("node ", target, " leads")));
  EXPECT_EQ(Cairnctl({"transfer-leader", "--to", "99"}).exit_code, 1);
  r = Cairnctl({"snapshot", "--node", cluster_->node(1).client_address()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("snapshot at index"));
  EXPECT_EQ(Cairnctl({"snapshot", "--node", cluster_->node(1).client_address()}, "bot").exit_code,
            1);

  // A fourth node joins as a learner, is promoted once caught up, and removed.
  NodeProcess& n4 = cluster_->AddNodeObject();
  r = Cairnctl({"nodes", "add-learner", "--node-id", "4", "--peer-address", n4.peer_address(),
                "--client-address", n4.client_address(), "--cert-file",
                cluster_->pki().Node(4).cert});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(cluster_->StartNode(4, {"--join"}).ok());
  ASSERT_TRUE(n4.WaitReady().ok()) << n4.Log();
  ASSERT_TRUE(PollUntil(
                  [&] {
                    return Cairnctl({"nodes", "promote", "4"}).exit_code == 0;
                  },
                  std::chrono::seconds(30), "node 4 to be promoted")
                  .ok());
  EXPECT_EQ(nlohmann::json::parse(Cairnctl({"nodes", "status", "--json"}).out)["nodes"].size(), 4u);
  EXPECT_EQ(Cairnctl({"nodes", "promote", "2"}).exit_code, 1);  // already a voter
  EXPECT_EQ(Cairnctl({"nodes", "remove", "4"}).exit_code, 0);
  EXPECT_EQ(Cairnctl({"nodes", "remove", "99"}).exit_code, 1);
  EXPECT_EQ(Cairnctl({"nodes", "add-learner", "--node-id", "5"}).exit_code, 2);
}

}  // namespace
}  // namespace cairn::testing
