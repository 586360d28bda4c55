// Snapshots: take one, stream it in bounded chunks, install it in another
// database and compare; a flipped byte anywhere, a truncated or misdirected
// payload, and out-of-order chunks are refused with the existing state intact;
// Merkle tiles are dropped by an install and written again by a backfill.
#include "cairn/storage/snapshot.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/storage/apply_batch.h"
#include "test_util.h"

namespace cairn::storage {
namespace {

using consensus::ConfChange;
using consensus::ConfState;
using test::LedgerEntry;
using test::RaftEntries;
using test::TestDb;

std::string Sha256(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CAIRN_CHECK(EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) == 1);
  return std::string(reinterpret_cast<const char*>(digest), len);
}

struct Payload {
  consensus::SnapshotMeta meta;
  std::vector<std::string> chunks;
  std::string sha256;

  std::string Joined() const {
    std::string all;
    for (const auto& c : chunks) all += c;
    return all;
  }
};

Payload Take(Database& db, size_t chunk_bytes_max) {
  auto source = db.TakeSnapshot(chunk_bytes_max);
  CAIRN_CHECK(source.ok()) << source.status();
  Payload p;
  p.meta = (*source)->meta();
  while (!(*source)->done()) {
    const uint64_t offset = (*source)->offset();
    auto chunk = (*source)->NextChunk();
    CAIRN_CHECK(chunk.ok()) << chunk.status();
    CAIRN_CHECK(!chunk->empty() && chunk->size() <= chunk_bytes_max) << chunk->size();
    CAIRN_CHECK(offset + chunk->size() == (*source)->offset());
    p.chunks.push_back(*std::move(chunk));
  }
  p.sha256 = (*source)->payload_sha256();
  CAIRN_CHECK(p.sha256.size() == 32);
  CAIRN_CHECK((*source)->NextChunk().status().code() == absl::StatusCode::kFailedPrecondition);
  return p;
}

absl::StatusOr<consensus::SnapshotMeta> Install(Database& db, const Payload& p,
                                                size_t chunk_bytes_max) {
  auto sink = db.NewSnapshotSink(chunk_bytes_max);
  if (!sink.ok()) return sink.status();
  uint64_t offset = 0;
  for (const auto& c : p.chunks) {
    absl::Status st = (*sink)->Append(offset, c);
    if (!st.ok()) return st;
    offset += c.size();
  }
  return (*sink)->Install(p.sha256, &p.meta);
}

// A leader-like database: a Raft log with membership changes and a ledger
// with every kind of table content, partly compacted.
void Populate(TestDb& t) {
  ASSERT_TRUE(t.log().Bootstrap(ConfState{{1, 2, 3}, {}}).ok());
  std::vector<consensus::Entry> entries = RaftEntries(1, 40, 2);
  entries[9].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 4};
  entries[39].conf_change = ConfChange{ConfChange::Kind::kRemoveNode, 1};  // after applied
  ASSERT_TRUE(t.log().Save(consensus::HardState{2, 1, 35}, entries).ok());
  auto batch = t.ledger().NewBatch();
  for (uint64_t i = 1; i <= 35; ++i) {
    StoredEntry e = LedgerEntry(i, 2, absl::StrCat("col-", i % 4), 5000 + i);
    e.idempotency_key = absl::StrCat("key-", i);
    ASSERT_TRUE(batch->AddEntry(e).ok());
    batch->WriteNode(0, i - 1, ledger::Hash{static_cast<uint8_t>(i)});
  }
  batch->AddCheckpoint(CheckpointRecord{TxId{2, 30}, 29, "checkpoint"});
  batch->PutUser("admin", "administrator");
  batch->PutMember(4, "learner-4");
  batch->PutServiceValue("service", "identity");
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  ASSERT_TRUE(t.log().Compact(20).ok());
}

TEST(SnapshotTest, RoundTripInChunksReplacesStateAndResetsTheLog) {
  TestDb leader;
  Populate(leader);
  const Payload p = Take(leader.db(), 100);
  EXPECT_GT(p.chunks.size(), 10u);
  EXPECT_EQ(p.meta.index, 35u);
  EXPECT_EQ(p.meta.term, 2u);
  EXPECT_EQ(p.meta.conf_state, (ConfState{{1, 2, 3}, {4}}));

  // The follower has state of its own, some of which the snapshot removes.
  TestDb follower;
  follower.AppendAndApply(1, 3, 1, "stale");
  const std::vector<consensus::Entry> follower_entries = RaftEntries(4, 6, 2);
  ASSERT_TRUE(follower.log()
                  .Save({consensus::HardState{2, 2, 3}, follower_entries, ConfState{{9}, {}}, true})
                  .ok());
  {
    auto batch = follower.ledger().NewBatch();
    batch->PutUser("removed-elsewhere", "x");
    ASSERT_TRUE(batch->AddEntry(LedgerEntry(4, 2, "stale")).ok());
    ASSERT_TRUE(follower.ledger().Commit(*batch).ok());
  }
  auto meta = Install(follower.db(), p, 100);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(*meta, p.meta);

  for (int pass = 0; pass < 2; ++pass) {
    // Same ledger state, byte for byte: the follower's snapshot is identical.
    const Payload again = Take(follower.db(), 1000);
    EXPECT_EQ(again.Joined(), p.Joined());
    EXPECT_EQ(again.sha256, p.sha256);
    EXPECT_EQ(follower.ledger().applied(), (TxId{2, 35}));
    EXPECT_EQ(follower.ledger().GetCollection("stale").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(follower.ledger().GetUser("removed-elsewhere").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(*follower.ledger().GetUser("admin"), "administrator");
    EXPECT_EQ(*follower.ledger().Get(7), *leader.ledger().Get(7));
    EXPECT_EQ(follower.ledger().CurrentEntry("col-3")->index, 35u);
    EXPECT_EQ(*follower.ledger().LookupIdempotencyKey("alice", "key-9", 6000), (TxId{2, 9}));
    EXPECT_EQ(follower.ledger().LatestCheckpoint()->tree_size, 29u);
    EXPECT_EQ((*follower.ledger().ReadNode(0, 34))[0], 35);
    // The Raft log restarts right after the snapshot.
    EXPECT_EQ(follower.log().FirstIndex(), 36u);
    EXPECT_EQ(follower.log().LastIndex(), 35u);
    EXPECT_EQ(follower.log().Snapshot(), p.meta);
    EXPECT_EQ(*follower.log().TermAt(35), 2u);
    EXPECT_EQ(follower.log().hard_state(), (consensus::HardState{2, 2, 35}));
    EXPECT_EQ(follower.log().LoadInitialState()->conf_state, (ConfState{{1, 2, 3}, {4}}));
    follower.Reopen();
  }
  // And it carries on from there.
  follower.AppendAndApply(36, 37, 3);
  EXPECT_EQ(follower.ledger().applied_index(), 37u);
  EXPECT_FALSE(std::filesystem::exists(follower.path() + ".incoming-snapshot"));
}

// Applies leaves first..last as entries with a Merkle tree over them.
void ApplyTree(TestDb& t, ledger::MerkleTree& tree, uint64_t first, uint64_t last,
               const std::string& prefix) {
  auto batch = t.ledger().NewBatch();
  for (uint64_t i = first; i <= last; ++i) {
    ASSERT_TRUE(batch->AddEntry(LedgerEntry(i, 1)).ok());
    tree.Append(ledger::LeafHash(absl::StrCat(prefix, i)), *batch);
  }
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
}

// Merkle tiles are not in a snapshot; install drops the follower's (they
// indexed the merkle table it replaced), and BackfillTiles writes them again
// from the installed nodes: the leader's tiles, byte for byte, once.
TEST(SnapshotTest, InstallDropsMerkleTilesAndBackfillWritesThemAgain) {
  TestDb leader;
  ledger::MerkleTree tree(&leader.ledger());
  ApplyTree(leader, tree, 1, 600, "leader-");
  TestDb follower;
  ledger::MerkleTree own(&follower.ledger());
  ApplyTree(follower, own, 1, 300, "follower-");  // its own tile 0, of other leaves
  ASSERT_TRUE(follower.ledger().ReadTile(0, 0)->has_value());

  ASSERT_TRUE(Install(follower.db(), Take(leader.db(), 4096), 4096).ok());
  EXPECT_FALSE(follower.ledger().ReadTile(0, 0)->has_value());
  EXPECT_EQ(*follower.ledger().BackfillTiles(600, [] { return true; }), 0u);  // stopped at once
  EXPECT_FALSE(follower.ledger().ReadTile(0, 0)->has_value());

  EXPECT_EQ(*follower.ledger().BackfillTiles(600, [] { return false; }), 2u);
  for (uint64_t tile : {0, 1}) {
    EXPECT_EQ(*follower.ledger().ReadTile(0, tile), *leader.ledger().ReadTile(0, tile)) << tile;
  }
  EXPECT_FALSE(follower.ledger().ReadTile(0, 2)->has_value());
  EXPECT_EQ(*follower.ledger().BackfillTiles(600, [] { return false; }), 0u);  // all there
}

// A node missing under a tile is DataLoss, and no tile is written for it.
TEST(SnapshotTest, BackfillOfATileWithAMissingNodeIsDataLoss) {
  TestDb t;
  auto batch = t.ledger().NewBatch();
  for (uint64_t i = 0; i < 256; ++i) {
    ASSERT_TRUE(batch->AddEntry(LedgerEntry(i + 1, 1)).ok());
    if (i != 17) batch->WriteNode(0, i, ledger::LeafHash(absl::StrCat(i)));
  }
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  auto written = t.ledger().BackfillTiles(256, [] { return false; });
  EXPECT_EQ(written.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(written.status().message().find("level 0 index 17"), std::string::npos)
      << written.status();
  EXPECT_FALSE(t.ledger().ReadTile(0, 0)->has_value());
}

// A ledger of many entries with every kind of derived state.
void PopulateMany(TestDb& t, uint64_t entries) {
  constexpr uint64_t kBatch = 1000;
  for (uint64_t first = 1; first <= entries; first += kBatch) {
    const uint64_t last = std::min(entries, first + kBatch - 1);
    ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(first, last, 3)).ok());
    auto batch = t.ledger().NewBatch();
    for (uint64_t i = first; i <= last; ++i) {
      StoredEntry e = LedgerEntry(i, 3, absl::StrCat("col-", i % 97), static_cast<int64_t>(i));
      e.idempotency_key = absl::StrCat("key-", i);
      e.data = std::string(256, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(batch->AddEntry(e).ok());
      batch->WriteNode(0, i - 1, ledger::Hash{static_cast<uint8_t>(i)});
      if (i % 100 == 0) batch->AddCheckpoint(CheckpointRecord{TxId{3, i}, i - 1, "cp"});
    }
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  }
}

// The install must not need memory of the order of the ledger: the payload
// goes to SST files cut at snapshot_install_file_bytes_max, and none of it
// passes through a WriteBatch or the memtables.
TEST(SnapshotTest, ManyEntriesInstallThroughBoundedFiles) {
  TestDb leader;
  PopulateMany(leader, 20'000);
  const Payload p = Take(leader.db(), 64 << 10);
  const size_t payload_bytes = p.Joined().size();
  ASSERT_GT(payload_bytes, 8u << 20);

  constexpr uint64_t kFileBytesMax = 256 << 10;
  std::vector<uint64_t> file_bytes;
  DatabaseOptions options;
  options.snapshot_install_file_bytes_max = kFileBytesMax;
  options.snapshot_install_hook_for_testing = [&](absl::string_view stage, uint64_t bytes) {
    if (stage == "sst_file_written") file_bytes.push_back(bytes);
  };
  TestDb follower(options);
  follower.AppendAndApply(1, 50, 1, "zz-stale");  // sorts after every leader collection
  const uint64_t memtable_before = follower.db().memory_usage().memtable_bytes;
  auto meta = Install(follower.db(), p, 64 << 10);
  ASSERT_TRUE(meta.ok()) << meta.status();

  // SST files compress; the payload does not. So a lower bound on their
  // number is loose, an upper bound on their size is not.
  EXPECT_GE(file_bytes.size(), 10u);
  for (uint64_t bytes : file_bytes) {
    // A file is cut at the first record past the bound; its last data block,
    // index and filter come on top.
    EXPECT_LE(bytes, kFileBytesMax + (64 << 10));
  }
  // The old install put the whole payload in one WriteBatch and then in the
  // memtables; ingestion bypasses both.
  EXPECT_LT(follower.db().memory_usage().memtable_bytes, memtable_before + (1u << 20));

  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_TRUE(Take(follower.db(), 1 << 20).Joined() == p.Joined()) << "pass " << pass;
    EXPECT_EQ(follower.ledger().GetCollection("zz-stale").status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_EQ(follower.ledger().GetCollection("col-5")->entry_count, 207u);
    EXPECT_EQ(follower.ledger().Get(12'345)->data, std::string(256, 'a' + 12'345 % 26));
    EXPECT_EQ(*follower.ledger().LookupIdempotencyKey("alice", "key-19999", 19'999),
              (TxId{3, 19'999}));
    EXPECT_EQ(follower.log().FirstIndex(), 20'001u);
    EXPECT_EQ(follower.log().Snapshot().index, 20'000u);
    follower.Reopen();
  }
  follower.AppendAndApply(20'001, 20'010, 4);
  EXPECT_EQ(follower.ledger().applied_index(), 20'010u);
  EXPECT_FALSE(std::filesystem::exists(follower.path() + ".incoming-snapshot"));
  EXPECT_FALSE(std::filesystem::exists(follower.path() + ".incoming-snapshot.sst"));
}

// Records must come table by table and in key order: the SST files (and the
// range deletions between them) depend on it. A payload that breaks the
// order, with a checksum to match, is refused before anything is written.
TEST(SnapshotTest, RecordsOutOfOrderAreRefused) {
  TestDb leader;
  Populate(leader);
  const Payload taken = Take(leader.db(), 1 << 20);
  const std::string good = taken.Joined();
  // Swap two adjacent entry records (same length: entries 2 and 3).
  const size_t a = good.find("payload-2"), b = good.find("payload-3");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  const size_t rec_len = b - a;
  const size_t start_a = a + 9 - rec_len;  // the record of entry 2 ends with "payload-2"
  Payload swapped;
  swapped.meta = taken.meta;
  std::string bytes = good;
  std::string rec2 = good.substr(start_a, rec_len), rec3 = good.substr(start_a + rec_len, rec_len);
  bytes.replace(start_a, rec_len, rec3);
  bytes.replace(start_a + rec_len, rec_len, rec2);
  swapped.chunks = {bytes};
  swapped.sha256 = Sha256(bytes);
  TestDb follower;
  follower.AppendAndApply(1, 2, 1);
  auto st = Install(follower.db(), swapped, 1 << 20);
  EXPECT_EQ(st.status().code(), absl::StatusCode::kDataLoss) << st.status();
  EXPECT_NE(st.status().message().find("out of order"), std::string::npos) << st.status();
  EXPECT_EQ(follower.ledger().applied_index(), 2u);
  EXPECT_EQ(follower.ledger().Get(1)->collection_id, "c");
  EXPECT_FALSE(std::filesystem::exists(follower.path() + ".incoming-snapshot.sst"));
}

TEST(SnapshotTest, AFlippedByteAnywhereIsRefusedAndNothingChanges) {
  TestDb leader;
  Populate(leader);
  const Payload p = Take(leader.db(), 64);
  TestDb follower;
  follower.AppendAndApply(1, 3, 1, "mine");
  const std::string before = Take(follower.db(), 4096).Joined();
  const size_t total = p.Joined().size();
  // First byte, a header byte, bytes in the middle, the trailer's last byte.
  for (size_t pos : {size_t{0}, size_t{9}, size_t{20}, total / 3, total / 2, total - 1}) {
    Payload bad = p;
    size_t at = pos;
    size_t k = 0;
    while (at >= bad.chunks[k].size()) at -= bad.chunks[k++].size();
    bad.chunks[k][at] ^= 0x01;
    auto st = Install(follower.db(), bad, 64);
    EXPECT_EQ(st.status().code(), absl::StatusCode::kDataLoss) << "flip at " << pos;
    EXPECT_NE(st.status().message().find("checksum mismatch"), std::string::npos) << st.status();
    EXPECT_EQ(Take(follower.db(), 4096).Joined(), before) << "state changed after flip at " << pos;
    EXPECT_EQ(follower.log().LastIndex(), 3u);
  }
  follower.Reopen();
  EXPECT_EQ(Take(follower.db(), 4096).Joined(), before);
  // The genuine payload still installs.
  EXPECT_TRUE(Install(follower.db(), p, 64).ok());
}

// The checksum of the chunks as they arrived is not enough: what gets
// installed is the staging file read back, which may have changed on disk
// since (a bad sector, another process). It is checked again as it is read,
// before anything is written.
TEST(SnapshotTest, StagingFileChangedOnDiskIsRefused) {
  TestDb leader;
  Populate(leader);
  const Payload p = Take(leader.db(), 256);
  const std::string joined = p.Joined();
  TestDb follower;
  follower.AppendAndApply(1, 3, 1, "mine");
  const std::string before = Take(follower.db(), 4096).Joined();
  // Inside a value (entry data "payload-7"), so the payload still parses,
  // and in the record structure (a table tag), so it does not.
  const size_t in_value = joined.find("payload-7") + 8;
  const size_t in_structure = joined.find("payload-7") + 9;  // the next record's tag
  for (size_t at : {in_value, in_structure}) {
    auto sink = follower.db().NewSnapshotSink(256);
    ASSERT_TRUE(sink.ok());
    uint64_t offset = 0;
    for (const auto& c : p.chunks) {
      ASSERT_TRUE((*sink)->Append(offset, c).ok());
      offset += c.size();
    }
    {
      std::fstream f(follower.path() + ".incoming-snapshot",
                     std::ios::in | std::ios::out | std::ios::binary);
      ASSERT_TRUE(f);
      f.seekp(static_cast<std::streamoff>(at));
      f.put(static_cast<char>(joined[at] ^ 0x01));
    }
    auto st = (*sink)->Install(p.sha256, &p.meta);
    EXPECT_EQ(st.status().code(), absl::StatusCode::kDataLoss) << "flip at " << at;
    EXPECT_NE(st.status().message().find("staging file checksum mismatch"), std::string::npos)
        << st.status();
    sink->reset();
    EXPECT_TRUE(Take(follower.db(), 4096).Joined() == before) << "state changed, flip at " << at;
    EXPECT_EQ(follower.ledger().applied_index(), 3u);
  }
  EXPECT_TRUE(Install(follower.db(), p, 256).ok());
}

TEST(SnapshotTest, MalformedPayloadWithAMatchingChecksumIsRefused) {
  TestDb leader;
  Populate(leader);
  const Payload p = Take(leader.db(), 256);
  // The checksum is right for the bytes sent; the structure is not.
  Payload truncated = p;
  truncated.chunks.back().pop_back();
  Payload trailing = p;
  trailing.chunks.push_back("x");
  Payload not_a_snapshot = p;
  not_a_snapshot.chunks = {"definitely not a snapshot"};
  TestDb follower;
  follower.AppendAndApply(1, 2, 1);
  for (Payload* bad : {&truncated, &trailing, &not_a_snapshot}) {
    bad->sha256 = Sha256(bad->Joined());
    auto st = Install(follower.db(), *bad, 256);
    EXPECT_EQ(st.status().code(), absl::StatusCode::kDataLoss) << st.status();
    EXPECT_NE(st.status().message().find("snapshot payload"), std::string::npos) << st.status();
    EXPECT_EQ(follower.ledger().applied_index(), 2u);
    EXPECT_EQ(follower.log().LastIndex(), 2u);
  }
}

TEST(SnapshotTest, ChunksMustArriveInOrderWithinTheBound) {
  TestDb leader;
  Populate(leader);
  const Payload p = Take(leader.db(), 50);
  TestDb follower;
  auto sink = follower.db().NewSnapshotSink(50);
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ((*sink)->Append(1, p.chunks[0]).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*sink)->Append(0, std::string(51, 'x')).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*sink)->Append(0, p.chunks[0]).ok());
  EXPECT_EQ((*sink)->Append(0, p.chunks[1]).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*sink)->bytes_received(), p.chunks[0].size());
  // One sink at a time.
  EXPECT_EQ(follower.db().NewSnapshotSink(50).status().code(),
            absl::StatusCode::kFailedPrecondition);
  sink->reset();
  EXPECT_TRUE(follower.db().NewSnapshotSink(50).ok());
}

TEST(SnapshotTest, RefusesStaleOrMismatchedSnapshots) {
  TestDb leader;
  Populate(leader);
  const Payload p = Take(leader.db(), 1000);
  // Not ahead of the follower's applied index.
  TestDb ahead;
  ahead.AppendAndApply(1, 35, 2);
  auto st = Install(ahead.db(), p, 1000);
  EXPECT_EQ(st.status().code(), absl::StatusCode::kFailedPrecondition) << st.status();
  EXPECT_EQ(ahead.ledger().applied_index(), 35u);
  // The snapshot message says something else than the payload.
  TestDb follower;
  Payload wrong = p;
  wrong.meta.term = 9;
  EXPECT_EQ(Install(follower.db(), wrong, 1000).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(follower.ledger().applied_index(), 0u);
  // A spent sink cannot be reused.
  auto sink = follower.db().NewSnapshotSink(1000);
  ASSERT_TRUE((*sink)->Install(p.sha256).status().code() == absl::StatusCode::kDataLoss);
  EXPECT_EQ((*sink)->Append(0, "x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SnapshotTest, SnapshotIsConsistentWhileWritesContinue) {
  TestDb t;
  t.AppendAndApply(1, 10, 1);
  EXPECT_EQ(TestDb().db().TakeSnapshot(10).status().code(), absl::StatusCode::kFailedPrecondition);
  auto source = t.db().TakeSnapshot(32);
  ASSERT_TRUE(source.ok());
  auto first = (*source)->NextChunk();
  ASSERT_TRUE(first.ok());
  t.AppendAndApply(11, 20, 1);  // lands after the snapshot was taken
  Payload p;
  p.meta = (*source)->meta();
  p.chunks.push_back(*first);
  while (!(*source)->done()) p.chunks.push_back(*(*source)->NextChunk());
  p.sha256 = (*source)->payload_sha256();
  EXPECT_EQ(p.meta.index, 10u);
  TestDb follower;
  ASSERT_TRUE(Install(follower.db(), p, 32).ok());
  EXPECT_EQ(follower.ledger().applied_index(), 10u);
  EXPECT_EQ(follower.ledger().Get(11).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(follower.ledger().GetCollection("c")->entry_count, 10u);
}

}  // namespace
}  // namespace cairn::storage
