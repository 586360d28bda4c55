// Append identities for idempotent retries (see idempotency.h).
#include "apply/idempotency.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "cairn/base/big_endian.h"
#include "cairn/ledger/hash.h"
#include "errors/status.h"

namespace cairn::node {
namespace {

void PutLengthPrefixed(std::string* out, absl::string_view part) {
  base::PutU64(out, part.size());
  out->append(part.data(), part.size());
}

}  // namespace

AppendIdentity IdentityOf(const v1::UserTransaction& tx) {
  AppendIdentity id;
  if (!tx.idempotency_key().empty()) {
    id.key = absl::StrCat(tx.user_id(), absl::string_view("\0", 1), tx.idempotency_key());
  }
  if (tx.has_sealed()) {
    // A private ledger's entry: the leader put the keyed digest of the
    // request in it when it sealed the contents (LedgerSecrets::RequestDigest).
    // It is always 32 bytes; anything else leaves the digest zero, which
    // no request's digest equals in practice.
    if (auto digest = ledger::HashFromBytes(tx.sealed().request_digest(), "request_digest");
        digest.ok()) {
      id.digest = *digest;
    }
    return id;
  }
  id.digest = ledger::Sha256(RequestMessage(tx));
  return id;
}

std::string RequestMessage(const v1::UserTransaction& tx) {
  std::string message;
  PutLengthPrefixed(&message, tx.collection_id());
  PutLengthPrefixed(&message, tx.contents());
  PutLengthPrefixed(&message, tx.claims_digest());
  return message;
}

AppendIdentity IdentityOfEntry(absl::string_view data) {
  v1::LogCommand command;
  if (data.empty() || !command.ParseFromArray(data.data(), static_cast<int>(data.size())) ||
      !command.has_user() || command.user().idempotency_key().empty()) {
    return {};
  }
  return IdentityOf(command.user());
}

absl::Status KeyReusedError(const ledger::TxId& holder) {
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          "idempotency_key is already held by transaction ", holder.ToString(),
          ", an append of other contents; use a new key for a new append (nothing was written)")),
      v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED, {{"txid", holder.ToString()}});
}

}  // namespace cairn::node
