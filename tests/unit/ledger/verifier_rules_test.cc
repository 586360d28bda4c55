// The verifier's rules of docs/formats.md, "Certificates" and "Signatures",
// one test per rule: certificates built by hand with OpenSSL (unusual names,
// extensions, keys, digests, validity) sign a checkpoint, and the verifier
// accepts exactly what the specification says. The log-entry-to-leaf rules
// are in encoding_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/base/check.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/txid.h"
#include "test_ledger.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kSignedAt = absl::FromUnixMillis(1'700'000'000'000);

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey NewEcKey(const char* curve) {
  Pkey key(EVP_EC_gen(curve));
  CAIRN_CHECK(key != nullptr);
  return key;
}

// A P-256 key both as a PrivateKey (to sign checkpoints) and as a handle.
struct P256 {
  PrivateKey key = testing::NewKey();
  EVP_PKEY* get() const { return key.get(); }
};

// What goes into a hand-built certificate; the defaults are a valid node
// certificate. std::nullopt leaves an extension out.
struct Spec {
  std::vector<std::string> common_names = {"node-1"};
  std::optional<std::string> basic_constraints = "critical,CA:FALSE";
  std::optional<std::string> key_usage = "critical,digitalSignature";
  std::optional<std::string> ext_key_usage = "serverAuth,clientAuth";
  absl::Time not_before = kSignedAt - absl::Hours(1);
  absl::Time not_after = kSignedAt + absl::Hours(1);
  const EVP_MD* digest = EVP_sha256();
  long version = X509_VERSION_3;
  // More extensions, by name or numeric OID, in OpenSSL's config syntax
  // (e.g. {"subjectAltName", "DNS:x"}, {"1.2.3.4", "critical,DER:05:00"}).
  std::vector<std::pair<std::string, std::string>> extra;
};

Spec ServiceSpec() {
  Spec spec;
  spec.common_names = {"hand-built service"};
  spec.basic_constraints = "critical,CA:TRUE,pathlen:0";
  spec.key_usage = "critical,keyCertSign,cRLSign";
  spec.ext_key_usage = std::nullopt;
  spec.not_before = kSignedAt - absl::Hours(24);
  spec.not_after = kSignedAt + absl::Hours(24);
  return spec;
}

// Builds a certificate for `subject_key` from `spec`, issued by `issuer`
// (null: self-signed) and signed with `signer_key`.
Certificate Build(const Spec& spec, EVP_PKEY* subject_key, const Certificate* issuer,
                  EVP_PKEY* signer_key) {
  X509* x = X509_new();
  CAIRN_CHECK(x != nullptr);
  CAIRN_CHECK(X509_set_version(x, X509_VERSION_3) == 1);
  static int serial = 1;
  CAIRN_CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial) == 1);
  CAIRN_CHECK(ASN1_TIME_set(X509_getm_notBefore(x), absl::ToTimeT(spec.not_before)) != nullptr);
  CAIRN_CHECK(ASN1_TIME_set(X509_getm_notAfter(x), absl::ToTimeT(spec.not_after)) != nullptr);
  X509_NAME* subject = X509_get_subject_name(x);
  for (const std::string& cn : spec.common_names) {
    CAIRN_CHECK(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(cn.data()),
                                           static_cast<int>(cn.size()), -1, 0) == 1);
  }
  CAIRN_CHECK(X509_set_issuer_name(
                  x, issuer != nullptr ? X509_get_subject_name(issuer->get()) : subject) == 1);
  CAIRN_CHECK(X509_set_pubkey(x, subject_key) == 1);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->get() : x, x, nullptr, nullptr, 0);
  if (issuer == nullptr) CAIRN_CHECK(X509V3_set_issuer_pkey(&ctx, signer_key) == 1);
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_subject_key_identifier, "hash"}, {NID_authority_key_identifier, "keyid:always"}};
  if (spec.basic_constraints)
    extensions.emplace_back(NID_basic_constraints, *spec.basic_constraints);
  if (spec.key_usage) extensions.emplace_back(NID_key_usage, *spec.key_usage);
  if (spec.ext_key_usage) extensions.emplace_back(NID_ext_key_usage, *spec.ext_key_usage);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str());
    CAIRN_CHECK(ext != nullptr && X509_add_ext(x, ext, -1) == 1) << value;
    X509_EXTENSION_free(ext);
  }
  for (const auto& [name, value] : spec.extra) {
    X509_EXTENSION* ext = X509V3_EXT_nconf(nullptr, &ctx, name.c_str(), value.c_str());
    CAIRN_CHECK(ext != nullptr && X509_add_ext(x, ext, -1) == 1) << name << " = " << value;
    X509_EXTENSION_free(ext);
  }
  CAIRN_CHECK(X509_set_version(x, spec.version) == 1);
  CAIRN_CHECK(X509_sign(x, signer_key, spec.digest) > 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509(x, &der);
  CAIRN_CHECK(len > 0);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  X509_free(x);
  return *Certificate::FromDer(bytes);
}

class VerifierRulesTest : public ::testing::Test {
 protected:
  VerifierRulesTest()
      : service_(Build(ServiceSpec(), service_key_.get(), nullptr, service_key_.get())) {}

  Certificate Node(const Spec& spec, EVP_PKEY* key = nullptr) const {
    return Build(spec, key != nullptr ? key : node_key_.get(), &service_, service_key_.get());
  }

  // A checkpoint of this service signed at `at` by the node key, verified
  // with `node` as the signer's certificate.
  absl::Status Verify(const Certificate& node, uint64_t signer = 1, absl::Time at = kSignedAt,
                      const Certificate* service = nullptr) const {
    const Certificate& svc = service != nullptr ? *service : service_;
    const v1::Checkpoint checkpoint =
        MakeCheckpoint(svc.Fingerprint(), 1, Sha256("root"), TxId{1, 1}, absl::ToUnixMillis(at));
    absl::StatusOr<v1::SignedCheckpoint> signed_checkpoint =
        SignCheckpoint(checkpoint, signer, node_key_.key);
    CAIRN_CHECK_OK(signed_checkpoint.status());
    return VerifySignedCheckpoint(*signed_checkpoint, node, svc);
  }

  // Verify() with a node certificate of the default spec and `service`.
  absl::Status VerifyUnder(const Certificate& service, EVP_PKEY* service_key) const {
    const Certificate node = Build(Spec(), node_key_.get(), &service, service_key);
    return Verify(node, 1, kSignedAt, &service);
  }

  P256 service_key_;
  P256 node_key_;
  Certificate service_;
};

TEST_F(VerifierRulesTest, TheHandBuiltCertificatesPassAsTheControl) {
  EXPECT_TRUE(service_.CheckServiceCertificate().ok()) << service_.CheckServiceCertificate();
  EXPECT_TRUE(Verify(Node(Spec())).ok()) << Verify(Node(Spec()));
  EXPECT_EQ(Node(Spec()).NodeId(), 1u);
}

// ---- Node certificates -------------------------------------------------------

TEST_F(VerifierRulesTest, NodeIdIsDecimalWithoutLeadingZeros) {
  Spec spec;
  spec.common_names = {"node-01"};
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("is not node-<id>"));
  spec.common_names = {"node-0"};
  EXPECT_THAT(Verify(Node(spec), 0).message(), HasSubstr("is not node-<id>"));
  spec.common_names = {"node-+1"};
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("is not node-<id>"));
  spec.common_names = {"Node-1"};
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("is not node-<id>"));
  spec.common_names = {"node-18446744073709551616"};  // 2^64
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("is not node-<id>"));
  spec.common_names = {"node-18446744073709551615"};  // 2^64 - 1
  EXPECT_TRUE(Verify(Node(spec), UINT64_MAX).ok());
  spec.common_names = {"node-10"};
  EXPECT_TRUE(Verify(Node(spec), 10).ok());
  EXPECT_THAT(Verify(Node(spec), 1).message(),
              HasSubstr("it is the certificate of node 10, not of signer_node_id 1"));
}

TEST_F(VerifierRulesTest, NodeSubjectHasExactlyOneCommonName) {
  Spec spec;
  spec.common_names = {"node-1", "node-1"};
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("2 commonNames"));
  spec.common_names = {"node-1", "node-2"};
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("2 commonNames"));
  spec.common_names = {};
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("0 commonNames"));
}

TEST_F(VerifierRulesTest, NodeIsNotACa) {
  Spec spec;
  spec.basic_constraints = "critical,CA:TRUE";
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("it is a CA"));
  spec.basic_constraints = std::nullopt;  // absent: not a CA
  EXPECT_TRUE(Verify(Node(spec)).ok()) << Verify(Node(spec));
}

TEST_F(VerifierRulesTest, NodeExtendedKeyUsageIncludesServerAuth) {
  Spec spec;
  spec.ext_key_usage = "clientAuth";  // a user certificate's usage
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("does not include serverAuth"));
  spec.ext_key_usage = std::nullopt;  // absent is not "any"
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("does not include serverAuth"));
  spec.ext_key_usage = "serverAuth";
  EXPECT_TRUE(Verify(Node(spec)).ok());
}

TEST_F(VerifierRulesTest, NodeKeyUsageWhenPresentIncludesDigitalSignature) {
  Spec spec;
  spec.key_usage = "critical,keyEncipherment";
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("does not include digitalSignature"));
  spec.key_usage = std::nullopt;
  EXPECT_TRUE(Verify(Node(spec)).ok());
}

TEST_F(VerifierRulesTest, NodeKeyIsP256) {
  Pkey p384 = NewEcKey("P-384");
  EXPECT_THAT(Verify(Node(Spec(), p384.get())).message(), HasSubstr("P-256"));
}

TEST_F(VerifierRulesTest, NodeCertificateIsSignedWithEcdsaSha256) {
  Spec spec;
  spec.digest = EVP_sha384();
  EXPECT_THAT(Verify(Node(spec)).message(), HasSubstr("ecdsa-with-SHA256"));
}

TEST_F(VerifierRulesTest, ValidityIsInclusiveToTheMillisecond) {
  Spec spec;
  spec.not_before = kSignedAt - absl::Seconds(10);
  spec.not_after = kSignedAt + absl::Seconds(10);
  const Certificate node = Node(spec);
  EXPECT_TRUE(Verify(node, 1, spec.not_before).ok()) << Verify(node, 1, spec.not_before);
  EXPECT_TRUE(Verify(node, 1, spec.not_after).ok()) << Verify(node, 1, spec.not_after);
  EXPECT_THAT(Verify(node, 1, spec.not_before - absl::Milliseconds(1)).message(),
              HasSubstr("is not yet valid"));
  EXPECT_THAT(Verify(node, 1, spec.not_after + absl::Milliseconds(1)).message(),
              HasSubstr("has expired"));
  // The service certificate's window applies too.
  Spec service_spec = ServiceSpec();
  service_spec.not_after = kSignedAt;
  const Certificate service = Build(service_spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_TRUE(VerifyUnder(service, service_key_.get()).ok());
  const Certificate early = Build(Spec(), node_key_.get(), &service, service_key_.get());
  EXPECT_THAT(Verify(early, 1, kSignedAt + absl::Milliseconds(1), &service).message(),
              HasSubstr("the issuer has expired"));
}

TEST_F(VerifierRulesTest, UserCertificatesNeverSignCheckpoints) {
  Spec user;
  user.common_names = {"node-1"};  // even with a node's name
  user.ext_key_usage = "clientAuth";
  EXPECT_THAT(Verify(Node(user)).message(), HasSubstr("is not a node certificate"));
}

// Issued directly by the service certificate, as RFC 5280 path validation
// with it as the only trust anchor decides.
TEST_F(VerifierRulesTest, NodeIsIssuedDirectlyByTheServiceCertificate) {
  // Through an intermediate CA of the service: refused.
  P256 intermediate_key;
  Spec intermediate_spec = ServiceSpec();
  intermediate_spec.common_names = {"intermediate"};
  const Certificate intermediate =
      Build(intermediate_spec, intermediate_key.get(), &service_, service_key_.get());
  const Certificate below = Build(Spec(), node_key_.get(), &intermediate, intermediate_key.get());
  EXPECT_THAT(Verify(below).message(), HasSubstr("does not chain to the issuer"));
  // The service certificate itself, in the node certificate's place.
  EXPECT_THAT(Verify(service_).message(), HasSubstr("the issuer certificate itself"));
  EXPECT_THAT(service_.VerifyIssuedBy(service_, kSignedAt).message(),
              HasSubstr("the issuer certificate itself"));
  // Signed by the service key, but its authority key identifier names
  // another key (a certificate with the service's subject and another key).
  P256 other_key;
  const Certificate same_name = Build(ServiceSpec(), other_key.get(), nullptr, other_key.get());
  const Certificate wrong_aki = Build(Spec(), node_key_.get(), &same_name, service_key_.get());
  EXPECT_THAT(Verify(wrong_aki).message(), HasSubstr("does not chain to the issuer"));
  // An extension the validator does not know, marked critical: refused;
  // the same one not critical is not checked.
  Spec unknown;
  unknown.extra = {{"1.3.6.1.4.1.99999.1", "critical,DER:05:00"}};
  EXPECT_THAT(Verify(Node(unknown)).message(), HasSubstr("does not chain to the issuer"));
  unknown.extra = {{"1.3.6.1.4.1.99999.1", "DER:05:00"}};
  EXPECT_TRUE(Verify(Node(unknown)).ok()) << Verify(Node(unknown));
  // The service certificate's name constraints hold for its node certificates.
  Spec constrained = ServiceSpec();
  constrained.extra = {{"nameConstraints", "critical,permitted;DNS:.good.example"}};
  const Certificate service = Build(constrained, service_key_.get(), nullptr, service_key_.get());
  Spec inside;
  inside.extra = {{"subjectAltName", "DNS:node-1.good.example"}};
  EXPECT_TRUE(
      Verify(Build(inside, node_key_.get(), &service, service_key_.get()), 1, kSignedAt, &service)
          .ok());
  Spec outside;
  outside.extra = {{"subjectAltName", "DNS:node-1.evil.example"}};
  EXPECT_THAT(
      Verify(Build(outside, node_key_.get(), &service, service_key_.get()), 1, kSignedAt, &service)
          .message(),
      HasSubstr("does not chain to the issuer"));
}

// The extensions Cairn reads must decode and appear at most once.
TEST_F(VerifierRulesTest, ExtensionsReadAppearOnce) {
  Spec twice;
  twice.extra = {{"keyUsage", "critical,digitalSignature"}};  // beside the spec's own
  // (Path validation refuses it first; the node check would too.)
  EXPECT_THAT(Verify(Node(twice)).message(),
              ::testing::AnyOf(HasSubstr("malformed or repeated"),
                               HasSubstr("does not chain to the issuer")));
  EXPECT_THAT(Node(twice).NodeCertificateId().status().message(),
              HasSubstr("malformed or repeated"));
  Spec service_twice = ServiceSpec();
  service_twice.extra = {{"basicConstraints", "critical,CA:TRUE"}};
  EXPECT_THAT(Build(service_twice, service_key_.get(), nullptr, service_key_.get())
                  .CheckServiceCertificate()
                  .message(),
              HasSubstr("malformed or repeated"));
}

// ---- Service certificates ------------------------------------------------------

TEST_F(VerifierRulesTest, ServiceHasCriticalBasicConstraintsCaTrue) {
  Spec spec = ServiceSpec();
  spec.basic_constraints = std::nullopt;
  Certificate service = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_THAT(VerifyUnder(service, service_key_.get()).message(), HasSubstr("no basicConstraints"));
  spec.basic_constraints = "CA:TRUE";
  service = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_THAT(VerifyUnder(service, service_key_.get()).message(), HasSubstr("not critical"));
  spec.basic_constraints = "critical,CA:FALSE";
  service = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_THAT(VerifyUnder(service, service_key_.get()).message(), HasSubstr("is not CA:TRUE"));
  spec.basic_constraints = "critical,CA:TRUE";  // any path length
  service = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_TRUE(VerifyUnder(service, service_key_.get()).ok());
}

TEST_F(VerifierRulesTest, ServiceKeyUsageIncludesKeyCertSign) {
  Spec spec = ServiceSpec();
  spec.key_usage = std::nullopt;
  Certificate service = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_THAT(VerifyUnder(service, service_key_.get()).message(), HasSubstr("keyCertSign"));
  spec.key_usage = "critical,digitalSignature";
  service = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_THAT(VerifyUnder(service, service_key_.get()).message(), HasSubstr("keyCertSign"));
}

TEST_F(VerifierRulesTest, ServiceKeyIsP256) {
  Pkey p384 = NewEcKey("P-384");
  Certificate service = Build(ServiceSpec(), p384.get(), nullptr, p384.get());
  EXPECT_THAT(VerifyUnder(service, p384.get()).message(), HasSubstr("P-256"));
  Pkey rsa(EVP_RSA_gen(2048));
  ASSERT_NE(rsa, nullptr);
  service = Build(ServiceSpec(), rsa.get(), nullptr, rsa.get());
  EXPECT_THAT(VerifyUnder(service, rsa.get()).message(), HasSubstr("not an ECDSA key"));
}

TEST_F(VerifierRulesTest, ServiceIsSelfSignedWithEcdsaSha256) {
  // A CA issued by another CA is not a service certificate's trust anchor.
  P256 intermediate_key;
  const Certificate intermediate =
      Build(ServiceSpec(), intermediate_key.get(), &service_, service_key_.get());
  EXPECT_THAT(intermediate.CheckServiceCertificate().message(), HasSubstr("not self-signed"));
  EXPECT_THAT(VerifyUnder(intermediate, intermediate_key.get()).message(),
              HasSubstr("not self-signed"));
  Spec spec = ServiceSpec();
  spec.digest = EVP_sha384();
  const Certificate sha384 = Build(spec, service_key_.get(), nullptr, service_key_.get());
  EXPECT_THAT(VerifyUnder(sha384, service_key_.get()).message(), HasSubstr("ecdsa-with-SHA256"));
}

TEST_F(VerifierRulesTest, ReceiptsCheckTheServiceCertificateFirst) {
  testing::TestLedger ledger;
  const TxId txid = ledger.AppendUser("c", "x");
  ledger.AppendSignature();
  const v1::Receipt receipt = ledger.ReceiptFor(txid);
  ASSERT_TRUE(VerifyReceipt(receipt, ledger.service_cert()).ok());
  // A pinned certificate that is not a CA: refused as the service
  // certificate, whatever the receipt holds.
  EXPECT_THAT(std::string(VerifyReceipt(receipt, ledger.node_cert()).message()),
              StartsWith("service certificate: not a service certificate"));
  // node-01 in the receipt for signer 1.
  Spec spec;
  spec.common_names = {"node-01"};
  v1::Receipt forged = receipt;
  forged.set_node_certificate_pem(
      Build(spec, ledger.node_key().get(), &ledger.service_cert(), ledger.service_key().get())
          .ToPem());
  EXPECT_THAT(std::string(VerifyReceipt(forged, ledger.service_cert()).message()),
              StartsWith("node certificate: \"node-01\" is not a node certificate"));
}

TEST_F(VerifierRulesTest, CertificatesAreX509v3InCanonicalDer) {
  Spec v1;
  v1.version = X509_VERSION_1;
  EXPECT_THAT(Node(v1).NodeCertificateId().status().message(), HasSubstr("not X.509 v3"));
  Spec service_v1 = ServiceSpec();
  service_v1.version = X509_VERSION_1;
  EXPECT_THAT(Build(service_v1, service_key_.get(), nullptr, service_key_.get())
                  .CheckServiceCertificate()
                  .message(),
              HasSubstr("not X.509 v3"));
  // The outer SEQUENCE's length in a longer form than needed (BER): the
  // same certificate, another encoding, so another "fingerprint".
  const std::string der = Node(Spec()).Der();
  ASSERT_EQ(static_cast<unsigned char>(der[1]), 0x82);  // 2 length bytes
  const std::string ber = std::string("\x30\x83\x00", 3) + der.substr(2);
  EXPECT_FALSE(Certificate::FromDer(ber).ok());
  EXPECT_TRUE(Certificate::FromDer(der).ok());
}

// ---- PEM ---------------------------------------------------------------------------

TEST_F(VerifierRulesTest, PemIsOneCertificateBlockWithoutHeaders) {
  const std::string pem = service_.ToPem();
  EXPECT_TRUE(Certificate::FromPem(" \n" + pem + "\n\t\n").ok());
  const std::string body =
      pem.substr(pem.find('\n') + 1, pem.find("-----END") - pem.find('\n') - 1);
  EXPECT_THAT(Certificate::FromPem("-----BEGIN TRUSTED CERTIFICATE-----\n" + body +
                                   "-----END TRUSTED CERTIFICATE-----\n")
                  .status()
                  .message(),
              HasSubstr("CERTIFICATE block"));
  EXPECT_THAT(Certificate::FromPem("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n" +
                                   body + "-----END CERTIFICATE-----\n")
                  .status()
                  .message(),
              HasSubstr("headers"));
  // DER with a byte after it, base64-encoded into an otherwise good block.
  const std::string der = service_.Der() + "x";
  std::string b64(4 * ((der.size() + 2) / 3) + 1, '\0');
  b64.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                                 reinterpret_cast<const unsigned char*>(der.data()),
                                                 static_cast<int>(der.size()))));
  std::string wrapped;
  for (size_t i = 0; i < b64.size(); i += 64) wrapped += b64.substr(i, 64) + "\n";
  EXPECT_THAT(Certificate::FromPem("-----BEGIN CERTIFICATE-----\n" + wrapped +
                                   "-----END CERTIFICATE-----\n")
                  .status()
                  .message(),
              HasSubstr("trailing bytes"));
  // More than 1 MiB, even of allowed whitespace around a good block.
  const std::string padded = pem + std::string((1 << 20) - pem.size(), '\n');
  EXPECT_TRUE(Certificate::FromPem(padded).ok());
  EXPECT_THAT(Certificate::FromPem(padded + "\n").status().message(),
              HasSubstr("PEM larger than 1 MiB"));
}

// ---- Signatures ----------------------------------------------------------------------

// The DER encoding of an ECDSA signature with the given (r, s), with
// `pad_r` extra leading zero bytes in r (non-minimal: BER, not DER).
std::string EncodeSignature(const BIGNUM* r, const BIGNUM* s, int pad_r = 0) {
  const auto integer = [](const BIGNUM* v, int pad) {
    std::string bytes(static_cast<size_t>(BN_num_bytes(v)), '\0');
    BN_bn2bin(v, reinterpret_cast<unsigned char*>(bytes.data()));
    if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
    bytes.insert(0, static_cast<size_t>(pad), '\0');
    return std::string{'\x02', static_cast<char>(bytes.size())} + bytes;
  };
  const std::string body = integer(r, pad_r) + integer(s, 0);
  return std::string{'\x30', static_cast<char>(body.size())} + body;
}

TEST_F(VerifierRulesTest, SignaturesAreStrictDerAndHighSIsAccepted) {
  const std::string message = "statement";
  const std::string der = *node_key_.key.Sign(message);
  const Certificate node = Node(Spec());
  ASSERT_TRUE(node.VerifySignature(message, der).ok());
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  ASSERT_NE(sig, nullptr);
  const BIGNUM* r = ECDSA_SIG_get0_r(sig);
  const BIGNUM* s = ECDSA_SIG_get0_s(sig);
  EXPECT_EQ(EncodeSignature(r, s), der);  // the encoder above is DER
  // (r, n - s) is the other valid signature of the same message: accepted.
  EC_GROUP* group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM* other_s = BN_new();
  ASSERT_EQ(BN_sub(other_s, EC_GROUP_get0_order(group), s), 1);
  EXPECT_TRUE(node.VerifySignature(message, EncodeSignature(r, other_s)).ok());
  // Not DER: a padded integer, raw r || s, trailing bytes.
  EXPECT_THAT(node.VerifySignature(message, EncodeSignature(r, s, 1)).message(),
              HasSubstr("not a valid DER"));
  std::string raw(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  EXPECT_FALSE(node.VerifySignature(message, raw).ok());
  EXPECT_FALSE(node.VerifySignature(message, der + std::string(1, '\0')).ok());
  BN_free(other_s);
  EC_GROUP_free(group);
  ECDSA_SIG_free(sig);
}

TEST_F(VerifierRulesTest, SignatureTxidIsAfterLastTxid) {
  const Certificate node = Node(Spec());
  v1::Checkpoint checkpoint =
      MakeCheckpoint(service_.Fingerprint(), 4, Sha256("root"), TxId{2, 4}, 1'700'000'000'000);
  v1::SignedCheckpoint sc = *SignCheckpoint(checkpoint, 1, node_key_.key);
  const auto with = [&](const std::string& txid) {
    v1::SignedCheckpoint copy = sc;
    copy.set_signature_txid(txid);
    return VerifySignedCheckpoint(copy, node, service_);
  };
  EXPECT_TRUE(with("").ok());  // absent: not checked
  EXPECT_TRUE(with("2.5").ok());
  EXPECT_TRUE(with("3.9").ok());
  EXPECT_THAT(with("2.4").message(), HasSubstr("is not after last_txid"));
  EXPECT_THAT(with("1.5").message(), HasSubstr("is not after last_txid"));
  EXPECT_THAT(with("2.05").message(), HasSubstr("signature_txid"));
}

}  // namespace
}  // namespace cairn::ledger
