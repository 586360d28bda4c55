// Issuing X.509 certificates: the self-signed service identity CA, node
// certificates and user certificates (see identity.h). Every option is
// validated before anything is built, so a bad option fails with its name.
#include <arpa/inet.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/base/check.h"
#include "cairn/ledger/identity.h"
#include "openssl_util.h"

namespace cairn::ledger {
namespace {

using internal::OpenSslError;
using internal::OsslPtr;

// notBefore is backdated by this much so a peer whose clock is slightly
// behind the issuer's accepts a freshly issued certificate.
constexpr long kClockSkewSeconds = 300;

struct CertificateSpec {
  std::string common_name;
  const PrivateKey* subject_key = nullptr;
  const Certificate* issuer = nullptr;  // null: self-signed with subject_key
  const PrivateKey* signer_key = nullptr;
  int validity_days = 0;
  absl::Time now;
  // (NID, OpenSSL config value) in the order they are added.
  std::vector<std::pair<int, std::string>> extensions;
};

absl::Status CheckCommonName(absl::string_view name, absl::string_view what) {
  if (name.empty() || name.size() > kCommonNameBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": must be 1 to ", kCommonNameBytesMax, " bytes, got ", name.size()));
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": contains a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValidityDays(int days) {
  if (days < 1 || days > kValidityDaysMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("validity_days: must be 1 to ", kValidityDaysMax, ", got ", days));
  }
  return absl::OkStatus();
}

// A DNS name of letters, digits and hyphens in dot-separated labels.
absl::Status CheckDnsName(absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 253;
  size_t label = 0;
  for (size_t i = 0; ok && i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      ok = label >= 1 && label <= 63 && name[i - 1] != '-' && name[i - label] != '-';
      label = 0;
    } else {
      ok = absl::ascii_isalnum(static_cast<unsigned char>(name[i])) || name[i] == '-';
      ++label;
    }
  }
  if (!ok)
    return absl::InvalidArgumentError(absl::StrCat("dns_names: '", name, "' is not a DNS name"));
  return absl::OkStatus();
}

absl::Status CheckIpAddress(const std::string& ip) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ip_addresses: '", ip, "' is not an IP address"));
  }
  return absl::OkStatus();
}

absl::Status CheckIssuer(const Certificate& service_cert, const PrivateKey& service_key) {
  if (!service_cert.IsCa()) {
    return absl::InvalidArgumentError("service certificate: not a CA certificate");
  }
  if (!service_cert.MatchesKey(service_key)) {
    return absl::InvalidArgumentError("service key: does not belong to the service certificate");
  }
  return absl::OkStatus();
}

absl::Status SetRandomSerial(X509* x509) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return OpenSslError("certificate serial");
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);  // positive, 16 bytes
  OsslPtr<BIGNUM> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  OsslPtr<ASN1_INTEGER> serial(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  if (serial == nullptr || X509_set_serialNumber(x509, serial.get()) != 1) {
    return OpenSslError("certificate serial");
  }
  return absl::OkStatus();
}

absl::Status SetNamesTimesAndKey(X509* x509, const CertificateSpec& spec) {
  time_t base = absl::ToTimeT(spec.now);
  X509_NAME* subject = X509_get_subject_name(x509);
  if (X509_set_version(x509, X509_VERSION_3) != 1 ||
      X509_time_adj_ex(X509_getm_notBefore(x509), 0, -kClockSkewSeconds, &base) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(x509), spec.validity_days, 0, &base) == nullptr ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                                 static_cast<int>(spec.common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(x509, spec.issuer != nullptr ? X509_get_subject_name(spec.issuer->get())
                                                        : subject) != 1 ||
      X509_set_pubkey(x509, spec.subject_key->get()) != 1) {
    return OpenSslError("certificate fields", absl::StatusCode::kInvalidArgument);
  }
  return absl::OkStatus();
}

absl::Status AddExtensions(X509* x509, const CertificateSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, spec.issuer != nullptr ? spec.issuer->get() : x509, x509, nullptr, nullptr,
                 0);
  if (spec.issuer == nullptr && X509V3_set_issuer_pkey(&ctx, spec.signer_key->get()) != 1) {
    return OpenSslError("certificate extensions: issuer key");
  }
  for (const auto& [nid, value] : spec.extensions) {
    OsslPtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
    if (ext == nullptr || X509_add_ext(x509, ext.get(), -1) != 1) {
      return OpenSslError(absl::StrCat("certificate extension ", OBJ_nid2sn(nid), "=", value),
                          absl::StatusCode::kInvalidArgument);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Certificate> Build(const CertificateSpec& spec) {
  OsslPtr<X509> x509(X509_new());
  if (x509 == nullptr) return OpenSslError("X509_new");
  if (absl::Status s = SetRandomSerial(x509.get()); !s.ok()) return s;
  if (absl::Status s = SetNamesTimesAndKey(x509.get(), spec); !s.ok()) return s;
  if (absl::Status s = AddExtensions(x509.get(), spec); !s.ok()) return s;
  if (X509_sign(x509.get(), spec.signer_key->get(), EVP_sha256()) <= 0) {
    return OpenSslError("sign certificate");
  }
  // Round-trip through DER so the returned object is exactly what a peer parses.
  unsigned char* der = nullptr;
  const int len = i2d_X509(x509.get(), &der);
  if (len <= 0) return OpenSslError("encode certificate");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return Certificate::FromDer(bytes);
}

std::vector<std::pair<int, std::string>> LeafExtensions(absl::string_view extended_key_usage) {
  return {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, std::string(extended_key_usage)},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
}

}  // namespace

absl::StatusOr<Certificate> CreateServiceCertificate(const PrivateKey& service_key,
                                                     const ServiceCertificateOptions& options) {
  if (absl::Status s = CheckCommonName(options.common_name, "common_name"); !s.ok()) return s;
  if (absl::Status s = CheckValidityDays(options.validity_days); !s.ok()) return s;
  CertificateSpec spec;
  spec.common_name = options.common_name;
  spec.subject_key = &service_key;
  spec.signer_key = &service_key;
  spec.validity_days = options.validity_days;
  spec.now = options.now;
  spec.extensions = {
      {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
      {NID_key_usage, "critical,keyCertSign,cRLSign"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  return Build(spec);
}

absl::StatusOr<Certificate> IssueNodeCertificate(const Certificate& service_cert,
                                                 const PrivateKey& service_key,
                                                 const PrivateKey& node_key,
                                                 const NodeCertificateOptions& options) {
  if (options.node_id == 0) return absl::InvalidArgumentError("node_id: must be > 0");
  if (absl::Status s = CheckValidityDays(options.validity_days); !s.ok()) return s;
  if (absl::Status s = CheckIssuer(service_cert, service_key); !s.ok()) return s;
  const std::string node_name = absl::StrCat("node-", options.node_id);
  std::vector<std::string> san;
  for (const std::string& ip : options.ip_addresses) {
    if (absl::Status s = CheckIpAddress(ip); !s.ok()) return s;
    san.push_back(absl::StrCat("IP:", ip));
  }
  for (const std::string& dns : options.dns_names) {
    if (absl::Status s = CheckDnsName(dns); !s.ok()) return s;
    if (dns != node_name) san.push_back(absl::StrCat("DNS:", dns));
  }
  san.push_back(absl::StrCat("DNS:", node_name));
  CertificateSpec spec;
  spec.common_name = node_name;
  spec.subject_key = &node_key;
  spec.issuer = &service_cert;
  spec.signer_key = &service_key;
  spec.validity_days = options.validity_days;
  spec.now = options.now;
  spec.extensions = LeafExtensions("serverAuth,clientAuth");
  spec.extensions.emplace_back(NID_subject_alt_name, absl::StrJoin(san, ","));
  return Build(spec);
}

absl::StatusOr<Certificate> IssueUserCertificate(const Certificate& service_cert,
                                                 const PrivateKey& service_key,
                                                 const PrivateKey& user_key,
                                                 const UserCertificateOptions& options) {
  if (absl::Status s = CheckCommonName(options.name, "name"); !s.ok()) return s;
  // Node names are reserved, so no user certificate can be mistaken for a
  // node's by a reader that looks at the name alone.
  if (absl::StartsWith(options.name, "node-")) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: \"", options.name, "\" is reserved (node-* names are for nodes)"));
  }
  if (absl::Status s = CheckValidityDays(options.validity_days); !s.ok()) return s;
  if (absl::Status s = CheckIssuer(service_cert, service_key); !s.ok()) return s;
  CertificateSpec spec;
  spec.common_name = options.name;
  spec.subject_key = &user_key;
  spec.issuer = &service_cert;
  spec.signer_key = &service_key;
  spec.validity_days = options.validity_days;
  spec.now = options.now;
  spec.extensions = LeafExtensions("clientAuth");
  return Build(spec);
}

}  // namespace cairn::ledger
