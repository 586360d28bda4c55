// The child of the storage kill -9 test: behaves like a node's storage loop
// until it is killed. It appends batches of entries with the hard state in
// one synced Save, reports each acknowledged batch to the parent through a
// pipe ("<first> <last> <term>\n", written only after Save returned OK),
// then applies the batches before it (a commit index one batch behind) in
// unsynced ApplyBatch commits, and now and then compacts the log.
//
// Usage: storage_crash_child <data dir> <ack fd> <term> <seed> [--sync-off]
// --sync-off sets DatabaseOptions::unsafe_disable_sync_for_testing.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/data_dir.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "crash/crash_workload.h"

namespace cairn::storage::crash {
namespace {

constexpr uint64_t kBatchEntriesMax = 32;
constexpr uint64_t kBatchesMax = 1'000'000;  // a stray child ends on its own
// Compact once this many applied entries sit in the log, keeping a tail.
constexpr uint64_t kCompactAfterEntries = 400;
constexpr uint64_t kCompactKeepEntries = 100;

[[noreturn]] void Die(absl::string_view what, const absl::Status& st) {
  std::fprintf(stderr, "storage_crash_child: %s: %s\n", std::string(what).c_str(),
               st.ToString().c_str());
  std::exit(3);
}

void Ack(int fd, uint64_t first, uint64_t last, uint64_t term) {
  const std::string line = absl::StrCat(first, " ", last, " ", term, "\n");
  // Below PIPE_BUF, so the parent never sees half a line.
  if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::fprintf(stderr, "storage_crash_child: ack write failed: %s\n", std::strerror(errno));
    std::exit(4);
  }
}

// Applies log entries (applied, commit] in one unsynced batch, with the
// derived state a node would write: collection index, idempotency key,
// a Merkle leaf per entry and a checkpoint every kCheckpointEvery entries.
void ApplyUpTo(Database& db, uint64_t commit) {
  LedgerStore& ledger = db.ledger();
  const uint64_t applied = ledger.applied_index();
  if (commit <= applied) return;
  auto entries = db.raft_log().Entries(applied + 1, commit + 1, SIZE_MAX);
  if (!entries.ok()) Die("reading entries to apply", entries.status());
  auto batch = ledger.NewBatch();
  for (const consensus::Entry& e : *entries) {
    absl::Status st = batch->AddEntry(LedgerEntryFor(e.index, e.term, e.data));
    if (!st.ok()) Die("adding an entry", st);
    ledger::Hash leaf{};
    for (size_t k = 0; k < leaf.size(); ++k) leaf[k] = static_cast<uint8_t>(e.index >> (k % 8));
    batch->WriteNode(0, e.index - 1, leaf);
    if (e.index % kCheckpointEvery == 0) {
      batch->AddCheckpoint(CheckpointRecord{TxId{e.term, e.index}, e.index - 1, "checkpoint"});
    }
  }
  absl::Status st = ledger.Commit(*batch);
  if (!st.ok()) Die("committing an apply batch", st);
}

int Run(const std::string& dir_path, int ack_fd, uint64_t term, uint64_t seed, bool sync_off) {
  auto dir = DataDir::Open(dir_path, /*create_if_missing=*/true);
  if (!dir.ok()) Die("opening the data directory", dir.status());
  DatabaseOptions options;
  options.unsafe_disable_sync_for_testing = sync_off;
  auto db = Database::Open((*dir)->db_path(), options);
  if (!db.ok()) Die("opening the database", db.status());
  RaftLogStore& log = (*db)->raft_log();
  uint64_t state = seed * 7919 + term;
  for (uint64_t b = 0; b < kBatchesMax; ++b) {
    const uint64_t first = log.LastIndex() + 1;
    const uint64_t last = first + SplitMix(&state) % kBatchEntriesMax;
    std::vector<consensus::Entry> entries;
    for (uint64_t i = first; i <= last; ++i) {
      entries.push_back(consensus::Entry{term, i, EntryData(i, term, last), std::nullopt});
    }
    const consensus::HardState hs{term, 1, first - 1};
    absl::Status st = log.Save(hs, entries);
    if (!st.ok()) Die("saving a batch", st);
    Ack(ack_fd, first, last, term);
    ApplyUpTo(**db, first - 1);
    const uint64_t applied = (*db)->ledger().applied_index();
    if (applied >= log.FirstIndex() + kCompactAfterEntries) {
      st = log.Compact(applied - kCompactKeepEntries);
      if (!st.ok()) Die("compacting", st);
    }
  }
  return 0;
}

}  // namespace
}  // namespace cairn::storage::crash

int main(int argc, char** argv) {
  int ack_fd = -1;
  uint64_t term = 0, seed = 0;
  if (argc < 5 || !absl::SimpleAtoi(argv[2], &ack_fd) || !absl::SimpleAtoi(argv[3], &term) ||
      !absl::SimpleAtoi(argv[4], &seed) || term == 0) {
    std::fprintf(stderr, "usage: %s <data dir> <ack fd> <term> <seed> [--sync-off]\n", argv[0]);
    return 2;
  }
  const bool sync_off = argc > 5 && std::string(argv[5]) == "--sync-off";
  return cairn::storage::crash::Run(argv[1], ack_fd, term, seed, sync_off);
}
