// The SDK examples of docs/examples run against a fake node whose receipts
// are real: notarize a document and prove it offline; record release
// approvals, export the receipts and audit them offline (with the example's
// own audit mode, and with `cairnctl receipt verify`).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cairnctl_runner.h"

namespace cairn {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;

class ExamplesTest : public ::testing::Test {
 protected:
  // Runs an example with the CAIRN_* connection variables of user "writer".
  CommandResult Example(const std::string& name, const std::vector<std::string>& args) {
    const testing::CertFiles writer = cluster_.pki().User("writer");
    std::vector<std::string> argv = {"/usr/bin/env",
                                     "CAIRN_ENDPOINT=" + cluster_.server(0).address(),
                                     "CAIRN_CERT=" + writer.cert,
                                     "CAIRN_KEY=" + writer.key,
                                     "CAIRN_SERVICE_CERT=" + cluster_.pki().service_cert(),
                                     testing::BinaryPath("client/examples/cairn_example_" + name)};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunCommand(argv);
  }
  std::string File(const std::string& name, const std::string& contents) {
    const std::string path = cluster_.dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  testing::FakeCluster cluster_;
};

TEST_F(ExamplesTest, NotarizeAndProveADocument) {
  const std::string doc = File("contract.pdf", "%PDF-1.7 the agreed terms");
  const std::string receipt = cluster_.dir() + "/contract.receipt.json";
  CommandResult r = Example("notarize", {"stamp", doc, receipt});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("in transaction 1.1"));
  // The ledger holds the digest as claims, not the document.
  EXPECT_EQ(cluster_.ledger().GetEntry("1.1")->contents().find("agreed terms"), std::string::npos);

  r = Example("notarize", {"prove", doc, receipt});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("VALID: " + doc + " was notarized in transaction 1.1"));
  // A different document, or a doctored receipt, does not prove.
  r = Example("notarize", {"prove", File("forged.pdf", "%PDF-1.7 other terms"), receipt});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("INVALID: leaf: the claims digest does not match"));
  std::string text = testing::ReadFileOrEmpty(receipt);
  text.replace(text.find("\"notary\""), 8, "\"forged\"");
  const std::string doctored = File("doctored.json", text);
  r = Example("notarize", {"prove", doc, doctored});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("INVALID: inclusion proof"));
  // Usage.
  EXPECT_EQ(Example("notarize", {"stamp"}).exit_code, 2);
}

TEST_F(ExamplesTest, ReleaseApprovalsExportedAndAudited) {
  const std::string artifact = File("cairn-1.4.2.tar.gz", "release bytes");
  for (const auto& [who, decision] : std::vector<std::pair<std::string, std::string>>{
           {"alice", "approve"}, {"bob", "approve"}, {"carol", "reject"}}) {
    CommandResult r = Example("release_approvals", {"record", "1.4.2", artifact, who, decision});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string out = cluster_.dir() + "/for-the-auditor";
  CommandResult r = Example("release_approvals", {"export", "1.4.2", artifact, out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("exported 3 receipts"));
  EXPECT_TRUE(std::filesystem::exists(out + "/approval-1.2.json"));
  EXPECT_TRUE(std::filesystem::exists(out + "/service.pem"));

  r = Example("release_approvals", {"audit", artifact, out});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("3 valid, 0 invalid"));
  // Approvals of other bytes than the released artifact do not pass.
  r = Example("release_approvals", {"audit", File("tampered.tar.gz", "other bytes"), out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("0 valid, 3 invalid"));
}

TEST_F(ExamplesTest, AuditorVerifiesExportedReceiptsWithCairnctl) {
  const std::string artifact = File("cairn-2.0.0.tar.gz", "release bytes");
  ASSERT_EQ(
      Example("release_approvals", {"record", "2.0.0", artifact, "alice", "approve"}).exit_code, 0);
  const std::string out = cluster_.dir() + "/audit";
  ASSERT_EQ(Example("release_approvals", {"export", "2.0.0", artifact, out}).exit_code, 0);
  CommandResult r =
      testing::RunCommand({testing::CairnctlBinary(), "receipt", "verify", "--receipt",
                           out + "/approval-1.1.json", "--service-cert", out + "/service.pem"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string text = testing::ReadFileOrEmpty(out + "/approval-1.1.json");
  text.replace(text.find("\"releases/2.0.0\""), 16, "\"releases/9.9.9\"");
  const std::string doctored = File("doctored.json", text);
  r = testing::RunCommand({testing::CairnctlBinary(), "receipt", "verify", "--receipt", doctored,
                           "--service-cert", out + "/service.pem"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

}  // namespace
}  // namespace cairn
