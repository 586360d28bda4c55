// A private ledger's secrets on this node (see ledger_secrets.h).
#include "apply/ledger_secrets.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "apply/idempotency.h"
#include "cairn/ledger/hash.h"
#include "observe/log.h"

namespace cairn::node {
namespace {

// The key request digests are computed under: HMAC-SHA256 with version 1
// as key over a fixed label (a one-block HKDF-Expand), so that the digests
// of a retried append match across leaders and rotations.
absl::StatusOr<std::string> RequestKeyOf(const ledger::LedgerSecret& first) {
  auto key = ledger::ContentsCommitment(first.key(), "cairn idempotency digest v1");
  if (!key.ok()) return key.status();
  return ledger::HashToString(*key);
}

}  // namespace

LedgerSecrets::LedgerSecrets(uint64_t node_id, std::string service_id,
                             const ledger::PrivateKey* node_key)
    : node_id_(node_id), service_id_(std::move(service_id)), node_key_(node_key) {}

LedgerSecrets::~LedgerSecrets() { OPENSSL_cleanse(request_key_.data(), request_key_.size()); }

absl::Status LedgerSecrets::Refresh(const Governance& governance) {
  const bool is_private = governance.ledger_type() == v1::LEDGER_TYPE_PRIVATE;
  const std::vector<v1::WrappedLedgerSecret> wrapped = governance.ledger_secrets();
  absl::MutexLock lock(&mu_);
  private_ = is_private;
  absl::Status result;
  for (const v1::WrappedLedgerSecret& w : wrapped) newest_ = std::max(newest_, w.version());
  for (const v1::WrappedLedgerSecret& w : wrapped) {
    if (w.node_id() != node_id_ || secrets_.count(w.version())) continue;
    auto bytes =
        ledger::UnwrapSecret(w.wrapped(), *node_key_,
                             ledger::LedgerSecretWrapContext(w.version(), node_id_, service_id_));
    if (!bytes.ok()) {
      result.Update(absl::FailedPreconditionError(
          absl::StrCat("ledger secret version ", w.version(),
                       " was wrapped for this node's certificate ", w.certificate_fingerprint(),
                       " and does not open with this node's key: ", bytes.status().message())));
      continue;
    }
    auto secret = ledger::LedgerSecret::FromBytes(w.version(), *bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    if (!secret.ok()) {
      result.Update(secret.status());
      continue;
    }
    if (w.version() == 1) {
      auto key = RequestKeyOf(*secret);
      if (!key.ok()) {
        result.Update(key.status());
        continue;
      }
      request_key_ = *std::move(key);
    }
    secrets_.emplace(w.version(), *std::move(secret));
    spdlog::info("holding version {} of the ledger secret", w.version());
  }
  return result;
}

uint32_t LedgerSecrets::newest_version() const {
  absl::MutexLock lock(&mu_);
  return newest_;
}

bool LedgerSecrets::private_ledger() const {
  absl::MutexLock lock(&mu_);
  return private_;
}

std::vector<uint32_t> LedgerSecrets::versions() const {
  absl::MutexLock lock(&mu_);
  std::vector<uint32_t> out;
  for (const auto& [version, secret] : secrets_) out.push_back(version);
  return out;
}

absl::StatusOr<ledger::LedgerSecret> LedgerSecrets::GetLocked(uint32_t version) const {
  auto it = secrets_.find(version);
  if (it == secrets_.end()) {
    return absl::UnavailableError(
        absl::StrCat("node ", node_id_, " does not hold version ", version,
                     " of the ledger secret yet (the leader shares it once it has seen this node's "
                     "certificate); try another node"));
  }
  return it->second;
}

absl::StatusOr<ledger::LedgerSecret> LedgerSecrets::Get(uint32_t version) const {
  absl::MutexLock lock(&mu_);
  return GetLocked(version);
}

absl::StatusOr<ledger::Hash> LedgerSecrets::RequestDigest(const v1::UserTransaction& tx) const {
  std::string message = RequestMessage(tx);
  std::string key;
  {
    absl::MutexLock lock(&mu_);
    if (request_key_.empty()) {
      return absl::UnavailableError(
          absl::StrCat("node ", node_id_, " does not hold the ledger secret yet"));
    }
    key = request_key_;
  }
  // HMAC-SHA256 under a 32-byte key: ContentsCommitment is exactly that.
  auto digest = ledger::ContentsCommitment(key, message);
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(message.data(), message.size());
  return digest;
}

absl::StatusOr<std::string> LedgerSecrets::SealCommand(
    const ledger::TxId& txid, std::string command,
    const std::optional<ledger::Hash>& given_digest) const {
  std::optional<ledger::LedgerSecret> newest;
  {
    absl::MutexLock lock(&mu_);
    if (!private_) return command;  // a public ledger's proposals pass unparsed
    if (auto it = secrets_.find(newest_); it != secrets_.end()) newest = it->second;
  }
  v1::LogCommand parsed;
  if (!parsed.ParseFromString(command)) {
    return absl::InternalError("a proposal is not a LogCommand");
  }
  if (!parsed.has_user() || parsed.user().has_sealed()) return command;
  if (!newest.has_value()) {
    return absl::UnavailableError(
        absl::StrCat("node ", node_id_, " leads but does not hold version ", newest_version(),
                     " of the ledger secret yet, so it cannot seal entries; retry shortly"));
  }
  v1::UserTransaction* tx = parsed.mutable_user();
  absl::StatusOr<ledger::Hash> digest =
      given_digest.has_value() ? absl::StatusOr<ledger::Hash>(*given_digest) : RequestDigest(*tx);
  if (!digest.ok()) return digest.status();
  auto salt = ledger::NewContentsSalt();
  if (!salt.ok()) return salt.status();
  auto commitment = ledger::ContentsCommitment(*salt, tx->contents());
  if (!commitment.ok()) return commitment.status();
  auto ciphertext = ledger::SealContents(*newest, txid, tx->collection_id(), *salt, tx->contents());
  OPENSSL_cleanse(salt->data(), salt->size());
  if (!ciphertext.ok()) return ciphertext.status();
  OPENSSL_cleanse(tx->mutable_contents()->data(), tx->contents().size());
  tx->clear_contents();
  v1::SealedContents* sealed = tx->mutable_sealed();
  sealed->set_secret_version(newest->version());
  sealed->set_ciphertext(*std::move(ciphertext));
  sealed->set_commitment(ledger::HashToString(*commitment));
  sealed->set_request_digest(ledger::HashToString(*digest));
  OPENSSL_cleanse(command.data(), command.size());
  return parsed.SerializeAsString();
}

absl::StatusOr<ledger::OpenedContents> LedgerSecrets::Open(const ledger::TxId& txid,
                                                           const v1::UserTransaction& tx) const {
  auto secret = Get(tx.sealed().secret_version());
  if (!secret.ok()) return secret.status();
  return ledger::OpenContents(*secret, txid, tx.collection_id(), tx.sealed().ciphertext());
}

}  // namespace cairn::node
