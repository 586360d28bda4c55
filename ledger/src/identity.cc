// ECDSA P-256 keys and X.509 certificates: parsing, encoding, fingerprints,
// signatures and chain checks (see identity.h). Issuing certificates is in
// certificate_issue.cc.
#include "cairn/ledger/identity.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cairn/base/check.h"
#include "cairn/base/files.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/hash.h"
#include "openssl_util.h"

namespace cairn::ledger {
namespace {

using internal::OpenSslError;
using internal::OsslPtr;

constexpr size_t kPemBytesMax = 1 << 20;

absl::StatusOr<absl::Time> Asn1TimeToAbsl(const ASN1_TIME* t) {
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("certificate: malformed validity time");
  }
  return absl::FromTimeT(timegm(&tm));
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

// Why `cert` (named `what`) is not valid at `at`, or OK.
absl::Status CheckValidAt(const Certificate& cert, absl::string_view what, absl::Time at) {
  absl::StatusOr<absl::Time> not_before = Asn1TimeToAbsl(X509_get0_notBefore(cert.get()));
  absl::StatusOr<absl::Time> not_after = Asn1TimeToAbsl(X509_get0_notAfter(cert.get()));
  if (!not_before.ok() || !not_after.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has a malformed validity time"));
  }
  if (at < *not_before) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not yet valid at ", FormatUtc(at),
                                                   " (notBefore ", FormatUtc(*not_before), ")"));
  }
  if (at > *not_after) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has expired at ", FormatUtc(at),
                                                   " (notAfter ", FormatUtc(*not_after), ")"));
  }
  return absl::OkStatus();
}

bool OnlyWhitespace(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

// ---- PrivateKey ------------------------------------------------------------

void PrivateKey::Deleter::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

absl::StatusOr<PrivateKey> PrivateKey::Generate() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  if (pkey == nullptr) return OpenSslError("generate ECDSA P-256 key");
  return PrivateKey(pkey);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  if (pem.size() > kPemBytesMax) {
    return absl::InvalidArgumentError("private key: PEM larger than 1 MiB");
  }
  OsslPtr<BIO> bio = internal::ReadBio(pem);
  OsslPtr<EVP_PKEY> pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, internal::NoPassword, nullptr));
  if (pkey == nullptr) {
    return OpenSslError("private key: not an unencrypted PEM private key",
                        absl::StatusCode::kInvalidArgument);
  }
  if (absl::Status s = internal::CheckP256(pkey.get(), "private key"); !s.ok()) return s;
  return PrivateKey(pkey.release());
}

std::string PrivateKey::ToPem() const {
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  CAIRN_CHECK(bio != nullptr && PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr,
                                                         0, nullptr, nullptr) == 1)
      << "PEM_write_bio_PrivateKey: " << internal::DrainOpenSslErrors();
  return internal::BioContents(bio.get());
}

std::string PrivateKey::PublicKeyDer() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey_.get(), &der);
  CAIRN_CHECK(len > 0) << "i2d_PUBKEY: " << internal::DrainOpenSslErrors();
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> PrivateKey::Sign(absl::string_view data) const {
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                              pkey_.get(), nullptr) != 1) {
    return OpenSslError("sign: init");
  }
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    return OpenSslError("sign: size");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    return OpenSslError("sign");
  }
  sig.resize(len);
  return sig;
}

// ---- Certificate -----------------------------------------------------------

void Certificate::Deleter::operator()(X509* p) const { X509_free(p); }

Certificate::Certificate(const Certificate& other) : x509_(other.x509_.get()) {
  CAIRN_CHECK(X509_up_ref(x509_.get()) == 1) << "X509_up_ref";
}

Certificate& Certificate::operator=(const Certificate& other) {
  if (this != &other) {
    CAIRN_CHECK(X509_up_ref(other.x509_.get()) == 1) << "X509_up_ref";
    x509_.reset(other.x509_.get());
  }
  return *this;
}

absl::StatusOr<Certificate> Certificate::FromPem(absl::string_view pem) {
  if (pem.size() > kPemBytesMax) {
    return absl::InvalidArgumentError("certificate: PEM larger than 1 MiB");
  }
  // PEM readers skip text before the first BEGIN line; refuse it instead.
  if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(pem), "-----BEGIN CERTIFICATE-----")) {
    return absl::InvalidArgumentError("certificate: PEM does not start with a CERTIFICATE block");
  }
  OsslPtr<BIO> bio = internal::ReadBio(pem);
  char* label = nullptr;
  char* headers = nullptr;
  unsigned char* data = nullptr;
  long data_len = 0;
  if (PEM_read_bio(bio.get(), &label, &headers, &data, &data_len) != 1) {
    return OpenSslError("certificate: not a PEM certificate", absl::StatusCode::kInvalidArgument);
  }
  const bool certificate_label = std::strcmp(label, "CERTIFICATE") == 0;
  const bool has_headers = headers != nullptr && headers[0] != '\0';
  std::string der(reinterpret_cast<char*>(data), static_cast<size_t>(data_len));
  OPENSSL_free(label);
  OPENSSL_free(headers);
  OPENSSL_free(data);
  if (!certificate_label) {
    return absl::InvalidArgumentError("certificate: PEM block is not labelled CERTIFICATE");
  }
  if (has_headers) return absl::InvalidArgumentError("certificate: PEM block has headers");
  char* rest = nullptr;
  const long rest_len = BIO_get_mem_data(bio.get(), &rest);
  if (rest_len > 0 && !OnlyWhitespace(absl::string_view(rest, static_cast<size_t>(rest_len)))) {
    return absl::InvalidArgumentError("certificate: unexpected data after the PEM block");
  }
  return FromDer(der);
}

absl::StatusOr<Certificate> Certificate::FromDer(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = p + der.size();
  X509* x509 = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x509 == nullptr) {
    return OpenSslError("certificate: not a DER certificate", absl::StatusCode::kInvalidArgument);
  }
  Certificate cert(x509);
  if (p != end) return absl::InvalidArgumentError("certificate: trailing bytes after the DER");
  // The parser accepts some BER; a fingerprint is over DER, so only the
  // encoding that re-encodes to itself is one.
  if (cert.Der() != der) {
    return absl::InvalidArgumentError("certificate: not in canonical DER");
  }
  return cert;
}

std::string Certificate::ToPem() const {
  OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
  CAIRN_CHECK(bio != nullptr && PEM_write_bio_X509(bio.get(), x509_.get()) == 1)
      << "PEM_write_bio_X509: " << internal::DrainOpenSslErrors();
  return internal::BioContents(bio.get());
}

std::string Certificate::Der() const {
  unsigned char* der = nullptr;
  const int len = i2d_X509(x509_.get(), &der);
  CAIRN_CHECK(len > 0) << "i2d_X509: " << internal::DrainOpenSslErrors();
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string Certificate::Fingerprint() const { return HashToHex(Sha256(Der())); }

std::string Certificate::CommonName() const {
  const X509_NAME* name = X509_get_subject_name(x509_.get());
  const int pos = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (pos < 0) return "";
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, value);
  if (len < 0) {
    ERR_clear_error();
    return "";
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

bool Certificate::IsCa() const { return (X509_get_extension_flags(x509_.get()) & EXFLAG_CA) != 0; }

absl::StatusOr<uint64_t> Certificate::NodeCertificateId() const {
  // Reading a malformed certificate queues OpenSSL errors; none may outlive
  // this check (a later SSL_get_error on this thread would read them).
  ERR_set_mark();
  absl::StatusOr<uint64_t> id = NodeCertificateIdChecks();
  ERR_pop_to_mark();
  return id;
}

absl::StatusOr<uint64_t> Certificate::NodeCertificateIdChecks() const {
  const auto not_node = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("not a node certificate: ", why));
  };
  if (X509_get_version(x509_.get()) != X509_VERSION_3) return not_node("it is not X.509 v3");
  const uint32_t flags = X509_get_extension_flags(x509_.get());
  if ((flags & EXFLAG_INVALID) != 0) return not_node("its extensions are malformed or repeated");
  const X509_NAME* name = X509_get_subject_name(x509_.get());
  int common_names = 0;
  for (int pos = -1; (pos = X509_NAME_get_index_by_NID(name, NID_commonName, pos)) >= 0;) {
    ++common_names;
  }
  if (common_names != 1) {
    return not_node(
        absl::StrCat("its subject has ", common_names, " commonNames (exactly one is allowed)"));
  }
  const std::string cn = CommonName();
  absl::string_view digits = cn;
  uint64_t id = 0;
  if (!absl::ConsumePrefix(&digits, "node-") || digits.empty() || digits[0] == '0' ||
      !absl::c_all_of(digits, absl::ascii_isdigit) || !absl::SimpleAtoi(digits, &id)) {
    return not_node(absl::StrCat("commonName \"", absl::CHexEscape(cn.substr(0, 64)),
                                 "\" is not node-<id> (a decimal id from 1, no leading zeros)"));
  }
  if (IsCa()) return not_node("it is a CA (basicConstraints CA:TRUE)");
  const uint32_t xku = X509_get_extended_key_usage(x509_.get());
  if ((flags & EXFLAG_XKUSAGE) == 0 || (xku & XKU_SSL_SERVER) == 0) {
    return not_node("its extended key usage does not include serverAuth");
  }
  if ((flags & EXFLAG_KUSAGE) != 0 &&
      (X509_get_key_usage(x509_.get()) & KU_DIGITAL_SIGNATURE) == 0) {
    return not_node("its keyUsage does not include digitalSignature");
  }
  if (absl::Status s = internal::CheckP256(X509_get0_pubkey(x509_.get()), "its key"); !s.ok()) {
    return not_node(s.message());
  }
  return id;
}

uint64_t Certificate::NodeId() const {
  absl::StatusOr<uint64_t> id = NodeCertificateId();
  return id.ok() ? *id : 0;
}

absl::Status Certificate::CheckServiceCertificate() const {
  ERR_set_mark();  // as in NodeCertificateId
  absl::Status status = CheckServiceCertificateChecks();
  ERR_pop_to_mark();
  return status;
}

absl::Status Certificate::CheckServiceCertificateChecks() const {
  const auto not_service = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("not a service certificate: ", why));
  };
  if (X509_get_version(x509_.get()) != X509_VERSION_3) return not_service("it is not X.509 v3");
  const uint32_t flags = X509_get_extension_flags(x509_.get());
  if ((flags & EXFLAG_INVALID) != 0) return not_service("its extensions are malformed or repeated");
  if (absl::Status s = internal::CheckP256(X509_get0_pubkey(x509_.get()), "its key"); !s.ok()) {
    return not_service(s.message());
  }
  int critical = -1;
  auto* constraints = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(x509_.get(), NID_basic_constraints, &critical, nullptr));
  const bool present = constraints != nullptr;
  const bool ca = present && constraints->ca != 0;
  BASIC_CONSTRAINTS_free(constraints);
  if (!present) return not_service("it has no basicConstraints extension");
  if (!ca) return not_service("its basicConstraints is not CA:TRUE");
  if (critical != 1) return not_service("its basicConstraints extension is not critical");
  if ((flags & EXFLAG_KUSAGE) == 0 || (X509_get_key_usage(x509_.get()) & KU_KEY_CERT_SIGN) == 0) {
    return not_service("its keyUsage is absent or does not include keyCertSign");
  }
  if (X509_get_signature_nid(x509_.get()) != NID_ecdsa_with_SHA256) {
    return not_service("it is not signed with ecdsa-with-SHA256");
  }
  if (X509_self_signed(x509_.get(), /*verify_signature=*/1) != 1) {
    return not_service("it is not self-signed (issued by itself, signed by its own key)");
  }
  return absl::OkStatus();
}

absl::Time Certificate::NotBefore() const {
  absl::StatusOr<absl::Time> t = Asn1TimeToAbsl(X509_get0_notBefore(x509_.get()));
  return t.ok() ? *t : absl::InfiniteFuture();
}

absl::Time Certificate::NotAfter() const {
  absl::StatusOr<absl::Time> t = Asn1TimeToAbsl(X509_get0_notAfter(x509_.get()));
  return t.ok() ? *t : absl::InfinitePast();
}

bool Certificate::ValidAt(absl::Time at) const { return NotBefore() <= at && at <= NotAfter(); }

bool Certificate::MatchesKey(const PrivateKey& key) const {
  const bool match = X509_check_private_key(x509_.get(), key.get()) == 1;
  ERR_clear_error();
  return match;
}

absl::Status Certificate::VerifySignature(absl::string_view data,
                                          absl::string_view signature) const {
  EVP_PKEY* pkey = X509_get0_pubkey(x509_.get());
  if (absl::Status s = internal::CheckP256(pkey, "certificate public key"); !s.ok()) return s;
  OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, pkey, nullptr) != 1) {
    return OpenSslError("verify signature: init");
  }
  const int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(data.data()), data.size());
  if (rc == 1) return absl::OkStatus();
  // 0 is a well-formed signature that does not verify; < 0 a malformed one.
  const std::string detail = internal::DrainOpenSslErrors();
  return absl::InvalidArgumentError(
      rc == 0 ? "signature does not verify under the certificate's key"
              : absl::StrCat("signature is not a valid DER ECDSA signature (", detail, ")"));
}

absl::Status Certificate::VerifyIssuedBy(const Certificate& issuer, absl::Time at) const {
  if (X509_cmp(x509_.get(), issuer.get()) == 0) {
    return absl::InvalidArgumentError("certificate is the issuer certificate itself");
  }
  if (absl::Status s = issuer.CheckServiceCertificate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the issuer is ", s.message()));
  }
  if (X509_get_signature_nid(x509_.get()) != NID_ecdsa_with_SHA256) {
    return absl::InvalidArgumentError("certificate is not signed with ecdsa-with-SHA256");
  }
  OsslPtr<X509_STORE> store(X509_STORE_new());
  OsslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (store == nullptr || ctx == nullptr || X509_STORE_add_cert(store.get(), issuer.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), x509_.get(), nullptr) != 1) {
    return OpenSslError("certificate chain: setup");
  }
  // Validity is checked below, inclusively and to the millisecond; OpenSSL's
  // check treats notAfter itself as expired and works in whole seconds.
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("certificate does not chain to the issuer: ",
                                                   X509_verify_cert_error_string(err)));
  }
  // The issuer is the only trust anchor, so a verified chain is exactly
  // [this, issuer]; check it rather than rely on it.
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  if (chain == nullptr || sk_X509_num(chain) != 2 ||
      X509_cmp(sk_X509_value(chain, 1), issuer.get()) != 0) {
    return absl::InvalidArgumentError("certificate is not issued directly by the issuer");
  }
  if (absl::Status s = CheckValidAt(issuer, "the issuer", at); !s.ok()) return s;
  return CheckValidAt(*this, "certificate", at);
}

absl::Status VerifyNodeCertificate(const Certificate& node_cert, const Certificate& service_cert,
                                   absl::Time at, uint64_t signer_node_id) {
  if (absl::Status s = node_cert.VerifyIssuedBy(service_cert, at); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = node_cert.NodeCertificateId();
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(node_cert.CommonName().substr(0, 64)), "\" is ",
                     id.status().message()));
  }
  if (*id != signer_node_id) {
    return absl::InvalidArgumentError(absl::StrCat("it is the certificate of node ", *id,
                                                   ", not of signer_node_id ", signer_node_id));
  }
  return absl::OkStatus();
}

// ---- Files -----------------------------------------------------------------

absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path) {
  absl::StatusOr<std::string> pem = base::ReadFileToString(path, kPemBytesMax);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPem(*pem);
  if (!key.ok())
    return absl::Status(key.status().code(), absl::StrCat(path, ": ", key.status().message()));
  return key;
}

absl::StatusOr<Certificate> ReadCertificateFile(const std::string& path) {
  absl::StatusOr<std::string> pem = base::ReadFileToString(path, kPemBytesMax);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<Certificate> cert = Certificate::FromPem(*pem);
  if (!cert.ok()) {
    return absl::Status(cert.status().code(), absl::StrCat(path, ": ", cert.status().message()));
  }
  return cert;
}

absl::Status WriteKeyAndCertificate(const std::string& dir, absl::string_view name,
                                    const PrivateKey& key, const Certificate& cert) {
  if (name.empty() || absl::StrContains(name, '/') || name == "." || name == "..") {
    return absl::InvalidArgumentError(absl::StrCat("file name '", name, "' is not a plain name"));
  }
  const std::string base = absl::StrCat(dir, "/", name);
  return base::CreateNewFiles({
      {absl::StrCat(base, ".key"), key.ToPem(), 0600},
      {absl::StrCat(base, ".pem"), cert.ToPem(), 0644},
  });
}

}  // namespace cairn::ledger
