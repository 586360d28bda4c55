// Which appends are "the same append". A client retries an append with the
// idempotency key of its first attempt; the node answers the retry as a
// duplicate of an earlier entry only when that entry carries the same
// (user, key) AND the same collection, contents and claims digest. A key
// reused for other contents is refused (IDEMPOTENCY_KEY_REUSED), never
// answered with the txid of an entry that does not hold what was sent.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/merkle_store.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::node {

struct AppendIdentity {
  // user_id + '\0' + idempotency key; empty when the append has no key.
  std::string key;
  // SHA-256 over the length-prefixed collection id, contents and claims
  // digest: what a retry must repeat exactly.
  ledger::Hash digest{};
  // Whether `digest` is a private ledger's keyed request digest
  // (LedgerSecrets::RequestDigest), which sealing then stores as it is.
  // Says how the digest was made, not what it identifies: equality leaves
  // it out (an entry's identity, IdentityOfEntry, does not know it).
  bool keyed = false;

  bool has_key() const { return !key.empty(); }
  friend bool operator==(const AppendIdentity& a, const AppendIdentity& b) {
    return a.key == b.key && a.digest == b.digest;
  }
};

AppendIdentity IdentityOf(const v1::UserTransaction& tx);
// What a digest of an append request covers: collection_id, contents and
// claims_digest, each after its length (u64 big-endian). IdentityOf hashes
// it; a private ledger keys it (LedgerSecrets::RequestDigest).
std::string RequestMessage(const v1::UserTransaction& tx);
// The identity of a log entry's data (a serialized LogCommand); no key when
// it is not a user append with an idempotency key.
AppendIdentity IdentityOfEntry(absl::string_view data);

// INVALID_ARGUMENT with reason IDEMPOTENCY_KEY_REUSED: the key is held by
// `holder`, an append of other contents. Nothing was written for this one.
absl::Status KeyReusedError(const ledger::TxId& holder);

}  // namespace cairn::node
