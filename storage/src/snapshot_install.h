// Installing a verified snapshot payload without holding it in memory: its
// records become SST files in a staging directory, written one table at a
// time and cut at a bounded size, and one IngestExternalFiles call puts them
// all in place at once.
//
// Each file carries a range deletion over its part of its table's key space
// (the first from the empty key, the last to past both the table's and the
// payload's last key, the ones between meeting end to end), so ingesting the
// files replaces the table's whole contents: RocksDB gives a file's point
// keys the same sequence number as its range deletions, which delete only
// older data. The Raft log (emptied), the Raft state (hard state and
// snapshot metadata, nothing else) and the applied index go in the same
// ingestion, so the database holds either the old state or the snapshot's,
// across crashes too (RocksDB records the ingestion in one MANIFEST write),
// and nothing in between.
//
// Until Ingest, nothing reaches the database: a failure or a crash leaves
// only files in the staging directory, which the destructor, or the next
// Database::Open, removes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/consensus/types.h"
#include "db_core.h"

namespace rocksdb {
class SstFileWriter;
}  // namespace rocksdb

namespace cairn::storage::internal {

// Where a snapshot being received is staged, next to the database at
// `db_path`, and where its install stages SST files. Database::Open removes
// both: anything left there is from an install a crash interrupted before it
// reached the database.
std::string SnapshotStagingPath(const std::string& db_path);
std::string SstStagingPath(const std::string& db_path);

class SstInstall {
 public:
  // Stages files in `dir` (created, or emptied of leftovers), each cut once
  // it reaches `file_bytes_max`.
  SstInstall(DbCore* core, std::string dir, uint64_t file_bytes_max);
  ~SstInstall();  // removes the staging directory
  SstInstall(const SstInstall&) = delete;
  SstInstall& operator=(const SstInstall&) = delete;

  absl::Status Start();
  // The next record of the payload. Tables must come in kSnapshotTables
  // order and keys in strictly ascending order within a table, as
  // PayloadWriter produces them; anything else is DataLoss.
  absl::Status Add(Table t, absl::string_view key, absl::string_view value);
  // After the last record: clears what the payload did not mention, and
  // stages the Raft log reset, the Raft state (`hard_state` with commit
  // raised to meta.index, the snapshot metadata) and the applied index.
  absl::Status Finish(const consensus::SnapshotMeta& meta, const consensus::HardState& hard_state);
  // Ingests every staged file in one step. After OK, the snapshot's state
  // is the database's, durably.
  absl::Status Ingest();

 private:
  absl::Status OpenFile(Table t, std::string lower);
  // Ends the open file with a range deletion [lower_, upper).
  absl::Status CloseFile(absl::string_view upper);
  // Ends the current table: the last range deletion reaches past both its
  // last record and the last key the table holds now.
  absl::Status EndTable();
  // A whole file for `t`: a range deletion of everything `t` holds (when
  // `clear`) plus `puts` (ascending keys).
  absl::Status WriteWholeFile(Table t, bool clear,
                              const std::vector<std::pair<std::string, std::string>>& puts);

  DbCore* const core_;
  const std::string dir_;
  const uint64_t file_bytes_max_;
  bool started_ = false;
  size_t table_pos_ = 0;  // position in kSnapshotTables of the table being written
  bool table_open_ = false;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;  // the open file, if any
  std::string lower_;                               // where the open file's range deletion starts
  std::string last_key_;                            // last key added to the current table
  bool table_has_keys_ = false;
  uint64_t files_written_ = 0;
  std::array<std::vector<std::string>, kTableCount> files_;  // staged, per table
};

}  // namespace cairn::storage::internal
