// Making and rebuilding a private ledger's recovery key (see recovery_key.h).
#include "setup/recovery_key.h"

// libgfshare's header is C without C++ guards.
extern "C" {
#include <libgfshare.h>
}
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/private_entry.h"

namespace cairn::node {
namespace {

// libgfshare draws its polynomial coefficients through this hook (and
// scrubs a context with it when freeing one); it is NULL until set, and its
// fallback uses random(). OpenSSL's generator instead; a failure there
// leaves nothing safe to do.
void FillRandom(unsigned char* buffer, unsigned int count) {
  if (RAND_bytes(buffer, static_cast<int>(count)) != 1) std::abort();
}

void UseOpenSslRandom() {
  static std::once_flag once;
  std::call_once(once, [] { gfshare_fill_rand = FillRandom; });
}

struct GfshareFree {
  void operator()(gfshare_ctx* ctx) const { gfshare_ctx_free(ctx); }
};
using GfsharePtr = std::unique_ptr<gfshare_ctx, GfshareFree>;

unsigned char* Mutable(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

absl::StatusOr<std::vector<ledger::Certificate>> ReadRecoveryOperators(
    const std::vector<std::string>& files) {
  std::vector<ledger::Certificate> operators;
  std::set<std::string> seen;
  for (const std::string& file : files) {
    auto cert = ledger::ReadCertificateFile(file);
    if (!cert.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("--recovery-operator-cert-file ", file, ": ", cert.status().message()));
    }
    if (!seen.insert(cert->Fingerprint()).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("--recovery-operator-cert-file ", file,
                       ": this certificate is named twice (each operator holds one share)"));
    }
    operators.push_back(*std::move(cert));
  }
  return operators;
}

absl::StatusOr<v1::RecoveryKey> MakeRecoveryKey(const std::vector<ledger::Certificate>& operators,
                                                uint32_t threshold, absl::string_view service_id) {
  const size_t n = operators.size();
  if (n == 0 || n > 255 || threshold < 1 || threshold > n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a recovery key needs 1 to 255 operators and a threshold from 1 to their number (", n,
        " operator(s), threshold ", threshold, ")"));
  }
  auto key_pair = ledger::PrivateKey::Generate();
  if (!key_pair.ok()) return key_pair.status();
  std::string recovery_secret(ledger::kRecoverySecretBytes, '\0');
  if (RAND_bytes(Mutable(recovery_secret), static_cast<int>(recovery_secret.size())) != 1) {
    return absl::InternalError("recovery secret: the random generator failed");
  }
  v1::RecoveryKey record;
  record.set_public_key_der(key_pair->PublicKeyDer());
  record.set_threshold(threshold);
  std::string pem = key_pair->ToPem();
  auto sealed =
      ledger::SealWithOneTimeKey(recovery_secret, ledger::RecoveryKeySealContext(service_id), pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!sealed.ok()) {
    OPENSSL_cleanse(recovery_secret.data(), recovery_secret.size());
    return sealed.status();
  }
  record.set_sealed_private_key(*std::move(sealed));

  UseOpenSslRandom();
  std::vector<unsigned char> indexes(n);
  for (size_t i = 0; i < n; ++i) indexes[i] = static_cast<unsigned char>(i + 1);
  GfsharePtr ctx(gfshare_ctx_init_enc(indexes.data(), static_cast<unsigned int>(n),
                                      static_cast<unsigned char>(threshold),
                                      static_cast<unsigned int>(recovery_secret.size())));
  if (ctx == nullptr) {
    OPENSSL_cleanse(recovery_secret.data(), recovery_secret.size());
    return absl::InternalError("libgfshare refused to split the recovery secret");
  }
  gfshare_ctx_enc_setsecret(ctx.get(), Mutable(recovery_secret));
  OPENSSL_cleanse(recovery_secret.data(), recovery_secret.size());
  std::string share(ledger::kRecoverySecretBytes, '\0');
  absl::Status failed;
  for (size_t i = 0; i < n && failed.ok(); ++i) {
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), Mutable(share));
    const uint32_t index = indexes[i];
    const std::string fingerprint = operators[i].Fingerprint();
    auto wrapped = ledger::WrapSecret(share, operators[i],
                                      ledger::RecoveryShareContext(index, fingerprint, service_id));
    if (!wrapped.ok()) {
      failed = absl::FailedPreconditionError(absl::StrCat(
          "recovery operator ", operators[i].CommonName(), ": ", wrapped.status().message()));
      break;
    }
    v1::RecoveryShare* s = record.add_shares();
    s->set_index(index);
    s->set_operator_fingerprint(fingerprint);
    s->set_wrapped(*std::move(wrapped));
  }
  OPENSSL_cleanse(share.data(), share.size());
  // The context holds the polynomial's coefficients, so the secret.
  ctx.reset();
  if (!failed.ok()) return failed;
  return record;
}

absl::StatusOr<ledger::PrivateKey> RebuildRecoveryKey(
    const v1::RecoveryKey& record, absl::string_view service_id,
    const std::vector<ledger::RecoveryShareFile>& shares) {
  UseOpenSslRandom();  // gfshare_ctx_free scrubs with it
  const std::string key_name = ledger::RecoveryKeyFingerprint(record);
  std::set<uint32_t> known;
  for (const v1::RecoveryShare& s : record.shares()) known.insert(s.index());
  std::set<uint32_t> given;
  for (const ledger::RecoveryShareFile& s : shares) {
    if (s.service_id != service_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("recovery share ", s.index, " is of service ", s.service_id.substr(0, 16),
                       "…, not of this one (", service_id.substr(0, 16), "…)"));
    }
    if (s.recovery_key != key_name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "recovery share ", s.index, " is of recovery key ", s.recovery_key.substr(0, 16),
          "…, not of this ledger's (", key_name.substr(0, 16), "…)"));
    }
    if (known.count(s.index) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("recovery share ", s.index, ": this ledger's recovery key has no share ",
                       s.index, " (it has ", record.shares_size(), ")"));
    }
    if (!given.insert(s.index).second) {
      return absl::FailedPreconditionError(absl::StrCat(
          "recovery share ", s.index, " is given twice: k shares must be k different ones"));
    }
  }
  if (given.size() < record.threshold()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this ledger's recovery key needs ", record.threshold(), " of its ",
                     record.shares_size(), " recovery shares; ", given.size(), " given"));
  }
  std::vector<unsigned char> indexes;
  for (const ledger::RecoveryShareFile& s : shares)
    indexes.push_back(static_cast<unsigned char>(s.index));
  GfsharePtr ctx(gfshare_ctx_init_dec(indexes.data(), static_cast<unsigned int>(indexes.size()),
                                      static_cast<unsigned int>(ledger::kRecoverySecretBytes)));
  if (ctx == nullptr) return absl::InternalError("libgfshare refused the recovery shares");
  for (size_t i = 0; i < shares.size(); ++i) {
    std::string share = shares[i].share;
    gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i), Mutable(share));
    OPENSSL_cleanse(share.data(), share.size());
  }
  std::string recovery_secret(ledger::kRecoverySecretBytes, '\0');
  gfshare_ctx_dec_extract(ctx.get(), Mutable(recovery_secret));
  ctx.reset();
  auto pem = ledger::OpenWithOneTimeKey(recovery_secret, ledger::RecoveryKeySealContext(service_id),
                                        record.sealed_private_key());
  OPENSSL_cleanse(recovery_secret.data(), recovery_secret.size());
  if (!pem.ok()) {
    return absl::FailedPreconditionError(
        "the recovery shares do not rebuild this ledger's recovery key: at least one of them is "
        "altered or not what its operator was given");
  }
  auto key = ledger::PrivateKey::FromPem(*pem);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!key.ok()) return key.status();
  if (key->PublicKeyDer() != record.public_key_der()) {
    return absl::FailedPreconditionError(
        "the recovery key rebuilt from the shares is not the one this ledger records");
  }
  return key;
}

}  // namespace cairn::node
