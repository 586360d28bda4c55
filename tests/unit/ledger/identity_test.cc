// Keys, certificates, fingerprints, signatures and chain checks (identity.h).
#include "cairn/ledger/identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/hash.h"
#include "testing/temp_dir.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

struct Service {
  PrivateKey key;
  Certificate cert;
};

Service MakeService(absl::string_view cn = "test service") {
  auto key = PrivateKey::Generate();
  CAIRN_CHECK_OK(key.status());
  ServiceCertificateOptions options;
  options.common_name = std::string(cn);
  options.now = kNow;
  auto cert = CreateServiceCertificate(*key, options);
  CAIRN_CHECK_OK(cert.status());
  return Service{std::move(*key), std::move(*cert)};
}

Certificate MakeNode(const Service& service, const PrivateKey& node_key, uint64_t id) {
  NodeCertificateOptions options;
  options.node_id = id;
  options.now = kNow;
  auto cert = IssueNodeCertificate(service.cert, service.key, node_key, options);
  CAIRN_CHECK_OK(cert.status());
  return *cert;
}

PrivateKey NewKey() {
  auto key = PrivateKey::Generate();
  CAIRN_CHECK_OK(key.status());
  return std::move(*key);
}

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HashToHex(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Parts({"a", "", "bc"}), Sha256("abc"));
}

TEST(HashTest, ParsesOnlyExactLengths) {
  EXPECT_TRUE(HashFromHex(std::string(64, 'a'), "root").ok());
  auto short_hash = HashFromHex(std::string(62, 'a'), "root");
  EXPECT_THAT(short_hash.status().message(), HasSubstr("root"));
  EXPECT_FALSE(HashFromHex(std::string(64, 'g'), "root").ok());
  EXPECT_FALSE(HashFromBytes(std::string(33, 'a'), "root").ok());
}

TEST(PrivateKeyTest, PemRoundTripKeepsTheKey) {
  PrivateKey key = NewKey();
  const std::string pem = key.ToPem();
  EXPECT_TRUE(absl::StartsWith(pem, "-----BEGIN PRIVATE KEY-----"));
  auto back = PrivateKey::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->PublicKeyDer(), key.PublicKeyDer());
}

TEST(PrivateKeyTest, RejectsOtherCurvesAlgorithmsAndGarbage) {
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(p384, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, p384, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  auto rejected = PrivateKey::FromPem(absl::string_view(data, static_cast<size_t>(len)));
  BIO_free(bio);
  EVP_PKEY_free(p384);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.status().message(), HasSubstr("P-256"));

  EXPECT_EQ(PrivateKey::FromPem("not a key").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(PrivateKey::FromPem("").ok());
}

TEST(SignatureTest, SignVerifyAndRejectTampering) {
  Service service = MakeService();
  PrivateKey node_key = NewKey();
  Certificate node = MakeNode(service, node_key, 1);
  auto sig = node_key.Sign("checkpoint bytes");
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(node.VerifySignature("checkpoint bytes", *sig).ok());

  EXPECT_THAT(node.VerifySignature("checkpoint bytez", *sig).message(),
              HasSubstr("does not verify"));
  std::string flipped = *sig;
  flipped[flipped.size() - 3] ^= 0x01;
  EXPECT_FALSE(node.VerifySignature("checkpoint bytes", flipped).ok());
  EXPECT_FALSE(node.VerifySignature("checkpoint bytes", "").ok());
  EXPECT_FALSE(node.VerifySignature("checkpoint bytes", sig->substr(1)).ok());
  // Another key's certificate does not accept it.
  EXPECT_FALSE(service.cert.VerifySignature("checkpoint bytes", *sig).ok());
}

TEST(ServiceCertificateTest, IsASelfSignedCaWithTheRightUsage) {
  Service service = MakeService("acme ledger");
  EXPECT_TRUE(service.cert.IsCa());
  EXPECT_EQ(service.cert.CommonName(), "acme ledger");
  EXPECT_TRUE(service.cert.MatchesKey(service.key));
  EXPECT_EQ(service.cert.NotBefore(), kNow - absl::Minutes(5));
  EXPECT_EQ(service.cert.NotAfter(), kNow + absl::Hours(24 * 3650));
  const uint32_t ku = X509_get_key_usage(service.cert.get());
  EXPECT_EQ(ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  EXPECT_EQ(ku & KU_DIGITAL_SIGNATURE, 0u);
  // Self-signed: its own signature verifies, but it is never "issued by" itself.
  EXPECT_EQ(X509_verify(service.cert.get(), X509_get0_pubkey(service.cert.get())), 1);
  EXPECT_THAT(service.cert.VerifyIssuedBy(service.cert, kNow).message(), HasSubstr("itself"));
}

TEST(ServiceCertificateTest, FingerprintIsLowercaseSha256OfDer) {
  Service service = MakeService();
  const std::string fp = service.cert.Fingerprint();
  EXPECT_EQ(fp, HashToHex(Sha256(service.cert.Der())));
  EXPECT_EQ(fp.size(), 64u);
  for (char c : fp) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << fp;
  // Same certificate through PEM and DER, same fingerprint.
  EXPECT_EQ(Certificate::FromPem(service.cert.ToPem())->Fingerprint(), fp);
  EXPECT_EQ(Certificate::FromDer(service.cert.Der())->Fingerprint(), fp);
  EXPECT_NE(MakeService().cert.Fingerprint(), fp);
}

TEST(NodeCertificateTest, ChainsToTheServiceAndNamesTheNode) {
  Service service = MakeService();
  PrivateKey node_key = NewKey();
  NodeCertificateOptions options;
  options.node_id = 7;
  options.dns_names = {"localhost", "db.example.com"};
  options.now = kNow;
  auto node = IssueNodeCertificate(service.cert, service.key, node_key, options);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_FALSE(node->IsCa());
  EXPECT_EQ(node->CommonName(), "node-7");
  EXPECT_TRUE(node->MatchesKey(node_key));
  EXPECT_EQ(X509_check_ip_asc(node->get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(node->get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(node->get(), "node-7", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(node->get(), "db.example.com", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(node->get(), "node-8", 0, 0, nullptr), 1);
  const uint32_t xku = X509_get_extended_key_usage(node->get());
  EXPECT_EQ(xku & (XKU_SSL_SERVER | XKU_SSL_CLIENT), XKU_SSL_SERVER | XKU_SSL_CLIENT);
  EXPECT_TRUE(node->VerifyIssuedBy(service.cert, kNow).ok());
  EXPECT_TRUE(node->VerifyIssuedBy(service.cert, kNow + absl::Hours(24 * 364)).ok());
}

TEST(NodeCertificateTest, ChainCheckRejectsWrongServiceAndTimesOutsideValidity) {
  Service service = MakeService();
  Service other = MakeService();
  PrivateKey node_key = NewKey();
  Certificate node = MakeNode(service, node_key, 1);
  EXPECT_THAT(node.VerifyIssuedBy(other.cert, kNow).message(), HasSubstr("does not chain"));
  EXPECT_THAT(node.VerifyIssuedBy(service.cert, kNow + absl::Hours(24 * 366)).message(),
              HasSubstr("expired"));
  EXPECT_THAT(node.VerifyIssuedBy(service.cert, kNow - absl::Hours(1)).message(),
              HasSubstr("not yet valid"));
  // A certificate issued by a node (not a CA) does not chain to the node.
  PrivateKey user_key = NewKey();
  UserCertificateOptions user_options;
  user_options.name = "alice";
  user_options.now = kNow;
  EXPECT_FALSE(IssueUserCertificate(node, node_key, user_key, user_options).ok());
}

TEST(UserCertificateTest, IsAClientCertificateWithAStableUserId) {
  Service service = MakeService();
  PrivateKey user_key = NewKey();
  UserCertificateOptions options;
  options.name = "release-bot";
  options.now = kNow;
  auto user = IssueUserCertificate(service.cert, service.key, user_key, options);
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(user->CommonName(), "release-bot");
  EXPECT_FALSE(user->IsCa());
  const uint32_t xku = X509_get_extended_key_usage(user->get());
  EXPECT_EQ(xku & XKU_SSL_CLIENT, XKU_SSL_CLIENT);
  EXPECT_EQ(xku & XKU_SSL_SERVER, 0u);
  EXPECT_TRUE(user->VerifyIssuedBy(service.cert, kNow).ok());
  EXPECT_EQ(user->Fingerprint().size(), 64u);
}

TEST(IssueTest, BadOptionsAreRejectedNamingTheOption) {
  Service service = MakeService();
  PrivateKey key = NewKey();
  NodeCertificateOptions node;
  node.node_id = 0;
  EXPECT_THAT(IssueNodeCertificate(service.cert, service.key, key, node).status().message(),
              HasSubstr("node_id"));
  node.node_id = 1;
  node.dns_names = {"bad,name"};
  EXPECT_THAT(IssueNodeCertificate(service.cert, service.key, key, node).status().message(),
              HasSubstr("dns_names"));
  node.dns_names = {"-lead.example"};
  EXPECT_FALSE(IssueNodeCertificate(service.cert, service.key, key, node).ok());
  node.dns_names = {};
  node.ip_addresses = {"127.0.0.1,DNS:evil"};
  EXPECT_THAT(IssueNodeCertificate(service.cert, service.key, key, node).status().message(),
              HasSubstr("ip_addresses"));
  node.ip_addresses = {"::1"};
  EXPECT_TRUE(IssueNodeCertificate(service.cert, service.key, key, node).ok());
  node.validity_days = 0;
  EXPECT_THAT(IssueNodeCertificate(service.cert, service.key, key, node).status().message(),
              HasSubstr("validity_days"));
  // The service key must belong to the service certificate.
  node.validity_days = 10;
  EXPECT_THAT(IssueNodeCertificate(service.cert, key, key, node).status().message(),
              HasSubstr("service key"));

  UserCertificateOptions user;
  user.name = "";
  EXPECT_THAT(IssueUserCertificate(service.cert, service.key, key, user).status().message(),
              HasSubstr("name"));
  user.name = std::string(65, 'x');
  EXPECT_FALSE(IssueUserCertificate(service.cert, service.key, key, user).ok());
  user.name = "tab\there";
  EXPECT_FALSE(IssueUserCertificate(service.cert, service.key, key, user).ok());
  ServiceCertificateOptions svc;
  svc.validity_days = kValidityDaysMax + 1;
  EXPECT_FALSE(CreateServiceCertificate(key, svc).ok());
}

TEST(CertificateParseTest, PemAndDerAreStrict) {
  Service service = MakeService();
  const std::string pem = service.cert.ToPem();
  EXPECT_TRUE(Certificate::FromPem("\n" + pem + "\n\n").ok());
  EXPECT_THAT(Certificate::FromPem(pem + "junk").status().message(), HasSubstr("after"));
  EXPECT_FALSE(Certificate::FromPem("junk\n" + pem).ok());
  EXPECT_FALSE(Certificate::FromPem(pem + pem).ok());
  EXPECT_FALSE(Certificate::FromPem("").ok());
  std::string broken = pem;
  broken[pem.size() / 2] = '!';
  EXPECT_FALSE(Certificate::FromPem(broken).ok());
  const std::string der = service.cert.Der();
  EXPECT_TRUE(Certificate::FromDer(der).ok());
  EXPECT_THAT(Certificate::FromDer(der + "x").status().message(), HasSubstr("trailing"));
  EXPECT_FALSE(Certificate::FromDer(der.substr(0, der.size() - 1)).ok());
}

TEST(CertificateTest, CopiesShareTheCertificate) {
  Service service = MakeService();
  Certificate copy = service.cert;
  Certificate assigned = MakeService().cert;
  assigned = copy;
  EXPECT_EQ(copy.Fingerprint(), service.cert.Fingerprint());
  EXPECT_EQ(assigned.Fingerprint(), service.cert.Fingerprint());
}

TEST(FilesTest, WritesKeyPrivatelyAndNeverOverwrites) {
  testing::TempDir dir;
  Service service = MakeService();
  ASSERT_TRUE(WriteKeyAndCertificate(dir.path(), "service", service.key, service.cert).ok());
  struct stat st;
  ASSERT_EQ(::stat((dir.path() + "/service.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/service.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  auto key = ReadPrivateKeyFile(dir.path() + "/service.key");
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(service.cert.MatchesKey(*key));
  auto cert = ReadCertificateFile(dir.path() + "/service.pem");
  ASSERT_TRUE(cert.ok()) << cert.status();
  EXPECT_EQ(cert->Fingerprint(), service.cert.Fingerprint());

  Service other = MakeService();
  EXPECT_EQ(WriteKeyAndCertificate(dir.path(), "service", other.key, other.cert).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadCertificateFile(dir.path() + "/service.pem")->Fingerprint(),
            service.cert.Fingerprint());
  // Only the .pem exists: neither file is written, not even the missing .key.
  std::ofstream(dir.path() + "/node.pem") << "placeholder";
  EXPECT_FALSE(WriteKeyAndCertificate(dir.path(), "node", other.key, other.cert).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/node.key"));
  // No temporary files are left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 3);
  EXPECT_FALSE(WriteKeyAndCertificate(dir.path() + "/missing", "x", other.key, other.cert).ok());
  EXPECT_EQ(ReadCertificateFile(dir.path() + "/nope.pem").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(ReadPrivateKeyFile(dir.path() + "/service.pem").ok());
}

}  // namespace
}  // namespace cairn::ledger
