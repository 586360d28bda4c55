// Value types of the ledger tables: what node/ hands to an ApplyBatch and
// what the LedgerStore readers return. Payloads stay opaque: storage never
// parses a cairn.v1.LogCommand; node/ parses it once and passes the derived
// fields storage indexes on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cairn::storage {

// Mirrors cairn.v1.EntryKind (receipt.proto); same numbers.
enum class EntryKind : uint8_t {
  kUnspecified = 0,
  kUser = 1,
  kGovernance = 2,
  kSignature = 3,
  kInternal = 4,
};

// A committed log entry as the ledger stores it. The first three fields are
// the entry itself; the rest are derived by node/ from `data` and are what
// the collection and idempotency indexes are built from.
struct StoredEntry {
  uint64_t term = 0;
  uint64_t index = 0;
  // Default member initializers on every field keep StoredEntry{term, index,
  // data} free of -Wmissing-field-initializers.
  std::string data{};  // serialized cairn.v1.LogCommand (possibly empty)

  EntryKind kind = EntryKind::kUnspecified;
  // Empty: the entry belongs to no collection and is not indexed.
  std::string collection_id{};
  std::string user_id{};
  // Empty: no idempotency key. Indexed only with a non-empty user_id.
  std::string idempotency_key{};
  // The leader's clock at proposal; also the clock of idempotency expiry.
  int64_t timestamp_unix_ms = 0;

  friend bool operator==(const StoredEntry&, const StoredEntry&) = default;
};

// A transaction id "term.index".
struct TxId {
  uint64_t term = 0;
  uint64_t index = 0;
  friend bool operator==(const TxId&, const TxId&) = default;
};

struct CollectionSummary {
  std::string collection_id;
  uint64_t entry_count = 0;
  TxId first;
  TxId last;
  friend bool operator==(const CollectionSummary&, const CollectionSummary&) = default;
};

// A committed signature transaction's checkpoint, as node/ recorded it.
struct CheckpointRecord {
  TxId signature;  // the signature transaction
  uint64_t tree_size = 0;
  std::string signed_checkpoint;  // serialized cairn.v1.SignedCheckpoint (opaque here)
  friend bool operator==(const CheckpointRecord&, const CheckpointRecord&) = default;
};

struct ListEntriesOptions {
  // Inclusive index bounds; 0 means from the first / to the last applied.
  uint64_t from_index = 0;
  uint64_t to_index = 0;
  // Entries per page, at least 1 (node/ enforces page_size_max).
  uint32_t page_size = 100;
  // A page also ends once it holds this many payload bytes (at least one entry).
  uint64_t page_bytes_max = 4u << 20;
  // When false, entries come back with empty `data`.
  bool include_data = true;
  // From a previous page of the same query; empty for the first page.
  std::string page_token;
};

struct EntryPage {
  std::vector<StoredEntry> entries;
  // Empty on the last page. Printable ASCII, safe for a proto string field.
  std::string next_page_token;
};

struct CollectionPage {
  std::vector<CollectionSummary> collections;
  std::string next_page_token;  // empty on the last page
};

}  // namespace cairn::storage
