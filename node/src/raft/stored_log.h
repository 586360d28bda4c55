// The loop's seams over a node's RocksDB database (raft/seams.h): its Raft
// log, and a snapshot received into a sink of that database.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cairn/storage/raft_log_store.h"
#include "cairn/storage/snapshot.h"
#include "raft/seams.h"

namespace cairn::node {

class StoredRaftLog final : public DurableLog {
 public:
  explicit StoredRaftLog(storage::RaftLogStore* log) : log_(log) {}
  consensus::LogStorage* reader() override { return log_; }
  absl::Status Save(const Write& write) override {
    return log_->Save(storage::RaftLogStore::Write{write.hard_state, write.entries,
                                                   write.conf_state, write.must_sync});
  }
  absl::Status Compact(consensus::Index index,
                       std::optional<consensus::ConfState> conf_state) override {
    return log_->Compact(index, std::move(conf_state));
  }

 private:
  storage::RaftLogStore* const log_;
};

// Installs a payload staged in `sink` whose SHA-256 is `payload_sha256`.
class StoredSnapshot final : public IncomingSnapshot {
 public:
  StoredSnapshot(std::unique_ptr<storage::SnapshotSink> sink, std::string payload_sha256)
      : sink_(std::move(sink)), sha256_(std::move(payload_sha256)) {}
  absl::Status Install(const consensus::SnapshotMeta& meta) override {
    return sink_->Install(sha256_, &meta).status();
  }

 private:
  std::unique_ptr<storage::SnapshotSink> sink_;
  const std::string sha256_;
};

}  // namespace cairn::node
