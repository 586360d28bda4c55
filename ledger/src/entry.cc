// Log entry to leaf components (see entry.h for the mapping).
#include "cairn/ledger/entry.h"

#include "absl/strings/str_cat.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/txid.h"

namespace cairn::ledger {
namespace {

v1::LeafComponents Base(uint64_t term, uint64_t index, v1::EntryKind kind,
                        absl::string_view collection) {
  v1::LeafComponents leaf;
  leaf.set_encoding_version(kLeafEncodingVersion);
  leaf.set_kind(kind);
  leaf.set_txid(TxId{term, index}.ToString());
  leaf.set_collection_id(std::string(collection));
  return leaf;
}

}  // namespace

absl::Status ValidateUserTransaction(const v1::UserTransaction& tx) {
  if (absl::Status s = ValidateUserCollectionId(tx.collection_id()); !s.ok()) return s;
  if (absl::Status s = ValidateClaimsDigest(tx.claims_digest()); !s.ok()) return s;
  if (absl::Status s = ValidateUserId(tx.user_id(), false); !s.ok()) return s;
  if (tx.timestamp_unix_ms() < 0) {
    return absl::InvalidArgumentError("timestamp_unix_ms: must be >= 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::LeafComponents> LeafComponentsFor(uint64_t term, uint64_t index,
                                                     absl::string_view log_command_bytes) {
  v1::LogCommand command;
  if (!log_command_bytes.empty() &&
      !command.ParseFromArray(log_command_bytes.data(),
                              static_cast<int>(log_command_bytes.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", term, ".", index, ": data is not a cairn.v1.LogCommand"));
  }
  return LeafComponentsFor(term, index, command, log_command_bytes);
}

absl::StatusOr<v1::LeafComponents> LeafComponentsFor(uint64_t term, uint64_t index,
                                                     const v1::LogCommand& command,
                                                     absl::string_view log_command_bytes) {
  const std::string where = absl::StrCat("entry ", term, ".", index);
  if (term == 0 || index == 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": term and index must be >= 1"));
  }
  if (log_command_bytes.empty()) {
    v1::LeafComponents leaf = Base(term, index, v1::ENTRY_KIND_INTERNAL, kInternalCollection);
    leaf.set_contents_digest(HashToString(Sha256("")));
    return leaf;
  }
  v1::LeafComponents leaf;
  switch (command.command_case()) {
    case v1::LogCommand::kUser: {
      const v1::UserTransaction& tx = command.user();
      if (absl::Status s = ValidateUserTransaction(tx); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": user transaction ", s.message()));
      }
      if (tx.has_sealed()) {
        // A private ledger's entry: the leaf binds the commitment the
        // leader made to the contents it sealed (formats.md, "Private
        // entries v1"); the contents themselves are not in the entry.
        if (!tx.contents().empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": a sealed user transaction must not carry contents in the clear"));
        }
        if (tx.sealed().commitment().size() != kHashBytes) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ": sealed.commitment must be 32 bytes, got ",
                           tx.sealed().commitment().size()));
        }
        leaf = Base(term, index, v1::ENTRY_KIND_PRIVATE_USER, tx.collection_id());
        leaf.set_contents_digest(tx.sealed().commitment());
        leaf.set_sealed_digest(HashToString(SealedDigest(tx.sealed())));
      } else {
        leaf = Base(term, index, v1::ENTRY_KIND_USER, tx.collection_id());
        leaf.set_contents_digest(HashToString(Sha256(tx.contents())));
      }
      leaf.set_claims_digest(tx.claims_digest());
      leaf.set_user_id(tx.user_id());
      leaf.set_timestamp_unix_ms(tx.timestamp_unix_ms());
      return leaf;
    }
    case v1::LogCommand::kGovernance:
      leaf = Base(term, index, v1::ENTRY_KIND_GOVERNANCE, kGovernanceCollection);
      leaf.set_user_id(command.governance().user_id());
      leaf.set_timestamp_unix_ms(command.governance().timestamp_unix_ms());
      break;
    case v1::LogCommand::kSignature:
      leaf = Base(term, index, v1::ENTRY_KIND_SIGNATURE, kSignaturesCollection);
      leaf.set_timestamp_unix_ms(command.signature().checkpoint().checkpoint().timestamp_unix_ms());
      break;
    case v1::LogCommand::COMMAND_NOT_SET:
      return absl::InvalidArgumentError(absl::StrCat(where, ": data holds no command"));
  }
  leaf.set_contents_digest(HashToString(Sha256(log_command_bytes)));
  // Governance and signature fields come from the service; check them here
  // so a malformed one is reported against its entry.
  if (absl::Status s = ValidateUserId(leaf.user_id(), true); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
  }
  if (leaf.timestamp_unix_ms() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": timestamp_unix_ms must be >= 0"));
  }
  return leaf;
}

absl::StatusOr<Hash> LeafHashFor(uint64_t term, uint64_t index,
                                 absl::string_view log_command_bytes) {
  absl::StatusOr<v1::LeafComponents> leaf = LeafComponentsFor(term, index, log_command_bytes);
  if (!leaf.ok()) return leaf.status();
  return LeafHashOf(*leaf);
}

absl::StatusOr<Hash> LeafHashFor(uint64_t term, uint64_t index, const v1::LogCommand& command,
                                 absl::string_view log_command_bytes) {
  absl::StatusOr<v1::LeafComponents> leaf =
      LeafComponentsFor(term, index, command, log_command_bytes);
  if (!leaf.ok()) return leaf.status();
  return LeafHashOf(*leaf);
}

}  // namespace cairn::ledger
