// cairnctl certs: happy paths, usage errors (exit 2), failures (exit 1), the
// --json forms, and that a failed command leaves no file or directory behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "cairn/ledger/identity.h"
#include "run_cli.h"
#include "testing/temp_dir.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class CertsCliTest : public ::testing::Test {
 protected:
  CliResult Run(const std::vector<std::string>& args) { return RunCairnctl(args, dir_.path()); }
  std::string Path(const std::string& rel) const { return dir_.path() + "/" + rel; }

  void CreateService() {
    CliResult r = Run({"certs", "create-service", "--out-dir", Path("svc"), "--cn", "acme"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir dir_;
};

TEST_F(CertsCliTest, CreateServicePrintsServiceIdAndWritesKeyPrivately) {
  CliResult r = Run({"certs", "create-service", "--out-dir", Path("svc/nested"), "--days", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto cert = ledger::ReadCertificateFile(Path("svc/nested/service.pem"));
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(r.out, cert->Fingerprint() + "\n");
  EXPECT_TRUE(cert->IsCa());
  EXPECT_LT(cert->NotAfter(), absl::Now() + absl::Hours(24 * 31));
  struct stat st;
  ASSERT_EQ(::stat(Path("svc/nested/service.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto key = ledger::ReadPrivateKeyFile(Path("svc/nested/service.key"));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(cert->MatchesKey(*key));

  // A second run refuses to overwrite, and changes nothing.
  CliResult again = Run({"certs", "create-service", "--out-dir", Path("svc/nested")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  EXPECT_EQ(ledger::ReadCertificateFile(Path("svc/nested/service.pem"))->Fingerprint(),
            cert->Fingerprint());
}

TEST_F(CertsCliTest, CreateServiceUsageErrors) {
  EXPECT_EQ(Run({"certs", "create-service"}).exit_code, 2);
  EXPECT_EQ(Run({"certs", "create-service", "--out-dir", Path("a"), "--days", "0"}).exit_code, 2);
  CliResult long_cn =
      Run({"certs", "create-service", "--out-dir", Path("b"), "--cn", std::string(65, 'x')});
  EXPECT_EQ(long_cn.exit_code, 2);
  EXPECT_THAT(long_cn.err, HasSubstr("common_name"));
  EXPECT_FALSE(std::filesystem::exists(Path("a")));
  EXPECT_FALSE(std::filesystem::exists(Path("b")));
  EXPECT_EQ(Run({"certs"}).exit_code, 2);
  EXPECT_EQ(Run({"certs", "no-such-command"}).exit_code, 2);
}

TEST_F(CertsCliTest, CreateNodeIssuesAChainedServerAndClientCertificate) {
  CreateService();
  CliResult r = Run({"certs", "create-node", "--service-dir", Path("svc"), "--node-id", "3",
                     "--out-dir", Path("nodes"), "--ip", "10.1.2.3", "--dns", "db.internal"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto service = ledger::ReadCertificateFile(Path("svc/service.pem"));
  auto node = ledger::ReadCertificateFile(Path("nodes/node-3.pem"));
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(r.out, node->Fingerprint() + "\n");
  EXPECT_TRUE(node->VerifyIssuedBy(*service, absl::Now()).ok());
  EXPECT_EQ(node->CommonName(), "node-3");
  EXPECT_EQ(X509_check_ip_asc(node->get(), "10.1.2.3", 0), 1);
  EXPECT_NE(X509_check_ip_asc(node->get(), "127.0.0.1", 0), 1);  // --ip replaces the default
  EXPECT_EQ(X509_check_host(node->get(), "db.internal", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(node->get(), "node-3", 0, 0, nullptr), 1);
  EXPECT_TRUE(node->MatchesKey(*ledger::ReadPrivateKeyFile(Path("nodes/node-3.key"))));
}

TEST_F(CertsCliTest, CreateNodeErrorsWriteNothing) {
  CreateService();
  const std::vector<std::string> base = {"certs",     "create-node", "--service-dir",
                                         Path("svc"), "--out-dir",   Path("n/deep")};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  };
  EXPECT_EQ(with({"--node-id", "0"}).exit_code, 2);
  EXPECT_EQ(with({"--node-id", "x"}).exit_code, 2);
  CliResult bad_dns = with({"--node-id", "1", "--dns", "under_score"});
  EXPECT_EQ(bad_dns.exit_code, 2);
  EXPECT_THAT(bad_dns.err, HasSubstr("under_score"));
  EXPECT_EQ(with({"--node-id", "1", "--ip", "300.1.1.1"}).exit_code, 2);
  EXPECT_EQ(
      Run({"certs", "create-node", "--service-dir", Path("svc"), "--out-dir", Path("n")}).exit_code,
      2);  // --node-id missing
  CliResult no_service = Run({"certs", "create-node", "--service-dir", Path("nope"), "--node-id",
                              "1", "--out-dir", Path("n/deep")});
  EXPECT_EQ(no_service.exit_code, 1);
  EXPECT_THAT(no_service.err, HasSubstr("service.pem"));
  EXPECT_FALSE(std::filesystem::exists(Path("n")));
}

TEST_F(CertsCliTest, CreateUserPrintsTheUserId) {
  CreateService();
  CliResult r = Run({"certs", "create-user", "--service-dir", Path("svc"), "--name", "release-bot",
                     "--out-dir", Path("users")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto user = ledger::ReadCertificateFile(Path("users/release-bot.pem"));
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(r.out, user->Fingerprint() + "\n");
  EXPECT_EQ(user->CommonName(), "release-bot");
  EXPECT_TRUE(
      user->VerifyIssuedBy(*ledger::ReadCertificateFile(Path("svc/service.pem")), absl::Now())
          .ok());

  CliResult fp = Run({"certs", "fingerprint", "--cert", Path("users/release-bot.pem")});
  EXPECT_EQ(fp.exit_code, 0);
  EXPECT_EQ(fp.out, r.out);

  EXPECT_EQ(Run({"certs", "create-user", "--service-dir", Path("svc"), "--name", "release-bot",
                 "--out-dir", Path("users")})
                .exit_code,
            1);
  EXPECT_EQ(Run({"certs", "create-user", "--service-dir", Path("svc"), "--name", "../x",
                 "--out-dir", Path("users")})
                .exit_code,
            2);
  EXPECT_EQ(
      Run({"certs", "create-user", "--service-dir", Path("svc"), "--out-dir", Path("u")}).exit_code,
      2);
}

TEST_F(CertsCliTest, FingerprintErrors) {
  EXPECT_EQ(Run({"certs", "fingerprint"}).exit_code, 2);
  CliResult missing = Run({"certs", "fingerprint", "--cert", Path("none.pem")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("none.pem"));
  CreateService();
  CliResult key = Run({"certs", "fingerprint", "--cert", Path("svc/service.key")});
  EXPECT_EQ(key.exit_code, 1);
  EXPECT_THAT(key.err, HasSubstr("CERTIFICATE"));
}

TEST_F(CertsCliTest, JsonNamesTheFingerprintAndTheFilesWritten) {
  CliResult r = Run({"certs", "create-service", "--out-dir", Path("svc"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cert_file"], Path("svc/service.pem"));
  EXPECT_EQ(j["key_file"], Path("svc/service.key"));
  EXPECT_EQ(j["fingerprint"], ledger::ReadCertificateFile(Path("svc/service.pem"))->Fingerprint());

  r = Run({"certs", "create-node", "--service-dir", Path("svc"), "--node-id", "2", "--out-dir",
           Path("nodes"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["cert_file"], Path("nodes/node-2.pem"));
  EXPECT_EQ(j["key_file"], Path("nodes/node-2.key"));
  EXPECT_EQ(j["fingerprint"], ledger::ReadCertificateFile(Path("nodes/node-2.pem"))->Fingerprint());

  r = Run({"--json", "certs", "create-user", "--service-dir", Path("svc"), "--name", "auditor",
           "--out-dir", Path("users")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  const std::string user_id = ledger::ReadCertificateFile(Path("users/auditor.pem"))->Fingerprint();
  EXPECT_EQ(j["fingerprint"], user_id);
  EXPECT_EQ(j["key_file"], Path("users/auditor.key"));

  r = Run({"certs", "fingerprint", "--cert", Path("users/auditor.pem"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out),
            nlohmann::json({{"fingerprint", user_id}, {"cert_file", Path("users/auditor.pem")}}));

  // A failure (exit 1) is also an error object on stdout; nothing is written.
  r = Run({"certs", "create-user", "--service-dir", Path("svc"), "--name", "auditor", "--out-dir",
           Path("users"), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"], "ALREADY_EXISTS");
  EXPECT_THAT(j["message"].get<std::string>(), HasSubstr("already exists"));
  r = Run({"certs", "fingerprint", "--cert", Path("none.pem"), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(nlohmann::json::parse(r.out)["message"].get<std::string>(), HasSubstr("none.pem"));
  // A usage error (exit 2) stays on stderr.
  r = Run({"certs", "create-node", "--service-dir", Path("svc"), "--node-id", "0", "--out-dir",
           Path("n"), "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(std::filesystem::exists(Path("n")));
}

}  // namespace
}  // namespace cairn::testing
