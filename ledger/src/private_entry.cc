// Sealing, commitments and key wrapping for private ledgers (see
// private_entry.h). OpenSSL 3 EVP throughout: AES-256-GCM, HMAC through
// EVP_Q_mac, ECDH through EVP_PKEY_derive, HKDF through EVP_KDF.
#include "cairn/ledger/private_entry.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/base/big_endian.h"
#include "openssl_util.h"

namespace cairn::ledger {
namespace {

using internal::OpenSslError;
using internal::OsslPtr;

constexpr size_t kNonceBytes = 12;
constexpr size_t kP256PointBytes = 65;  // 0x04 || x || y
constexpr uint8_t kWrapFormat = 0x01;
constexpr size_t kWrappedSecretMax = 64;
constexpr char kSealedMagic[] = "cairn-sealed-v1";
constexpr char kWrapInfo[] = "cairn-wrap-v1";

absl::StatusOr<std::string> RandomBytes(size_t n, absl::string_view what) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return OpenSslError(what);
  }
  return out;
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The algorithms, fetched once: OpenSSL 3 looks an algorithm up (under a
// lock) on every call given a name or a legacy EVP_aes_256_gcm(), which
// was a third of what an HMAC of a short entry cost. Never freed.
EVP_MAC* Hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// AES-256-GCM with a 12-byte nonce: ciphertext || tag.
absl::StatusOr<std::string> GcmSeal(absl::string_view key, absl::string_view nonce,
                                    absl::string_view aad, absl::string_view plaintext) {
  OsslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1) {
    return OpenSslError("AES-256-GCM init");
  }
  int len = 0;
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AES-256-GCM associated data");
  }
  std::string out(plaintext.size() + kSealTagBytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_EncryptUpdate(ctx.get(), dst, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return OpenSslError("AES-256-GCM encrypt");
  }
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), dst + len, &tail) != 1 ||
      static_cast<size_t>(len + tail) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kSealTagBytes, dst + plaintext.size()) !=
          1) {
    return OpenSslError("AES-256-GCM finish");
  }
  return out;
}

// The plaintext of GcmSeal's output, or nullopt when the tag does not verify.
absl::StatusOr<std::optional<std::string>> GcmOpen(absl::string_view key, absl::string_view nonce,
                                                   absl::string_view aad,
                                                   absl::string_view sealed) {
  if (sealed.size() < kSealTagBytes) return std::optional<std::string>();
  const size_t n = sealed.size() - kSealTagBytes;
  OsslPtr<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1) {
    return OpenSslError("AES-256-GCM init");
  }
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AES-256-GCM associated data");
  }
  std::string out(n, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_DecryptUpdate(ctx.get(), dst, &len, Bytes(sealed), static_cast<int>(n)) != 1) {
    return OpenSslError("AES-256-GCM decrypt");
  }
  std::array<unsigned char, kSealTagBytes> tag;
  std::copy_n(Bytes(sealed) + n, kSealTagBytes, tag.begin());
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kSealTagBytes, tag.data()) != 1) {
    return OpenSslError("AES-256-GCM tag");
  }
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), dst + len, &tail) != 1) {
    ERR_clear_error();
    OPENSSL_cleanse(out.data(), out.size());
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(out));
}

std::string SealNonce(const TxId& txid) {
  std::string nonce;
  base::PutU32(&nonce, static_cast<uint32_t>(txid.term));
  base::PutU64(&nonce, txid.index);
  return nonce;
}

std::string SealAad(uint32_t version, const TxId& txid, absl::string_view collection_id) {
  std::string aad(kSealedMagic);
  base::PutU32(&aad, version);
  base::PutU64(&aad, txid.term);
  base::PutU64(&aad, txid.index);
  base::PutU16(&aad, static_cast<uint16_t>(collection_id.size()));
  aad.append(collection_id.data(), collection_id.size());
  return aad;
}

absl::Status CheckSealable(const TxId& txid, absl::string_view collection_id) {
  if (txid.term > kSealTermMax) {
    return absl::FailedPreconditionError(
        absl::StrCat("term ", txid.term, " is above the largest a private entry can be sealed in (",
                     kSealTermMax, ")"));
  }
  if (collection_id.size() > 0xffff) {
    return absl::InvalidArgumentError("collection_id: too long to seal");
  }
  return absl::OkStatus();
}

// The encoded (uncompressed) public point of an EC key.
absl::StatusOr<std::string> PublicPoint(EVP_PKEY* pkey) {
  std::string point(kP256PointBytes, '\0');
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                      reinterpret_cast<unsigned char*>(point.data()), point.size(),
                                      &len) != 1 ||
      len != kP256PointBytes) {
    return OpenSslError("P-256 public key encoding");
  }
  return point;
}

// A P-256 public key from its uncompressed point; nullptr if it is not one.
OsslPtr<EVP_PKEY> PublicKeyFromPoint(absl::string_view point) {
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  char group[] = "prime256v1";
  std::string copy(point);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, copy.data(), copy.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) return nullptr;
  OsslPtr<EVP_PKEY> pkey(raw);
  OsslPtr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return pkey;
}

// The ECDH shared secret (the x coordinate) of `own` and `peer`.
absl::StatusOr<std::string> Ecdh(EVP_PKEY* own, EVP_PKEY* peer) {
  OsslPtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  size_t len = 0;
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return OpenSslError("ECDH");
  }
  std::string shared(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(shared.data()), &len) != 1) {
    return OpenSslError("ECDH");
  }
  shared.resize(len);
  return shared;
}

// HKDF-SHA256 to a 32-byte key.
absl::StatusOr<std::string> Hkdf(absl::string_view ikm, absl::string_view salt,
                                 absl::string_view info) {
  OsslPtr<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  OsslPtr<EVP_KDF_CTX> ctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  if (ctx == nullptr) return OpenSslError("HKDF");
  char digest[] = "SHA256";
  std::string ikm_copy(ikm), salt_copy(salt), info_copy(info);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_copy.data(), ikm_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_copy.data(), salt_copy.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_copy.data(), info_copy.size()),
      OSSL_PARAM_construct_end()};
  std::string key(32, '\0');
  const int rc =
      EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), key.size(), params);
  OPENSSL_cleanse(ikm_copy.data(), ikm_copy.size());
  if (rc != 1) return OpenSslError("HKDF");
  return key;
}

// The wrapping key of one ECDH exchange between the fresh key `fresh_point`
// and the recipient's `recipient_point`.
absl::StatusOr<std::string> WrapKey(absl::string_view shared, absl::string_view fresh_point,
                                    absl::string_view recipient_point, absl::string_view context) {
  return Hkdf(shared, absl::StrCat(fresh_point, recipient_point), absl::StrCat(kWrapInfo, context));
}

// WrapSecret to `peer`'s P-256 public key.
absl::StatusOr<std::string> WrapSecretTo(absl::string_view secret_bytes, EVP_PKEY* peer,
                                         absl::string_view context);

}  // namespace

absl::StatusOr<LedgerSecret> LedgerSecret::FromBytes(uint32_t version, absl::string_view key) {
  if (version == 0) return absl::InvalidArgumentError("ledger secret: version must be >= 1");
  if (key.size() != kLedgerSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("ledger secret: must be ", kLedgerSecretBytes, " bytes, got ", key.size()));
  }
  return LedgerSecret(version, std::string(key));
}

absl::StatusOr<LedgerSecret> LedgerSecret::Generate(uint32_t version) {
  absl::StatusOr<std::string> key = RandomBytes(kLedgerSecretBytes, "ledger secret");
  if (!key.ok()) return key.status();
  absl::StatusOr<LedgerSecret> secret = FromBytes(version, *key);
  OPENSSL_cleanse(key->data(), key->size());
  return secret;
}

LedgerSecret::~LedgerSecret() { OPENSSL_cleanse(key_.data(), key_.size()); }

absl::StatusOr<std::string> NewContentsSalt() {
  // Salts come from a per-thread pool filled by one RAND_bytes call for 64
  // of them: a call costs about as much as 32 bytes of output, and the
  // leader draws one salt per sealed entry on its Raft loop. A drawn salt
  // is wiped from the pool.
  constexpr size_t kPooled = 64;
  struct Pool {
    std::array<unsigned char, kPooled * kContentsSaltBytes> bytes;
    size_t next = kPooled;  // empty
    ~Pool() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  };
  thread_local Pool pool;
  if (pool.next == kPooled) {
    if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
      return OpenSslError("contents salt");
    }
    pool.next = 0;
  }
  unsigned char* drawn = pool.bytes.data() + pool.next++ * kContentsSaltBytes;
  std::string salt(reinterpret_cast<char*>(drawn), kContentsSaltBytes);
  OPENSSL_cleanse(drawn, kContentsSaltBytes);
  return salt;
}

absl::StatusOr<Hash> ContentsCommitment(absl::string_view salt, absl::string_view contents) {
  if (salt.size() != kContentsSaltBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("contents salt: must be ", kContentsSaltBytes, " bytes, got ", salt.size()));
  }
  Hash out;
  size_t len = 0;
  OsslPtr<EVP_MAC_CTX> ctx(Hmac() != nullptr ? EVP_MAC_CTX_new(Hmac()) : nullptr);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  if (ctx == nullptr || EVP_MAC_init(ctx.get(), Bytes(salt), salt.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), Bytes(contents), contents.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    return OpenSslError("HMAC-SHA256");
  }
  return out;
}

absl::StatusOr<std::string> SealContents(const LedgerSecret& secret, const TxId& txid,
                                         absl::string_view collection_id, absl::string_view salt,
                                         absl::string_view contents) {
  if (salt.size() != kContentsSaltBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("contents salt: must be ", kContentsSaltBytes, " bytes, got ", salt.size()));
  }
  if (absl::Status st = CheckSealable(txid, collection_id); !st.ok()) return st;
  std::string plaintext = absl::StrCat(salt, contents);
  absl::StatusOr<std::string> sealed = GcmSeal(
      secret.key(), SealNonce(txid), SealAad(secret.version(), txid, collection_id), plaintext);
  OPENSSL_cleanse(plaintext.data(), plaintext.size());
  return sealed;
}

absl::StatusOr<OpenedContents> OpenContents(const LedgerSecret& secret, const TxId& txid,
                                            absl::string_view collection_id,
                                            absl::string_view sealed) {
  if (absl::Status st = CheckSealable(txid, collection_id); !st.ok()) return st;
  absl::StatusOr<std::optional<std::string>> plain = GcmOpen(
      secret.key(), SealNonce(txid), SealAad(secret.version(), txid, collection_id), sealed);
  if (!plain.ok()) return plain.status();
  if (!plain->has_value() || (*plain)->size() < kContentsSaltBytes) {
    return absl::DataLossError(absl::StrCat("the sealed contents of entry ", txid.ToString(),
                                            " fail authentication under secret ", secret.version(),
                                            ": they, or their txid or collection, were altered"));
  }
  OpenedContents out;
  out.salt = (*plain)->substr(0, kContentsSaltBytes);
  out.contents = (*plain)->substr(kContentsSaltBytes);
  OPENSSL_cleanse((*plain)->data(), (*plain)->size());
  return out;
}

Hash SealedDigest(const v1::SealedContents& sealed) {
  std::string version;
  base::PutU32(&version, sealed.secret_version());
  return Sha256Parts({version, sealed.ciphertext()});
}

absl::StatusOr<std::string> WrapSecret(absl::string_view secret_bytes, const Certificate& recipient,
                                       absl::string_view context) {
  EVP_PKEY* peer = X509_get0_pubkey(recipient.get());
  if (peer == nullptr) return OpenSslError("wrap: recipient public key");
  return WrapSecretTo(secret_bytes, peer, context);
}

absl::StatusOr<std::string> WrapSecretToPublicKey(absl::string_view secret_bytes,
                                                  absl::string_view public_key_der,
                                                  absl::string_view context) {
  const unsigned char* p = Bytes(public_key_der);
  OsslPtr<EVP_PKEY> peer(d2i_PUBKEY(nullptr, &p, static_cast<long>(public_key_der.size())));
  if (peer == nullptr || p != Bytes(public_key_der) + public_key_der.size()) {
    ERR_clear_error();
    return absl::InvalidArgumentError("wrap: the recipient's public key is not DER");
  }
  return WrapSecretTo(secret_bytes, peer.get(), context);
}

absl::StatusOr<std::string> SealWithOneTimeKey(absl::string_view key, absl::string_view context,
                                               absl::string_view plaintext) {
  if (key.size() != kLedgerSecretBytes) {
    return absl::InvalidArgumentError("seal: a one-time key is 32 bytes");
  }
  return GcmSeal(key, std::string(kNonceBytes, '\0'), context, plaintext);
}

absl::StatusOr<std::string> OpenWithOneTimeKey(absl::string_view key, absl::string_view context,
                                               absl::string_view sealed) {
  if (key.size() != kLedgerSecretBytes) {
    return absl::InvalidArgumentError("open: a one-time key is 32 bytes");
  }
  absl::StatusOr<std::optional<std::string>> opened =
      GcmOpen(key, std::string(kNonceBytes, '\0'), context, sealed);
  if (!opened.ok()) return opened.status();
  if (!opened->has_value()) {
    return absl::InvalidArgumentError("does not open with this key (another key, or altered)");
  }
  return **std::move(opened);
}

std::string RecoveryKeyWrapContext(uint32_t version, absl::string_view service_id) {
  return absl::StrCat("cairn ledger secret v", version, " for the recovery key of service ",
                      service_id);
}

std::string RecoveryKeySealContext(absl::string_view service_id) {
  return absl::StrCat("cairn recovery key of service ", service_id);
}

std::string RecoveryShareContext(uint32_t index, absl::string_view operator_fingerprint,
                                 absl::string_view service_id) {
  return absl::StrCat("cairn recovery share ", index, " for operator ", operator_fingerprint,
                      " of service ", service_id);
}

namespace {

absl::StatusOr<std::string> WrapSecretTo(absl::string_view secret_bytes, EVP_PKEY* peer,
                                         absl::string_view context) {
  if (secret_bytes.empty() || secret_bytes.size() > kWrappedSecretMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("wrap: a secret is 1 to ", kWrappedSecretMax, " bytes"));
  }
  if (absl::Status st = internal::CheckP256(peer, "wrap: the recipient's key"); !st.ok()) {
    return st;
  }
  OsslPtr<EVP_PKEY> fresh(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (fresh == nullptr) return OpenSslError("wrap: fresh P-256 key");
  absl::StatusOr<std::string> fresh_point = PublicPoint(fresh.get());
  absl::StatusOr<std::string> recipient_point = PublicPoint(peer);
  if (!fresh_point.ok()) return fresh_point.status();
  if (!recipient_point.ok()) return recipient_point.status();
  absl::StatusOr<std::string> shared = Ecdh(fresh.get(), peer);
  if (!shared.ok()) return shared.status();
  absl::StatusOr<std::string> key = WrapKey(*shared, *fresh_point, *recipient_point, context);
  OPENSSL_cleanse(shared->data(), shared->size());
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> sealed =
      GcmSeal(*key, std::string(kNonceBytes, '\0'), context, secret_bytes);
  OPENSSL_cleanse(key->data(), key->size());
  if (!sealed.ok()) return sealed.status();
  std::string out(1, static_cast<char>(kWrapFormat));
  out.append(*fresh_point);
  out.append(*sealed);
  return out;
}

}  // namespace

std::string LedgerSecretWrapContext(uint32_t version, uint64_t node_id,
                                    absl::string_view service_id) {
  return absl::StrCat("cairn ledger secret v", version, " for node ", node_id, " of service ",
                      service_id);
}

absl::StatusOr<v1::WrappedLedgerSecret> WrapLedgerSecretForNode(const LedgerSecret& secret,
                                                                uint64_t node_id,
                                                                const Certificate& cert,
                                                                absl::string_view service_id) {
  auto wrapped = WrapSecret(secret.key(), cert,
                            LedgerSecretWrapContext(secret.version(), node_id, service_id));
  if (!wrapped.ok()) return wrapped.status();
  v1::WrappedLedgerSecret w;
  w.set_version(secret.version());
  w.set_node_id(node_id);
  w.set_certificate_fingerprint(cert.Fingerprint());
  w.set_wrapped(*std::move(wrapped));
  return w;
}

absl::StatusOr<v1::WrappedLedgerSecret> WrapLedgerSecretForRecovery(
    const LedgerSecret& secret, const v1::RecoveryKey& recovery_key, absl::string_view service_id) {
  auto wrapped = WrapSecretToPublicKey(secret.key(), recovery_key.public_key_der(),
                                       RecoveryKeyWrapContext(secret.version(), service_id));
  if (!wrapped.ok()) return wrapped.status();
  v1::WrappedLedgerSecret w;
  w.set_version(secret.version());
  w.set_node_id(0);
  w.set_certificate_fingerprint(HashToHex(Sha256(recovery_key.public_key_der())));
  w.set_wrapped(*std::move(wrapped));
  return w;
}

absl::StatusOr<LedgerSecret> UnwrapLedgerSecretFromRecovery(const v1::WrappedLedgerSecret& wrapped,
                                                            const PrivateKey& recovery_private_key,
                                                            absl::string_view service_id) {
  auto bytes = UnwrapSecret(wrapped.wrapped(), recovery_private_key,
                            RecoveryKeyWrapContext(wrapped.version(), service_id));
  if (!bytes.ok()) return bytes.status();
  auto secret = LedgerSecret::FromBytes(wrapped.version(), *bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return secret;
}

absl::StatusOr<std::string> UnwrapSecret(absl::string_view wrapped, const PrivateKey& key,
                                         absl::string_view context) {
  const auto refused = [] {
    return absl::InvalidArgumentError(
        "the wrapped secret does not open with this key: it was wrapped for another key or "
        "purpose, or altered");
  };
  if (wrapped.size() < 1 + kP256PointBytes + 1 + kSealTagBytes ||
      static_cast<uint8_t>(wrapped[0]) != kWrapFormat) {
    return absl::InvalidArgumentError("the wrapped secret is malformed (not format 1)");
  }
  if (absl::Status st = internal::CheckP256(key.get(), "unwrap: the key"); !st.ok()) return st;
  const absl::string_view fresh_point = wrapped.substr(1, kP256PointBytes);
  OsslPtr<EVP_PKEY> fresh = PublicKeyFromPoint(fresh_point);
  if (fresh == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the wrapped secret is malformed (not a P-256 point)");
  }
  absl::StatusOr<std::string> own_point = PublicPoint(key.get());
  if (!own_point.ok()) return own_point.status();
  absl::StatusOr<std::string> shared = Ecdh(key.get(), fresh.get());
  if (!shared.ok()) return shared.status();
  absl::StatusOr<std::string> wrap_key = WrapKey(*shared, fresh_point, *own_point, context);
  OPENSSL_cleanse(shared->data(), shared->size());
  if (!wrap_key.ok()) return wrap_key.status();
  absl::StatusOr<std::optional<std::string>> plain = GcmOpen(
      *wrap_key, std::string(kNonceBytes, '\0'), context, wrapped.substr(1 + kP256PointBytes));
  OPENSSL_cleanse(wrap_key->data(), wrap_key->size());
  if (!plain.ok()) return plain.status();
  if (!plain->has_value()) return refused();
  return std::move(**plain);
}

}  // namespace cairn::ledger
