// The ledger tables: atomic apply batches, entries by index, collections
// (current entry, paged listing), idempotency keys, governance state,
// checkpoints, Merkle nodes and tiles, each checked again after reopening.
#include "cairn/storage/ledger_store.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/merkle_tiles.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/storage/apply_batch.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "test_util.h"

namespace cairn::storage {
namespace {

using test::LedgerEntry;
using test::TestDb;

ledger::Hash HashOf(uint8_t seed) {
  ledger::Hash h;
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>(seed + i);
  return h;
}

// Applies entries first..last, cycling through `collections`.
void ApplyCycling(LedgerStore& ledger, uint64_t first, uint64_t last,
                  const std::vector<std::string>& collections) {
  auto batch = ledger.NewBatch();
  for (uint64_t i = first; i <= last; ++i) {
    ASSERT_TRUE(batch->AddEntry(LedgerEntry(i, 1, collections[i % collections.size()])).ok());
  }
  ASSERT_TRUE(ledger.Commit(*batch).ok());
}

TEST(LedgerStoreTest, EntriesByIndexAndAppliedIndexSurviveReopen) {
  TestDb t;
  EXPECT_EQ(t.ledger().applied_index(), 0u);
  EXPECT_EQ(t.ledger().Get(1).status().code(), absl::StatusCode::kNotFound);
  StoredEntry e = LedgerEntry(1, 2, "orders");
  e.idempotency_key = "k1";
  e.kind = EntryKind::kGovernance;
  e.timestamp_unix_ms = -5;
  StoredEntry internal_entry;
  internal_entry.index = 2;
  internal_entry.term = 2;
  internal_entry.kind = EntryKind::kInternal;
  ASSERT_TRUE(t.ledger().Apply({e, internal_entry}).ok());
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(t.ledger().applied_index(), 2u);
    EXPECT_EQ(t.ledger().applied(), (TxId{2, 2}));
    EXPECT_EQ(*t.ledger().Get(1), e);
    EXPECT_EQ(*t.ledger().Get(2), internal_entry);
    EXPECT_EQ(t.ledger().Get(3).status().code(), absl::StatusCode::kNotFound);
    t.Reopen();
  }
}

TEST(LedgerStoreTest, TransitionalOpenStillWorks) {
  cairn::testing::TempDir dir;
  {
    auto store = LedgerStore::Open(dir.path() + "/db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Apply({StoredEntry{1, 1, "a"}, StoredEntry{1, 2, "b"}}).ok());
  }
  auto store = LedgerStore::Open(dir.path() + "/db");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->applied_index(), 2u);
  EXPECT_EQ((*store)->Get(2)->data, "b");
}

TEST(LedgerStoreTest, BatchIsInvisibleUntilCommitAndAllOrNothing) {
  TestDb t;
  auto batch = t.ledger().NewBatch();
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(1, 1)).ok());
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(2, 1)).ok());
  batch->WriteNode(0, 0, HashOf(1));
  batch->PutUser("bob", "user-bob");
  EXPECT_EQ(batch->applied(), (TxId{1, 2}));
  EXPECT_EQ(batch->entry_count(), 2u);
  EXPECT_GT(batch->ByteSize(), 0u);
  // Nothing is visible to readers yet.
  EXPECT_EQ(t.ledger().applied_index(), 0u);
  EXPECT_EQ(t.ledger().Get(1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.ledger().GetCollection("c").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.ledger().ReadNode(0, 0).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.ledger().GetUser("bob").status().code(), absl::StatusCode::kNotFound);

  // A batch built on a stale applied index is refused and writes nothing.
  auto stale = t.ledger().NewBatch();
  ASSERT_TRUE(stale->AddEntry(LedgerEntry(1, 1, "other")).ok());
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  EXPECT_EQ(t.ledger().Commit(*stale).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.ledger().GetCollection("other").status().code(), absl::StatusCode::kNotFound);

  t.Reopen();
  EXPECT_EQ(t.ledger().applied_index(), 2u);
  EXPECT_EQ(t.ledger().GetCollection("c")->entry_count, 2u);
  EXPECT_EQ(*t.ledger().ReadNode(0, 0), HashOf(1));
  EXPECT_EQ(*t.ledger().GetUser("bob"), "user-bob");
}

TEST(LedgerStoreDeathTest, OutOfOrderApplyAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TestDb t;
  auto batch = t.ledger().NewBatch();
  EXPECT_DEATH((void)batch->AddEntry(LedgerEntry(2, 1)), "apply out of order");
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(1, 5)).ok());
  EXPECT_DEATH((void)batch->AddEntry(LedgerEntry(2, 4)), "term decreases");
}

TEST(LedgerStoreTest, MerkleNodesReadThroughTheBatch) {
  TestDb t;
  auto batch = t.ledger().NewBatch();
  batch->WriteNode(0, 0, HashOf(1));
  batch->WriteNode(0, 1, HashOf(2));
  EXPECT_EQ(*batch->ReadNode(0, 1), HashOf(2));  // before commit, through the batch
  batch->WriteNode(1, 0, HashOf(3));
  EXPECT_EQ(batch->ReadNode(1, 1).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(1, 1)).ok());
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  auto next = t.ledger().NewBatch();
  EXPECT_EQ(*next->ReadNode(1, 0), HashOf(3));  // from the database
  t.Reopen();
  EXPECT_EQ(*t.ledger().ReadNode(0, 0), HashOf(1));
  EXPECT_EQ(*t.ledger().ReadNode(1, 0), HashOf(3));
}

// A Merkle tile is written in the commit of the node that completes it,
// from nodes of that batch and of earlier ones alike (batches of 7 leaves
// cross tile boundaries), and survives reopening; a tile not yet complete
// is not there.
TEST(LedgerStoreTest, MerkleTilesAreWrittenWithTheNodeThatCompletesThem) {
  TestDb t;
  ledger::MerkleTree tree(&t.ledger());
  uint64_t index = 0;
  while (index < 600) {
    auto batch = t.ledger().NewBatch();
    for (int i = 0; i < 7 && index < 600; ++i) {
      ++index;
      ASSERT_TRUE(batch->AddEntry(LedgerEntry(index, 1)).ok());
      tree.Append(ledger::LeafHash(absl::StrCat("leaf-", index)), *batch);
    }
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
    const uint64_t complete = index / ledger::kTileWidth;  // tiles of group 0 complete now
    for (uint64_t tile = 0; tile <= complete; ++tile) {
      auto stored = t.ledger().ReadTile(0, tile);
      ASSERT_TRUE(stored.ok()) << stored.status();
      ASSERT_EQ(stored->has_value(), tile < complete) << "tile " << tile << " at " << index;
    }
  }
  t.Reopen();
  for (uint64_t tile : {0, 1}) {
    auto stored = t.ledger().ReadTile(0, tile);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(**stored, *ledger::GatherTile(t.ledger(), 0, tile));
  }
  EXPECT_FALSE(t.ledger().ReadTile(0, 2)->has_value());
  EXPECT_FALSE(t.ledger().ReadTile(1, 0)->has_value());
}

TEST(LedgerStoreTest, CollectionSummariesAndCurrentEntry) {
  TestDb t;
  ApplyCycling(t.ledger(), 1, 10, {"a", "b"});
  StoredEntry unindexed = LedgerEntry(11, 2, "");
  ASSERT_TRUE(t.ledger().Apply({unindexed}).ok());
  for (int pass = 0; pass < 2; ++pass) {
    auto a = t.ledger().GetCollection("a");
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(a->entry_count, 5u);
    EXPECT_EQ(a->first, (TxId{1, 2}));
    EXPECT_EQ(a->last, (TxId{1, 10}));
    EXPECT_EQ(t.ledger().GetCollection("b")->last, (TxId{1, 9}));
    EXPECT_EQ(t.ledger().CurrentEntry("b")->index, 9u);
    EXPECT_EQ(t.ledger().CurrentEntry("b")->data, "payload-9");
    EXPECT_EQ(t.ledger().CurrentEntry("zzz").status().code(), absl::StatusCode::kNotFound);
    t.Reopen();
  }
  // A later batch continues each summary (kept in memory within a batch,
  // written once at commit).
  auto batch = t.ledger().NewBatch();
  for (uint64_t i = 12; i <= 15; ++i) {
    ASSERT_TRUE(batch->AddEntry(LedgerEntry(i, 2, i % 2 == 0 ? "a" : "b")).ok());
  }
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  EXPECT_EQ(t.ledger().GetCollection("a")->entry_count, 7u);
  EXPECT_EQ(t.ledger().GetCollection("a")->first, (TxId{1, 2}));
  EXPECT_EQ(t.ledger().GetCollection("a")->last, (TxId{2, 14}));
  EXPECT_EQ(t.ledger().GetCollection("b")->entry_count, 7u);
  EXPECT_EQ(t.ledger().GetCollection("b")->last, (TxId{2, 15}));
}

TEST(LedgerStoreTest, GetRangeReadsInOrderUpToTheByteBound) {
  TestDb t;
  ApplyCycling(t.ledger(), 1, 20, {"a"});
  auto all = t.ledger().GetRange(3, 12, 1 << 20);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 10u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].index, 3 + i);
    EXPECT_EQ((*all)[i].data, t.ledger().Get(3 + i)->data);
  }
  // The bound stops after the entry that reaches it (at least one entry).
  const size_t one = (*all)[0].data.size();
  EXPECT_EQ(t.ledger().GetRange(3, 12, 1)->size(), 1u);
  EXPECT_EQ(t.ledger().GetRange(3, 12, one + 1)->size(), 2u);
  // Past the applied index: what there is; an empty or inverted range: nothing.
  EXPECT_EQ(t.ledger().GetRange(18, 30, 1 << 20)->size(), 3u);
  EXPECT_TRUE(t.ledger().GetRange(21, 30, 1 << 20)->empty());
  EXPECT_TRUE(t.ledger().GetRange(5, 4, 1 << 20)->empty());
}

TEST(LedgerStoreTest, ListEntriesPagesWithResumableTokens) {
  TestDb t;
  ApplyCycling(t.ledger(), 1, 30, {"a", "b", "c"});  // "a" holds 3, 6, ..., 30
  ListEntriesOptions o;
  o.page_size = 4;
  std::vector<uint64_t> seen;
  int pages = 0;
  do {
    auto page = t.ledger().ListEntries("a", o);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->entries.size(), 4u);
    for (const auto& e : page->entries) {
      seen.push_back(e.index);
      EXPECT_EQ(e.collection_id, "a");
      EXPECT_EQ(e.data, absl::StrCat("payload-", e.index));
    }
    for (char c : page->next_page_token) EXPECT_TRUE(c >= 0x21 && c < 0x7f) << "printable";
    o.page_token = page->next_page_token;
    ++pages;
    if (pages == 2) t.Reopen();  // tokens survive a restart
  } while (!o.page_token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 10u);
  for (size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], 3 * (k + 1));

  // Bounds are inclusive; without contents the data is left out.
  ListEntriesOptions bounded;
  bounded.from_index = 6;
  bounded.to_index = 12;
  bounded.include_data = false;
  auto page = t.ledger().ListEntries("a", bounded);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->entries.size(), 3u);
  EXPECT_EQ(page->entries.front().index, 6u);
  EXPECT_EQ(page->entries.back().index, 12u);
  EXPECT_TRUE(page->entries.front().data.empty());
  EXPECT_TRUE(page->next_page_token.empty());

  // A token belongs to its query.
  o.page_token = "";
  auto first = t.ledger().ListEntries("a", o);
  bounded.page_token = first->next_page_token;
  EXPECT_EQ(t.ledger().ListEntries("a", bounded).status().code(),
            absl::StatusCode::kInvalidArgument);
  o.page_token = first->next_page_token;
  EXPECT_EQ(t.ledger().ListEntries("b", o).status().code(), absl::StatusCode::kInvalidArgument);
  o.page_token = "garbage";
  EXPECT_EQ(t.ledger().ListEntries("a", o).status().code(), absl::StatusCode::kInvalidArgument);
  o.page_token = "";
  o.page_size = 0;
  EXPECT_EQ(t.ledger().ListEntries("a", o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(t.ledger().ListEntries("unknown", ListEntriesOptions{})->entries.empty());
}

TEST(LedgerStoreTest, ListEntriesByteBoundAndAppendsBetweenPages) {
  TestDb t;
  ApplyCycling(t.ledger(), 1, 6, {"a"});
  ListEntriesOptions o;
  o.page_size = 100;
  o.page_bytes_max = 1;  // every page ends after its first entry
  auto page = t.ledger().ListEntries("a", o);
  ASSERT_EQ(page->entries.size(), 1u);
  // Entries applied after the first page show up on later pages, in order.
  ApplyCycling(t.ledger(), 7, 8, {"a"});
  o.page_bytes_max = 4u << 20;
  o.page_token = page->next_page_token;
  page = t.ledger().ListEntries("a", o);
  ASSERT_EQ(page->entries.size(), 7u);
  EXPECT_EQ(page->entries.front().index, 2u);
  EXPECT_EQ(page->entries.back().index, 8u);
}

TEST(LedgerStoreTest, ListCollectionsPagesInIdOrder) {
  TestDb t;
  std::vector<std::string> ids = {"zeta", "alpha", "mid", std::string("nul\0byte", 8), "beta"};
  ApplyCycling(t.ledger(), 1, 10, ids);
  std::set<std::string> expected(ids.begin(), ids.end());
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = t.ledger().ListCollections(2, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& c : page->collections) {
      seen.push_back(c.collection_id);
      EXPECT_EQ(c.entry_count, 2u);
    }
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_EQ(seen, std::vector<std::string>(expected.begin(), expected.end()));
  EXPECT_EQ(t.ledger().ListCollections(2, "bogus").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.ledger().ListCollections(0, "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LedgerStoreTest, IdempotencyKeysFirstWinsThenExpire) {
  DatabaseOptions options;
  options.idempotency_window_ms = 1000;
  TestDb t(options);
  auto keyed = [](uint64_t index, std::string user, std::string key, int64_t ts) {
    StoredEntry e = LedgerEntry(index, 1, "c", ts);
    e.user_id = std::move(user);
    e.idempotency_key = std::move(key);
    return e;
  };
  ASSERT_TRUE(t.ledger()
                  .Apply({keyed(1, "alice", "k", 10'000), keyed(2, "alice", "k", 10'100),
                          keyed(3, "bob", "k", 10'200)})
                  .ok());
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(*t.ledger().LookupIdempotencyKey("alice", "k", 10'500), (TxId{1, 1}));
    EXPECT_EQ(*t.ledger().LookupIdempotencyKey("bob", "k", 10'500), (TxId{1, 3}));
    EXPECT_EQ(t.ledger().LookupIdempotencyKey("carol", "k", 10'500).status().code(),
              absl::StatusCode::kNotFound);
    // Outside the window the key is forgotten, even before it is deleted.
    EXPECT_EQ(t.ledger().LookupIdempotencyKey("alice", "k", 11'000).status().code(),
              absl::StatusCode::kNotFound);
    t.Reopen();
  }
  // After expiry the key can be used again.
  ASSERT_TRUE(t.ledger().Apply({keyed(4, "alice", "k", 11'000)}).ok());
  EXPECT_EQ(*t.ledger().LookupIdempotencyKey("alice", "k", 11'001), (TxId{1, 4}));

  // Expiry deletes old keys (bob's, at 10'200) and keeps newer ones.
  auto batch = t.ledger().NewBatch();
  ASSERT_TRUE(batch->AddEntry(keyed(5, "dave", "k", 11'300)).ok());
  ASSERT_TRUE(batch->ExpireIdempotencyKeys(11'300).ok());
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  t.Reopen();
  EXPECT_EQ(t.ledger().LookupIdempotencyKey("bob", "k", 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*t.ledger().LookupIdempotencyKey("alice", "k", 11'300), (TxId{1, 4}));
  EXPECT_EQ(*t.ledger().LookupIdempotencyKey("dave", "k", 11'300), (TxId{1, 5}));
}

TEST(LedgerStoreTest, IdempotencyExpiryIsBoundedPerBatch) {
  DatabaseOptions options;
  options.idempotency_window_ms = 10;
  options.idempotency_expire_per_batch_max = 3;
  TestDb t(options);
  std::vector<StoredEntry> entries;
  for (uint64_t i = 1; i <= 7; ++i) {
    StoredEntry e = LedgerEntry(i, 1, "c", static_cast<int64_t>(i));
    e.idempotency_key = absl::StrCat("k", i);
    entries.push_back(e);
  }
  ASSERT_TRUE(t.ledger().Apply(entries).ok());
  auto remaining = [&] {
    int n = 0;
    for (uint64_t i = 1; i <= 7; ++i) {
      n += t.ledger().LookupIdempotencyKey("alice", absl::StrCat("k", i), -100).ok();
    }
    return n;
  };
  EXPECT_EQ(remaining(), 7);
  for (int want : {4, 1, 0}) {
    auto batch = t.ledger().NewBatch();
    ASSERT_TRUE(batch->ExpireIdempotencyKeys(1000).ok());
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
    EXPECT_EQ(remaining(), want);
  }
}

// Database entries (live keys, deletions, and the versions they hide) that a
// call to ExpireIdempotencyKeys steps over, per RocksDB's perf counters.
uint64_t KeysSteppedOverBy(ApplyBatch& batch, int64_t now_unix_ms, size_t* expired) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  absl::StatusOr<size_t> n = batch.ExpireIdempotencyKeys(now_unix_ms);
  CAIRN_CHECK_OK(n.status());
  *expired = *n;
  const rocksdb::PerfContext& p = *rocksdb::get_perf_context();
  const uint64_t stepped =
      p.internal_delete_skipped_count + p.internal_key_skipped_count + p.next_on_memtable_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  return stepped;
}

// Expiry runs once per apply batch, so it must cost O(keys it expires):
// neither the keys still held nor the tombstones of keys expired earlier
// (RocksDB keeps those until compaction) may be walked over again.
TEST(LedgerStoreTest, IdempotencyExpiryCostsWhatItExpiresNotWhatItExpiredBefore) {
  DatabaseOptions options;
  options.idempotency_window_ms = 1000;
  options.idempotency_expire_per_batch_max = 100'000;
  TestDb t(options);
  std::vector<StoredEntry> entries;
  for (uint64_t i = 1; i <= 4000; ++i) {
    StoredEntry e = LedgerEntry(i, 1, "c", static_cast<int64_t>(i));
    e.idempotency_key = absl::StrCat("k", i);
    entries.push_back(std::move(e));
  }
  ASSERT_TRUE(t.ledger().Apply(entries).ok());

  size_t expired = 0;
  {
    auto batch = t.ledger().NewBatch();
    KeysSteppedOverBy(*batch, 3000 + 1000, &expired);  // ts 1..3000
    EXPECT_EQ(expired, 3000u);
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  }
  for (int pass = 0; pass < 2; ++pass) {  // and again after a reopen
    const int64_t upto = 3010 + 10 * pass;
    auto batch = t.ledger().NewBatch();
    const uint64_t stepped = KeysSteppedOverBy(*batch, upto + 1000, &expired);
    EXPECT_EQ(expired, 10u);
    // 10 live keys and the first one kept; without the floor, the 3000
    // tombstones (and the puts they hide) as well.
    EXPECT_LT(stepped, 100u) << "pass " << pass;
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
    t.Reopen();
  }
  EXPECT_EQ(t.ledger().LookupIdempotencyKey("alice", "k3020", 0).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*t.ledger().LookupIdempotencyKey("alice", "k3021", 0), (TxId{1, 3021}));
}

// The floor that lets expiry skip old tombstones must never skip a live key,
// even one stamped before it (a new leader whose clock is behind).
TEST(LedgerStoreTest, IdempotencyKeyStampedBelowTheFloorStillExpires) {
  DatabaseOptions options;
  options.idempotency_window_ms = 100;
  TestDb t(options);
  auto keyed = [](uint64_t index, std::string key, int64_t ts) {
    StoredEntry e = LedgerEntry(index, 1, "c", ts);
    e.idempotency_key = std::move(key);
    return e;
  };
  ASSERT_TRUE(t.ledger().Apply({keyed(1, "a", 1000), keyed(2, "b", 2000)}).ok());
  {
    auto batch = t.ledger().NewBatch();
    EXPECT_EQ(*batch->ExpireIdempotencyKeys(1500), 1u);  // "a"; the floor moves to 2000
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  }
  {
    auto batch = t.ledger().NewBatch();
    ASSERT_TRUE(batch->AddEntry(keyed(3, "late", 1200)).ok());  // behind the floor
    ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  }
  t.Reopen();
  auto batch = t.ledger().NewBatch();
  EXPECT_EQ(*batch->ExpireIdempotencyKeys(2500), 2u);  // "late" and "b"
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  for (const char* key : {"a", "b", "late"}) {
    // Read at a time inside every window: only deletion makes these NotFound.
    EXPECT_EQ(t.ledger().LookupIdempotencyKey("alice", key, 0).status().code(),
              absl::StatusCode::kNotFound)
        << key;
  }
}

TEST(LedgerStoreTest, GovernanceStateAndCheckpoints) {
  TestDb t;
  auto batch = t.ledger().NewBatch();
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(1, 1)).ok());
  batch->PutUser("u2", "two");
  batch->PutUser("u1", "one");
  batch->PutUser("u3", "three");
  batch->PutMember(2, "node-2");
  batch->PutMember(1, "node-1");
  batch->PutServiceValue("service_certificate_pem", "PEM");
  batch->AddCheckpoint(CheckpointRecord{TxId{1, 1}, 0, "cp-1"});
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  EXPECT_EQ(t.ledger().LatestCheckpoint()->signed_checkpoint, "cp-1");

  batch = t.ledger().NewBatch();
  ASSERT_TRUE(batch->AddEntry(LedgerEntry(2, 1)).ok());
  batch->RemoveUser("u3");
  batch->PutUser("u1", "one-v2");
  batch->RemoveMember(2);
  batch->AddCheckpoint(CheckpointRecord{TxId{1, 10}, 8, "cp-10"});
  batch->AddCheckpoint(CheckpointRecord{TxId{1, 20}, 15, "cp-20"});
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  for (int pass = 0; pass < 2; ++pass) {
    using Users = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(*t.ledger().ListUsers(), (Users{{"u1", "one-v2"}, {"u2", "two"}}));
    EXPECT_EQ(t.ledger().GetUser("u3").status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(*t.ledger().GetMember(1), "node-1");
    EXPECT_EQ(t.ledger().GetMember(2).status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(t.ledger().ListMembers()->size(), 1u);
    EXPECT_EQ(*t.ledger().GetServiceValue("service_certificate_pem"), "PEM");
    EXPECT_EQ(*t.ledger().LatestCheckpoint(), (CheckpointRecord{TxId{1, 20}, 15, "cp-20"}));
    EXPECT_EQ(t.ledger().CheckpointCovering(5)->signature.index, 10u);
    EXPECT_EQ(t.ledger().CheckpointCovering(8)->signature.index, 10u);
    EXPECT_EQ(t.ledger().CheckpointCovering(9)->signature.index, 20u);
    EXPECT_EQ(t.ledger().CheckpointCovering(16).status().code(), absl::StatusCode::kNotFound);
    t.Reopen();
  }
}

}  // namespace
}  // namespace cairn::storage
