// Keys and X.509 identities: the service identity (a self-signed CA), node
// certificates (TLS server and client, issued by the service identity) and
// user certificates (TLS client), all ECDSA P-256 through OpenSSL 3 EVP.
//
// The SHA-256 fingerprint of a certificate's DER encoding, in lowercase hex,
// names it everywhere else: a user's certificate fingerprint is its user_id,
// the service certificate's is the service_id. Signatures are DER-encoded
// ECDSA P-256 over SHA-256 of the message.
//
// Every handle is owned (RAII); every failure is an absl::Status carrying the
// OpenSSL error text. Nothing here reads the clock implicitly except the
// defaults of the option structs, so tests pin time by setting `now`.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cairn::ledger {

// An ECDSA P-256 key pair. Move-only.
class PrivateKey {
 public:
  // A fresh key from the OpenSSL default random generator.
  static absl::StatusOr<PrivateKey> Generate();
  // Parses an unencrypted PEM private key (PKCS#8 "PRIVATE KEY" or SEC1 "EC
  // PRIVATE KEY"). InvalidArgument unless it is an ECDSA P-256 key.
  static absl::StatusOr<PrivateKey> FromPem(absl::string_view pem);

  // Unencrypted PKCS#8 PEM. Whoever writes it to disk keeps it at mode 0600.
  std::string ToPem() const;
  // The public half as DER SubjectPublicKeyInfo.
  std::string PublicKeyDer() const;
  // DER ECDSA signature of SHA-256(data).
  absl::StatusOr<std::string> Sign(absl::string_view data) const;

  // The OpenSSL handle, still owned by this object.
  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  struct Deleter {
    void operator()(EVP_PKEY* p) const;
  };
  explicit PrivateKey(EVP_PKEY* pkey) : pkey_(pkey) {}

  std::unique_ptr<EVP_PKEY, Deleter> pkey_;  // Invariant: non-null, EC P-256.
};

// An X.509 certificate. Copies share the underlying (immutable) X509.
class Certificate {
 public:
  // Parses exactly one PEM certificate; anything but whitespace after it is
  // rejected, so a certificate has one textual form per DER. InvalidArgument.
  static absl::StatusOr<Certificate> FromPem(absl::string_view pem);
  // Parses a DER certificate; trailing bytes, and encodings that are not
  // canonical DER, are rejected. InvalidArgument.
  static absl::StatusOr<Certificate> FromDer(absl::string_view der);

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;

  std::string ToPem() const;
  std::string Der() const;
  // Lowercase hex SHA-256 of Der(): a user_id, or for the service certificate the service_id.
  std::string Fingerprint() const;
  // The subject's commonName ("" when absent).
  std::string CommonName() const;
  // True when basicConstraints says CA:TRUE.
  bool IsCa() const;
  // The node id of a node certificate (docs/formats.md, "Certificates"):
  // X.509 v3; an ECDSA P-256 key; a subject with exactly one commonName, "node-<id>" with
  // <id> in decimal without leading zeros, 1 to 2^64-1; extended key usage
  // present and including serverAuth; not a CA; keyUsage, when present,
  // including digitalSignature. InvalidArgument naming the rule it breaks
  // otherwise, in particular for user certificates (clientAuth only),
  // whatever their name: only a node certificate may sign checkpoints or
  // speak on the peer port.
  absl::StatusOr<uint64_t> NodeCertificateId() const;
  // NodeCertificateId(), or 0 for a certificate that is not a node's.
  uint64_t NodeId() const;
  // OK when this certificate may be a service certificate (the trust anchor
  // verifiers pin; docs/formats.md, "Certificates"): X.509 v3, an ECDSA
  // P-256 key, basicConstraints present, critical and CA:TRUE, keyUsage
  // present and including keyCertSign, self-signed with ecdsa-with-SHA256.
  // InvalidArgument naming the rule it breaks otherwise. (Validity is
  // checked by VerifyIssuedBy, at the time that matters.)
  absl::Status CheckServiceCertificate() const;
  absl::Time NotBefore() const;
  absl::Time NotAfter() const;
  // True when NotBefore() <= at <= NotAfter(): both bounds inclusive (RFC
  // 5280 §4.1.2.5), compared at full precision (certificate times are whole
  // seconds, so NotAfter() itself is valid and a millisecond later is not).
  bool ValidAt(absl::Time at) const;
  // True when `key` is the private half of this certificate's public key.
  bool MatchesKey(const PrivateKey& key) const;

  // OK when `signature` (DER ECDSA) signs SHA-256(data) under this
  // certificate's public key. InvalidArgument when it does not, when the
  // signature is malformed, or when the key is not ECDSA P-256.
  absl::Status VerifySignature(absl::string_view data, absl::string_view signature) const;

  // OK when this certificate chains directly to `issuer`: `issuer` passes
  // CheckServiceCertificate() and is self-signed; this certificate is issued
  // by it (names and key identifiers match), signed by its key with
  // ecdsa-with-SHA256; and both are valid at `at` (ValidAt). A certificate is
  // never accepted as issued by itself. InvalidArgument naming the failed
  // check otherwise.
  absl::Status VerifyIssuedBy(const Certificate& issuer, absl::Time at) const;

  // The OpenSSL handle, still owned by this object.
  X509* get() const { return x509_.get(); }

 private:
  struct Deleter {
    void operator()(X509* p) const;
  };
  explicit Certificate(X509* x509) : x509_(x509) {}
  absl::StatusOr<uint64_t> NodeCertificateIdChecks() const;
  absl::Status CheckServiceCertificateChecks() const;

  std::unique_ptr<X509, Deleter> x509_;  // Invariant: non-null.
};

// Every check a verifier makes of the certificate of a node that signed
// something at `at` (docs/formats.md, "Certificates"): it chains directly to
// `service_cert` and both are valid at `at` (VerifyIssuedBy), and it is the
// node certificate (NodeCertificateId) of node `signer_node_id`.
// InvalidArgument naming the rule it breaks otherwise.
absl::Status VerifyNodeCertificate(const Certificate& node_cert, const Certificate& service_cert,
                                   absl::Time at, uint64_t signer_node_id);

// Limits on what goes into a certificate.
inline constexpr int kValidityDaysMax = 36500;
inline constexpr size_t kCommonNameBytesMax = 64;  // X.509 ub-common-name

struct ServiceCertificateOptions {
  std::string common_name = "Cairn service identity";
  int validity_days = 3650;
  // Issue time. notBefore is set 5 minutes earlier to tolerate clock skew
  // between the machines that check it.
  absl::Time now = absl::Now();
};

struct NodeCertificateOptions {
  uint64_t node_id = 0;  // must be > 0; CN and a DNS SAN are "node-<id>"
  std::vector<std::string> ip_addresses = {"127.0.0.1"};
  std::vector<std::string> dns_names = {"localhost"};  // "node-<id>" is always added
  int validity_days = 365;
  absl::Time now = absl::Now();
};

struct UserCertificateOptions {
  std::string name;  // subject CN: 1 to 64 bytes of printable UTF-8
  int validity_days = 365;
  absl::Time now = absl::Now();
};

// A self-signed CA certificate for `service_key`: basicConstraints
// critical CA:TRUE, pathlen 0; keyUsage critical keyCertSign, cRLSign.
absl::StatusOr<Certificate> CreateServiceCertificate(const PrivateKey& service_key,
                                                     const ServiceCertificateOptions& options);

// A node certificate for `node_key`, signed by the service identity:
// CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth and
// clientAuth, subjectAltName with the IPs and DNS names. InvalidArgument
// naming the option when one is malformed, or when `service_key` does not
// belong to `service_cert`.
absl::StatusOr<Certificate> IssueNodeCertificate(const Certificate& service_cert,
                                                 const PrivateKey& service_key,
                                                 const PrivateKey& node_key,
                                                 const NodeCertificateOptions& options);

// A user certificate for `user_key` (CA:FALSE, digitalSignature, clientAuth).
absl::StatusOr<Certificate> IssueUserCertificate(const Certificate& service_cert,
                                                 const PrivateKey& service_key,
                                                 const PrivateKey& user_key,
                                                 const UserCertificateOptions& options);

// Reads a PEM key or certificate file (at most 1 MiB).
absl::StatusOr<PrivateKey> ReadPrivateKeyFile(const std::string& path);
absl::StatusOr<Certificate> ReadCertificateFile(const std::string& path);

// Creates `<dir>/<name>.key` (mode 0600) and `<dir>/<name>.pem` (0644):
// both or neither, each complete and synced. AlreadyExists if either exists;
// nothing is ever overwritten.
absl::Status WriteKeyAndCertificate(const std::string& dir, absl::string_view name,
                                    const PrivateKey& key, const Certificate& cert);

}  // namespace cairn::ledger
