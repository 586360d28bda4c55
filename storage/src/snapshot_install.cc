// Snapshot install through SST files and one atomic ingestion (see
// snapshot_install.h).
#include "snapshot_install.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "codec.h"
#include "raft_state.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"

namespace cairn::storage::internal {
namespace {

namespace fs = std::filesystem;

absl::Status BadPayload(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot payload: ", what));
}

// An SstFileWriter refuses a key out of order with InvalidArgument; that is
// the payload's fault. Anything else is the disk's.
absl::Status FromWriter(const rocksdb::Status& s, absl::string_view what) {
  if (s.IsInvalidArgument()) return BadPayload(absl::StrCat(what, ": ", s.ToString()));
  return FromRocks(s, what);
}

size_t PositionOf(Table t) {
  for (size_t i = 0; i < kSnapshotTables.size(); ++i) {
    if (kSnapshotTables[i] == t) return i;
  }
  CAIRN_UNREACHABLE() << "table " << TableName(t) << " is not carried by snapshots";
  return kSnapshotTables.size();  // not reached (the sanitizer build cannot tell)
}

// The smallest key above both `a` and `b`: a range deletion ending there
// covers both.
std::string PastBoth(absl::string_view a, absl::string_view b) {
  std::string end(std::max(a, b));
  end.push_back('\0');
  return end;
}

}  // namespace

std::string SnapshotStagingPath(const std::string& db_path) {
  return db_path + ".incoming-snapshot";
}

std::string SstStagingPath(const std::string& db_path) {
  return db_path + ".incoming-snapshot.sst";
}

SstInstall::SstInstall(DbCore* core, std::string dir, uint64_t file_bytes_max)
    : core_(core), dir_(std::move(dir)), file_bytes_max_(file_bytes_max) {}

SstInstall::~SstInstall() {
  writer_.reset();  // abandons a file being written
  std::error_code ec;
  fs::remove_all(dir_, ec);  // ingested files were moved away already
}

absl::Status SstInstall::Start() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (!ec) fs::create_directory(dir_, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create snapshot staging directory ", dir_, ": ", ec.message()));
  }
  started_ = true;
  return absl::OkStatus();
}

absl::Status SstInstall::OpenFile(Table t, std::string lower) {
  CAIRN_CHECK(started_ && writer_ == nullptr) << "SstInstall::OpenFile out of turn";
  // The table's own options, so the files carry its filters and block format.
  const rocksdb::Options options(core_->db()->GetDBOptions(),
                                 core_->db()->GetOptions(core_->cf(t)));
  writer_ =
      std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(options), options, core_->cf(t));
  char name[32];
  std::snprintf(name, sizeof(name), "/%06llu.sst", static_cast<unsigned long long>(files_written_));
  const std::string path = dir_ + name;
  rocksdb::Status s = writer_->Open(path);
  if (!s.ok()) return FromRocks(s, absl::StrCat("creating snapshot file ", path));
  ++files_written_;
  files_[t].push_back(path);
  lower_ = std::move(lower);
  return absl::OkStatus();
}

absl::Status SstInstall::CloseFile(absl::string_view upper) {
  CAIRN_CHECK(writer_ != nullptr) << "SstInstall::CloseFile without an open file";
  rocksdb::Status s = writer_->DeleteRange(lower_, rocksdb::Slice(upper.data(), upper.size()));
  if (!s.ok()) return FromWriter(s, "staging a range deletion");
  rocksdb::ExternalSstFileInfo info;
  s = writer_->Finish(&info);  // syncs the file
  writer_.reset();
  if (!s.ok()) return FromRocks(s, "finishing a snapshot file");
  if (core_->options().snapshot_install_hook_for_testing) {
    core_->options().snapshot_install_hook_for_testing("sst_file_written", info.file_size);
  }
  return absl::OkStatus();
}

absl::Status SstInstall::Add(Table t, absl::string_view key, absl::string_view value) {
  const size_t pos = PositionOf(t);
  if (pos < table_pos_) {
    return BadPayload(absl::StrCat("records of table ", TableName(t), " after those of ",
                                   TableName(kSnapshotTables[table_pos_])));
  }
  while (table_pos_ < pos) {
    absl::Status st = EndTable();
    if (!st.ok()) return st;
  }
  if (!table_open_) {
    absl::Status st = OpenFile(t, "");
    if (!st.ok()) return st;
    table_open_ = true;
  } else {
    if (key <= last_key_) {
      return BadPayload(absl::StrCat("keys of table ", TableName(t), " out of order"));
    }
    // Cut here: this file's range deletion ends where the next one starts.
    if (writer_->FileSize() >= file_bytes_max_) {
      absl::Status st = CloseFile(key);
      if (st.ok()) st = OpenFile(t, std::string(key));
      if (!st.ok()) return st;
    }
  }
  rocksdb::Status s = writer_->Put(rocksdb::Slice(key.data(), key.size()),
                                   rocksdb::Slice(value.data(), value.size()));
  if (!s.ok()) return FromWriter(s, absl::StrCat("staging a record of ", TableName(t)));
  last_key_.assign(key.data(), key.size());
  return absl::OkStatus();
}

absl::Status SstInstall::EndTable() {
  const Table t = kSnapshotTables[table_pos_];
  absl::Status st = absl::OkStatus();
  if (table_open_) {
    absl::StatusOr<std::optional<std::string>> held = core_->LastKey(t);
    if (!held.ok()) return held.status();
    st = CloseFile(PastBoth(held->value_or(""), last_key_));
    table_open_ = false;
    last_key_.clear();
  } else {
    st = WriteWholeFile(t, /*clear=*/true, {});  // no records: the table ends up empty
  }
  if (st.ok()) ++table_pos_;
  return st;
}

absl::Status SstInstall::WriteWholeFile(
    Table t, bool clear, const std::vector<std::pair<std::string, std::string>>& puts) {
  std::string upper;
  if (clear) {
    absl::StatusOr<std::optional<std::string>> held = core_->LastKey(t);
    if (!held.ok()) return held.status();
    if (!held->has_value() && puts.empty()) return absl::OkStatus();  // empty and stays so
    upper = PastBoth(held->value_or(""), puts.empty() ? "" : puts.back().first);
  }
  absl::Status st = OpenFile(t, "");
  if (!st.ok()) return st;
  for (const auto& [key, value] : puts) {
    rocksdb::Status s = writer_->Put(key, value);
    if (!s.ok()) return FromRocks(s, absl::StrCat("staging ", TableName(t)));
  }
  if (clear) return CloseFile(upper);
  rocksdb::ExternalSstFileInfo info;
  rocksdb::Status s = writer_->Finish(&info);
  writer_.reset();
  return FromRocks(s, "finishing a snapshot file");
}

absl::Status SstInstall::Finish(const consensus::SnapshotMeta& meta,
                                const consensus::HardState& hard_state) {
  while (table_pos_ < kSnapshotTables.size()) {
    absl::Status st = EndTable();
    if (!st.ok()) return st;
  }
  // The Raft log restarts empty after the snapshot.
  absl::Status st = WriteWholeFile(kRaftLog, /*clear=*/true, {});
  if (!st.ok()) return st;
  // Merkle tiles index the merkle table just replaced: they go with it (the
  // node writes them again from the new table, LedgerStore::BackfillTiles).
  st = WriteWholeFile(kMerkleTiles, /*clear=*/true, {});
  if (!st.ok()) return st;
  // Raft state: the hard state and the snapshot metadata, nothing else. The
  // recorded conf changes belonged to the replaced log, and a membership
  // saved before now follows from the snapshot metadata (and later saves).
  consensus::HardState hs = hard_state;
  hs.commit = std::max(hs.commit, meta.index);
  std::string hs_value, meta_value;
  PutHardState(&hs_value, hs);
  PutSnapshotMeta(&meta_value, meta);
  // std::string_view: absl's constructor null-checks, which UBSan keeps out of constexpr.
  static_assert(std::string_view(kHardStateKey) < std::string_view(kSnapshotMetaKey));
  st = WriteWholeFile(kRaftState, /*clear=*/true,
                      {{kHardStateKey, hs_value}, {kSnapshotMetaKey, meta_value}});
  if (!st.ok()) return st;
  // The applied index; the layout version next to it stays.
  std::string applied;
  PutU64(&applied, meta.index);
  PutU64(&applied, meta.term);
  return WriteWholeFile(kMeta, /*clear=*/false, {{kMetaAppliedKey, applied}});
}

absl::Status SstInstall::Ingest() {
  CAIRN_CHECK(writer_ == nullptr && table_pos_ == kSnapshotTables.size())
      << "SstInstall::Ingest before Finish";
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (int t = 0; t < kTableCount; ++t) {
    if (files_[t].empty()) continue;
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = core_->cf(static_cast<Table>(t));
    arg.external_files = files_[t];
    // Hard links: the files are not copied (the staging directory is on
    // the database's file system, next to it).
    arg.options.move_files = true;
    // The sequence number lives in the MANIFEST only; writing it into the
    // files is for downgrades to RocksDB < 5.16, which we do not support.
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  return core_->Ingest(args, "ingesting a snapshot");
}

}  // namespace cairn::storage::internal
