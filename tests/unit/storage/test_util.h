// Helpers shared by the storage unit tests: opening a database in a
// temporary directory, and building Raft and ledger entries.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/consensus/types.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "testing/temp_dir.h"

namespace cairn::storage::test {

inline consensus::Entry RaftEntry(consensus::Index index, consensus::Term term,
                                  std::string data = "") {
  consensus::Entry e;
  e.index = index;
  e.term = term;
  e.data = data.empty() ? absl::StrCat("entry-", index, "-", term) : std::move(data);
  return e;
}

inline std::vector<consensus::Entry> RaftEntries(consensus::Index first, consensus::Index last,
                                                 consensus::Term term) {
  std::vector<consensus::Entry> out;
  for (consensus::Index i = first; i <= last; ++i) out.push_back(RaftEntry(i, term));
  return out;
}

inline StoredEntry LedgerEntry(uint64_t index, uint64_t term, std::string collection = "c",
                               int64_t ts = 1000) {
  StoredEntry e;
  e.index = index;
  e.term = term;
  e.data = absl::StrCat("payload-", index);
  e.kind = EntryKind::kUser;
  e.collection_id = std::move(collection);
  e.user_id = "alice";
  e.timestamp_unix_ms = ts;
  return e;
}

// A database in a temporary directory that can be closed and reopened.
class TestDb {
 public:
  explicit TestDb(DatabaseOptions options = {}) : options_(options) { Reopen(); }

  void Reopen() {
    db_.reset();
    auto db = Database::Open(path(), options_);
    CAIRN_CHECK(db.ok()) << db.status();
    db_ = *std::move(db);
  }
  void Close() { db_.reset(); }
  absl::Status TryReopen() {
    db_.reset();
    auto db = Database::Open(path(), options_);
    if (!db.ok()) return db.status();
    db_ = *std::move(db);
    return absl::OkStatus();
  }

  std::string path() const { return dir_.path() + "/db"; }
  DatabaseOptions& options() { return options_; }
  Database& db() { return *db_; }
  RaftLogStore& log() { return db_->raft_log(); }
  LedgerStore& ledger() { return db_->ledger(); }

  // Appends and applies entries first..last (term `term`) to both halves.
  void AppendAndApply(uint64_t first, uint64_t last, uint64_t term, std::string collection = "c") {
    CAIRN_CHECK_OK(log().Save(std::nullopt, RaftEntries(first, last, term)));
    auto batch = ledger().NewBatch();
    for (uint64_t i = first; i <= last; ++i) {
      CAIRN_CHECK_OK(batch->AddEntry(LedgerEntry(i, term, collection)));
    }
    CAIRN_CHECK_OK(ledger().Commit(*batch));
  }

 private:
  cairn::testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> db_;
};

}  // namespace cairn::storage::test
