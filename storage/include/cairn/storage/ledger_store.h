// Committed ledger state on RocksDB: committed entries by log index and the
// applied index, written together in one atomic, synced write.
//
// Values are opaque here: each entry is stored as its term and payload (a
// serialized cairn.v1.LogCommand); node/ interprets them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace cairn::storage {

struct StoredEntry {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string data;
};

class LedgerStore {
 public:
  // Opens (or creates) the database at `db_path`. Corruption RocksDB reports
  // is returned as DataLoss; it is never repaired silently.
  static absl::StatusOr<std::unique_ptr<LedgerStore>> Open(const std::string& db_path);
  ~LedgerStore();
  LedgerStore(const LedgerStore&) = delete;
  LedgerStore& operator=(const LedgerStore&) = delete;

  // Appends `entries` (consecutive, starting at applied_index() + 1) and
  // advances the applied index, in one synced write. After a failed write
  // every later write fails too: nothing is acknowledged after a failed sync.
  absl::Status Apply(const std::vector<StoredEntry>& entries);

  // The entry at `index`. NotFound if it has not been applied.
  absl::StatusOr<StoredEntry> Get(uint64_t index) const;

  // Highest applied index (0 for an empty ledger).
  uint64_t applied_index() const { return applied_index_; }

 private:
  LedgerStore() = default;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; closed in ~LedgerStore
  rocksdb::ColumnFamilyHandle* entries_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  uint64_t applied_index_ = 0;
  absl::Status write_error_;  // sticky: set by the first failed write
};

}  // namespace cairn::storage
