// The part of a private ledger's audit that needs its secret
// (docs/formats.md, "Audit"): every sealed entry is opened and its
// contents commitment recomputed. The audit without the secret
// (ledger/audit.h) already binds each ciphertext into the tree; this shows
// that each ciphertext opens and holds the contents the tree commits to.
// The secret is taken as one node holds it: the checker reads the ledger's
// governance entries as they go by, unwraps every version recorded for
// that node with its key, and opens each sealed entry with its version.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/segment.h"
#include "cairn/ledger/txid.h"

namespace cairn::ledger {

class SealedContentsChecker {
 public:
  // Node `node_id`'s copies, opened with `node_key` (which must outlive
  // this object), of service `service_id`'s secret.
  SealedContentsChecker(uint64_t node_id, const PrivateKey* node_key, std::string service_id);

  // Checks a segment's entries in log order (after the audit replayed it):
  // governance entries give versions; each sealed user entry must open
  // (DataLoss naming `name` and the txid when its tag fails) and its
  // commitment must be HMAC-SHA256(salt, contents) (FailedPrecondition).
  // FailedPrecondition when the node was never given the version an entry
  // is sealed with, or its copy does not open with the key.
  absl::Status Check(absl::string_view name, const Segment& segment);

  // Sealed entries opened and checked so far.
  uint64_t opened() const { return opened_; }
  // Whether any entry said the ledger is private (a genesis of type
  // private was seen).
  bool private_ledger() const { return private_; }

 private:
  absl::Status TakeSecrets(const google::protobuf::RepeatedPtrField<v1::WrappedLedgerSecret>& w,
                           const TxId& txid);

  const uint64_t node_id_;
  const PrivateKey* const node_key_;
  const std::string service_id_;
  std::map<uint32_t, LedgerSecret> secrets_;
  uint64_t opened_ = 0;
  bool private_ = false;
};

}  // namespace cairn::ledger
