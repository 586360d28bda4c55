// Private ledgers (docs/formats.md, "Private entries v1"): a user entry's
// contents are sealed with AES-256-GCM under a ledger secret before they are
// proposed, and the entry's leaf binds a salted commitment to them (HMAC-
// SHA256 keyed with a random per-entry salt) instead of their SHA-256, so no
// one who holds the ledger's files can confirm a guess of the contents from
// the tree. Ledger secrets travel wrapped to a P-256 public key (a node's or
// an operator's certificate): ECDH with a fresh key, HKDF-SHA256, AES-256-GCM.
//
// Everything here is deterministic given its inputs except NewLedgerSecret,
// NewContentsSalt and WrapSecret, which draw from OpenSSL's random generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::ledger {

inline constexpr size_t kLedgerSecretBytes = 32;
inline constexpr size_t kContentsSaltBytes = 32;
inline constexpr size_t kSealTagBytes = 16;
// Sealing puts the term in 32 bits of the nonce (below): the largest term
// that can seal. A service would need four billion elections to reach it.
inline constexpr uint64_t kSealTermMax = 0xffffffffu;

// One version of a ledger's secret: an AES-256 key. Version 1 is the
// ledger's first; each rotation adds one. The key is wiped when the object
// is destroyed (it must never reach a disk or a log in the clear).
class LedgerSecret {
 public:
  // InvalidArgument unless `key` is kLedgerSecretBytes long and version >= 1.
  static absl::StatusOr<LedgerSecret> FromBytes(uint32_t version, absl::string_view key);
  // A new random secret.
  static absl::StatusOr<LedgerSecret> Generate(uint32_t version);

  // Copies and moves leave no key bytes behind but in live objects (the
  // key's buffer is reused by assignment and handed over by a move).
  LedgerSecret(const LedgerSecret& other) = default;
  LedgerSecret& operator=(const LedgerSecret& other) = default;
  LedgerSecret(LedgerSecret&& other) noexcept = default;
  LedgerSecret& operator=(LedgerSecret&& other) noexcept = default;
  ~LedgerSecret();

  uint32_t version() const { return version_; }
  absl::string_view key() const { return key_; }

 private:
  LedgerSecret(uint32_t version, std::string key) : version_(version), key_(std::move(key)) {}

  uint32_t version_;
  std::string key_;  // kLedgerSecretBytes
};

// kContentsSaltBytes random bytes: a new salt for each private entry.
absl::StatusOr<std::string> NewContentsSalt();

// HMAC-SHA256 keyed with `salt` over `contents`: a private user entry's
// contents_digest. InvalidArgument unless the salt is kContentsSaltBytes.
absl::StatusOr<Hash> ContentsCommitment(absl::string_view salt, absl::string_view contents);

// What sealing protects: the entry's salt and contents.
struct OpenedContents {
  std::string salt;
  std::string contents;
};

// Seals salt || contents for the entry at `txid` in `collection_id`:
// AES-256-GCM under `secret` with
//   nonce = u32 term || u64 index (12 bytes; unique per entry, see formats.md)
//   associated data = "cairn-sealed-v1" || u32 secret version || u64 term ||
//                     u64 index || u16 length of collection_id || collection_id
// and returns ciphertext || 16-byte tag (as long as the plaintext plus 16).
// InvalidArgument for a salt of the wrong size; FailedPrecondition for a
// term above kSealTermMax.
absl::StatusOr<std::string> SealContents(const LedgerSecret& secret, const TxId& txid,
                                         absl::string_view collection_id, absl::string_view salt,
                                         absl::string_view contents);

// Opens what SealContents sealed for the same txid, collection and secret.
// DataLoss when the tag does not verify (the ciphertext, its txid,
// collection or version was altered, or another secret sealed it); the
// message names the entry and nothing of its contents.
absl::StatusOr<OpenedContents> OpenContents(const LedgerSecret& secret, const TxId& txid,
                                            absl::string_view collection_id,
                                            absl::string_view sealed);

// SHA-256 of u32 secret_version || ciphertext: a private user leaf's
// sealed_digest, which binds the stored ciphertext into the tree.
Hash SealedDigest(const v1::SealedContents& sealed);

// Wraps `secret_bytes` (1 to 64 bytes) to the P-256 public key of
// `recipient`: a fresh P-256 key pair, ECDH with the recipient's key,
// HKDF-SHA256 (salt: both public keys; info: "cairn-wrap-v1" || context)
// to an AES-256-GCM key used once (nonce zero, associated data: context).
// Result: 0x01 || the fresh public key (65 bytes, uncompressed) ||
// ciphertext || tag. `context` says what is wrapped for whom (e.g. the
// ledger, secret version and node id); unwrapping needs the same.
// InvalidArgument when the certificate's key is not P-256.
absl::StatusOr<std::string> WrapSecret(absl::string_view secret_bytes, const Certificate& recipient,
                                       absl::string_view context);

// WrapSecret to a bare P-256 public key (DER SubjectPublicKeyInfo), such as
// a private ledger's recovery key (v1::RecoveryKey.public_key_der).
// InvalidArgument when it is not DER or not P-256.
absl::StatusOr<std::string> WrapSecretToPublicKey(absl::string_view secret_bytes,
                                                  absl::string_view public_key_der,
                                                  absl::string_view context);

// AES-256-GCM under a 32-byte key that seals exactly one message (nonce
// zero; associated data: `context`): ciphertext || tag. The recovery key's
// private key is sealed so, under the recovery secret.
absl::StatusOr<std::string> SealWithOneTimeKey(absl::string_view key, absl::string_view context,
                                               absl::string_view plaintext);
// The plaintext SealWithOneTimeKey sealed; InvalidArgument when it does not
// open with this key and context.
absl::StatusOr<std::string> OpenWithOneTimeKey(absl::string_view key, absl::string_view context,
                                               absl::string_view sealed);

// "cairn ledger secret v<version> for the recovery key of service
// <service_id>": a secret version wrapped to the recovery key.
std::string RecoveryKeyWrapContext(uint32_t version, absl::string_view service_id);
// "cairn recovery key of service <service_id>": the recovery key's private
// key sealed under the recovery secret.
std::string RecoveryKeySealContext(absl::string_view service_id);
// "cairn recovery share <index> for operator <fingerprint> of service
// <service_id>": one operator's share, wrapped to its certificate.
std::string RecoveryShareContext(uint32_t index, absl::string_view operator_fingerprint,
                                 absl::string_view service_id);

// The context a ledger secret is wrapped to a node under (WrapSecret):
// "cairn ledger secret v<version> for node <node_id> of service
// <service_id>", so a wrapped copy cannot be replayed for another version,
// node or service.
std::string LedgerSecretWrapContext(uint32_t version, uint64_t node_id,
                                    absl::string_view service_id);

// A version of the ledger secret wrapped to node `node_id` (its
// certificate `cert`), as governance records it.
absl::StatusOr<v1::WrappedLedgerSecret> WrapLedgerSecretForNode(const LedgerSecret& secret,
                                                                uint64_t node_id,
                                                                const Certificate& cert,
                                                                absl::string_view service_id);
// A version of the ledger secret wrapped to the ledger's recovery key
// (node_id 0; certificate_fingerprint: hex SHA-256 of its public_key_der).
absl::StatusOr<v1::WrappedLedgerSecret> WrapLedgerSecretForRecovery(
    const LedgerSecret& secret, const v1::RecoveryKey& recovery_key, absl::string_view service_id);
// The secret of a copy WrapLedgerSecretForRecovery made, opened with the
// recovery key's private key.
absl::StatusOr<LedgerSecret> UnwrapLedgerSecretFromRecovery(const v1::WrappedLedgerSecret& wrapped,
                                                            const PrivateKey& recovery_private_key,
                                                            absl::string_view service_id);

// The secret WrapSecret wrapped, opened with the recipient's private key.
// InvalidArgument when the bytes are malformed or do not open with this key
// and context (another recipient's key, another context, or altered).
absl::StatusOr<std::string> UnwrapSecret(absl::string_view wrapped, const PrivateKey& key,
                                         absl::string_view context);

}  // namespace cairn::ledger
