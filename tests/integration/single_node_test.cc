// One real cairn-node process over mTLS: appends are durable across SIGKILL,
// the data directory cannot be shared, and bad input is refused with a clear
// message and writes nothing.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/node_process.h"
#include "testing/pki.h"
#include "testing/temp_dir.h"

namespace cairn {
namespace {

using ::cairn::testing::CommandResult;
using ::cairn::testing::NodeProcess;
using ::testing::HasSubstr;

class SingleNodeTest : public ::testing::Test {
 protected:
  SingleNodeTest() : pki_(tmp_.path()), node_(&pki_, 1, tmp_.path()) {}

  void StartNode(const std::vector<std::string>& args = {}) {
    ASSERT_TRUE(node_.Start(args).ok());
    const absl::Status ready = node_.WaitReady();
    ASSERT_TRUE(ready.ok()) << ready << "\n" << node_.Log();
  }

  // Appends and returns the txid printed by cairnctl.
  std::string Append(const std::string& collection, const std::string& contents) {
    const CommandResult r = node_.Cairnctl({"append", collection, contents});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find(' '));
  }

  static uint64_t IndexOf(const std::string& txid) {
    return std::stoull(txid.substr(txid.find('.') + 1));
  }

  testing::TempDir tmp_;
  testing::TestPki pki_;
  NodeProcess node_;
};

TEST_F(SingleNodeTest, AcknowledgedAppendsSurviveSigkillAndRestart) {
  StartNode();
  std::vector<std::pair<std::string, std::string>> written;
  for (int i = 0; i < 20; ++i) {
    const std::string contents = "record-" + std::to_string(i);
    written.emplace_back(Append("audit", contents), contents);
  }
  node_.Kill();
  StartNode();
  for (const auto& [txid, contents] : written) {
    const CommandResult r = node_.Cairnctl({"get", txid});
    EXPECT_EQ(r.exit_code, 0) << txid << ": " << r.err;
    EXPECT_EQ(r.out, contents + "\n") << txid;
  }
  // The log continues after the last acknowledged index.
  const std::string next = Append("audit", "after-restart");
  EXPECT_GT(IndexOf(next), IndexOf(written.back().first));
}

TEST_F(SingleNodeTest, SecondProcessOnTheSameDataDirectoryIsRefused) {
  StartNode();
  NodeProcess intruder(&pki_, 1, tmp_.path() + "/other");
  intruder.set_data_dir(node_.data_dir());  // same directory, different ports
  ASSERT_TRUE(intruder.Start().ok());
  EXPECT_EQ(intruder.Wait(std::chrono::seconds(20)), 1);
  EXPECT_THAT(intruder.Log(), HasSubstr("in use by another process"));
  // The first node still serves.
  EXPECT_EQ(node_.Cairnctl({"append", "c", "still-here"}).exit_code, 0);
}

// gRPC would share a port between two servers (SO_REUSEPORT); cairn-node
// refuses instead, so a misconfigured second node cannot take half the
// first one's connections.
TEST_F(SingleNodeTest, SecondProcessOnTheSameClientPortIsRefused) {
  StartNode();
  NodeProcess intruder(&pki_, 1, tmp_.path() + "/other");
  intruder.set_client_address(node_.client_address());
  ASSERT_TRUE(intruder.Start().ok());
  EXPECT_EQ(intruder.Wait(std::chrono::seconds(20)), 1);
  EXPECT_THAT(intruder.Log(), HasSubstr("cannot listen on --client-address"));
  for (int i = 0; i < 5; ++i) {  // every new connection still reaches the first node
    EXPECT_EQ(node_.Cairnctl({"append", "c", "still-mine"}).exit_code, 0);
  }
}

TEST_F(SingleNodeTest, BadInputIsRefusedAndWritesNothing) {
  // No signature transactions in this test, so log indexes are predictable.
  StartNode({"--entry-bytes-max=1024", "--signature-interval-ms=3600000",
             "--signature-interval-txs=1000000"});
  const std::string first = Append("c", "first");

  CommandResult r = node_.Cairnctl({"append", "c", std::string(1025, 'x')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr("entry_bytes_max=1024"));

  r = node_.Cairnctl({"append", "", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("collection_id: must be 1 to 256 bytes, got 0"));

  r = node_.Cairnctl({"append", std::string(257, 'c'), "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("collection_id_bytes_max=256"));

  r = node_.Cairnctl({"append", "c", ""});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("contents is empty"));

  r = node_.Cairnctl({"get", "1.x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(r.err, HasSubstr("txid: index must be decimal digits"));

  r = node_.Cairnctl({"get", "1." + std::to_string(IndexOf(first) + 100)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  r = node_.Cairnctl({"get", "7.1"});  // index 1 exists, but in term 1
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  // Nothing rejected took an index.
  EXPECT_EQ(IndexOf(Append("c", "second")), IndexOf(first) + 1);
}

// A receipt asked for before any signature covers the entry: the error says
// what is covered, in the words `cluster status` uses, and how to wait
// (issue 19's first hour). No signature is ever made here, so both say so
// without a race.
TEST_F(SingleNodeTest, AnUnsignedReceiptSaysWhatIsSignedAndHowToWait) {
  StartNode({"--signature-interval-ms=3600000", "--signature-interval-txs=1000000"});
  const std::string txid = Append("c", "unsigned");
  const CommandResult r = node_.Cairnctl({"receipt", "get", txid});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("no signature covers " + txid +
                               " yet (signatures cover entries up to index 0)"));
  EXPECT_THAT(r.err, HasSubstr("cairnctl receipt get --wait"));
  const CommandResult status = node_.Cairnctl({"cluster", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_THAT(status.out, HasSubstr("nothing signed yet"));
}

// --log-format=json (the product's default): every line the node writes is
// one JSON object with ts, level, node and msg, gRPC's own lines included
// (a TLS handshake that fails on garbage is one gRPC logs itself).
TEST_F(SingleNodeTest, JsonLogsAreOneObjectPerLineGrpcsOwnIncluded) {
  node_.set_log_format("json");
  StartNode();
  Append("c", "logged");
  {
    const std::string address = node_.client_address();
    const int port = std::stoi(address.substr(address.rfind(':') + 1));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const timeval read_timeout{10, 0};  // the node closes the connection long before
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof(read_timeout));
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    const char garbage[] = "GET / HTTP/1.0\r\n\xff\xfe\r\n\r\n";
    ASSERT_GT(::write(fd, garbage, sizeof(garbage) - 1), 0);
    char buf[256];
    while (::read(fd, buf, sizeof(buf)) > 0) {
    }  // until the node closes the connection
    ::close(fd);
  }
  ASSERT_TRUE(
      testing::PollUntil([&] { return node_.Log().find("\"msg\":\"grpc: ") != std::string::npos; },
                         std::chrono::seconds(10), "a gRPC line in the log")
          .ok())
      << node_.Log();
  EXPECT_EQ(node_.Terminate(), 0);
  std::istringstream lines(node_.Log());
  std::string line;
  int parsed = 0;
  while (std::getline(lines, line)) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
    EXPECT_TRUE(j["ts"].is_string()) << line;
    EXPECT_TRUE(j["level"].is_string()) << line;
    EXPECT_EQ(j["node"], 1) << line;
    EXPECT_TRUE(j["msg"].is_string()) << line;
    ++parsed;
  }
  EXPECT_GE(parsed, 3);
}

TEST(NodeCommandLineTest, UsageErrorsExitTwoNamingTheFieldAndCreateNothing) {
  testing::TempDir tmp;
  const std::string data = tmp.path() + "/data";
  const std::string node = testing::BinaryPath("node/cairn-node");

  CommandResult r = testing::RunCommand({node, "--no-such-flag", "--data-dir=" + data});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--no-such-flag"));

  const std::string bad_key = tmp.path() + "/bad_key.yaml";
  std::ofstream(bad_key) << "data_dir: " << data << "\nelection_timeout: 5\n";
  r = testing::RunCommand({node, "--config=" + bad_key});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown config field 'election_timeout'"));

  const std::string bad_yaml = tmp.path() + "/bad.yaml";
  std::ofstream(bad_yaml) << "data_dir: [unclosed\n";
  r = testing::RunCommand({node, "--config=" + bad_yaml});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("not valid YAML"));

  const std::string bad_value = tmp.path() + "/bad_value.yaml";
  std::ofstream(bad_value) << "data_dir: " << data << "\nlog_format: xml\n";
  r = testing::RunCommand({node, "--config=" + bad_value});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--log-format"));

  r = testing::RunCommand({node, "--data-dir=" + data});  // no TLS files
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--tls-cert-file"));

  // A batch larger than the uncommitted-bytes bound could never be accepted
  // (refused before the files' contents are read).
  for (const char* file : {"/c.pem", "/k.pem", "/s.pem"}) std::ofstream(tmp.path() + file);
  r = testing::RunCommand({node, "--data-dir=" + data, "--tls-cert-file=" + tmp.path() + "/c.pem",
                           "--tls-key-file=" + tmp.path() + "/k.pem",
                           "--service-cert-file=" + tmp.path() + "/s.pem",
                           "--uncommitted-bytes-max=1048576", "--append-batch-bytes-max=2097152"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--append-batch-bytes-max must not exceed --uncommitted-bytes-max"));

  EXPECT_FALSE(std::filesystem::exists(data));

  r = testing::RunCommand({node, "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--data-dir"));
  EXPECT_THAT(r.out, HasSubstr("--entry-bytes-max"));
}

// Disaster-recovery settings: a bad region, archive region or snapshot part
// size is a usage error; archive credentials that cannot serve (a profile
// that lacks a key, a profile that is not there) stop the node, and
// `cairn-node recover`, before anything is written.
TEST(NodeCommandLineTest, BadDisasterRecoverySettingsAreRefusedAndWriteNothing) {
  testing::TempDir tmp;
  const std::string data = tmp.path() + "/data";
  const std::string node = testing::BinaryPath("node/cairn-node");
  std::filesystem::create_directories(tmp.path() + "/pki");
  testing::TestPki pki(tmp.path() + "/pki");

  CommandResult r = testing::RunCommand({node, "--data-dir=" + data, "--region", "x y"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--region: a region \"x y\" may hold only letters"));
  r = testing::RunCommand({node, "--data-dir=" + data, "--archive-region", "bad region!"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--archive-region"));
  r = testing::RunCommand({node, "--data-dir=" + data, "--archive-snapshot-part-bytes", "1000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--archive-snapshot-part-bytes: Value 1000 not in range 4096"));

  const std::string lacks_secret = tmp.path() + "/lacks-secret";
  std::ofstream(lacks_secret) << "[other]\naws_access_key_id = a\n";
  const std::string only_default = tmp.path() + "/only-default";
  std::ofstream(only_default) << "[default]\naws_access_key_id = a\naws_secret_access_key = b\n";
  const testing::CertFiles geo = pki.Node(4);
  for (const auto& [file, says] :
       {std::pair{lacks_secret, "lacks aws_access_key_id or aws_secret_access_key"},
        std::pair{only_default, "has no profile [other]"}}) {
    r = testing::RunCommand(
        {node, "--node-id=4", "--data-dir=" + data,
         "--client-address=127.0.0.1:" + std::to_string(testing::PickFreePort()),
         "--peer-address=127.0.0.1:" + std::to_string(testing::PickFreePort()),
         "--http-address=127.0.0.1:" + std::to_string(testing::PickFreePort()),
         "--tls-cert-file=" + geo.cert, "--tls-key-file=" + geo.key,
         "--service-cert-file=" + pki.service_cert(), "--initial-cluster=1@127.0.0.1:1/127.0.0.1:2",
         "--join", "--role=geo-replica", "--region=paired", "--archive-url=s3://bucket/ledger",
         "--archive-s3-endpoint=http://127.0.0.1:1", "--archive-credentials-file=" + file,
         "--archive-profile=other"},
        "", std::chrono::seconds(60));
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr(says));
    EXPECT_FALSE(std::filesystem::exists(data)) << "the node made its data directory";

    r = testing::RunCommand(
        {node, "recover", "--archive-url=s3://bucket/ledger",
         "--archive-s3-endpoint=http://127.0.0.1:1", "--archive-credentials-file=" + file,
         "--archive-profile=other", "--data-dir=" + data, "--node-id=4",
         "--peer-address=127.0.0.1:1", "--client-address=127.0.0.1:2",
         "--service-cert-file=" + pki.service_cert(), "--tls-cert-file=" + geo.cert});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr(says));
    EXPECT_FALSE(std::filesystem::exists(data)) << "recover made its data directory";
  }
  r = testing::RunCommand(
      {node, "recover", "--archive-url=file://" + tmp.path() + "/archive", "--data-dir=" + data,
       "--node-id=4", "--peer-address=127.0.0.1:1", "--client-address=127.0.0.1:2", "--region",
       "bad region!", "--service-cert-file=" + pki.service_cert(), "--tls-cert-file=" + geo.cert});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--region"));
  EXPECT_FALSE(std::filesystem::exists(data));
}

TEST(NodeCommandLineTest, FlagsOverrideTheConfigFile) {
  testing::TempDir tmp;
  testing::TestPki pki(tmp.path());
  NodeProcess node(&pki, 1, tmp.path());
  const std::string config = tmp.path() + "/node.yaml";
  // The file says 16 bytes; the flag says 64: a 32-byte entry must be accepted.
  std::ofstream(config) << "entry_bytes_max: 16\nlog_level: debug\n";
  ASSERT_TRUE(node.Start({"--config=" + config, "--entry-bytes-max=64"}).ok());
  ASSERT_TRUE(node.WaitReady().ok()) << node.Log();
  EXPECT_EQ(node.Cairnctl({"append", "c", std::string(32, 'y')}).exit_code, 0);
  const CommandResult r = node.Cairnctl({"append", "c", std::string(65, 'y')});
  EXPECT_THAT(r.err, HasSubstr("entry_bytes_max=64"));
}

}  // namespace
}  // namespace cairn
