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
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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

absl::Time Asn1TimeToAbsl(const ASN1_TIME* t) {
  struct tm tm;
  std::memset(&tm, 0, sizeof(tm));
  CAIRN_CHECK(ASN1_TIME_to_tm(t, &tm) == 1)
      << "certificate time: " << internal::DrainOpenSslErrors();
  return absl::FromTimeT(timegm(&tm));
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
  X509* x509 = PEM_read_bio_X509(bio.get(), nullptr, internal::NoPassword, nullptr);
  if (x509 == nullptr) {
    return OpenSslError("certificate: not a PEM certificate", absl::StatusCode::kInvalidArgument);
  }
  Certificate cert(x509);
  char* rest = nullptr;
  const long rest_len = BIO_get_mem_data(bio.get(), &rest);
  if (rest_len > 0 && !OnlyWhitespace(absl::string_view(rest, static_cast<size_t>(rest_len)))) {
    return absl::InvalidArgumentError("certificate: unexpected data after the PEM block");
  }
  return cert;
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

uint64_t Certificate::NodeId() const {
  const std::string cn = CommonName();
  absl::string_view digits = cn;
  uint64_t id = 0;
  if (!absl::ConsumePrefix(&digits, "node-") || digits.empty() ||
      !absl::c_all_of(digits, absl::ascii_isdigit) || !absl::SimpleAtoi(digits, &id)) {
    return 0;
  }
  const uint32_t xku = X509_get_extended_key_usage(x509_.get());
  const bool server = xku != UINT32_MAX && (xku & XKU_SSL_SERVER) != 0;
  return (id > 0 && server && !IsCa()) ? id : 0;
}

absl::Time Certificate::NotBefore() const {
  return Asn1TimeToAbsl(X509_get0_notBefore(x509_.get()));
}

absl::Time Certificate::NotAfter() const { return Asn1TimeToAbsl(X509_get0_notAfter(x509_.get())); }

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
  OsslPtr<X509_STORE> store(X509_STORE_new());
  OsslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (store == nullptr || ctx == nullptr || X509_STORE_add_cert(store.get(), issuer.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), x509_.get(), nullptr) != 1) {
    return OpenSslError("certificate chain: setup");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(at));
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
