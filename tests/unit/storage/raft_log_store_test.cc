// The durable Raft log: append, truncation of a conflicting suffix,
// compaction, bounded reads, the term cache and membership, each checked
// again after reopening the database.
#include "cairn/storage/raft_log_store.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace cairn::storage {
namespace {

using consensus::ConfChange;
using consensus::ConfState;
using consensus::Entry;
using consensus::HardState;
using test::RaftEntries;
using test::RaftEntry;
using test::TestDb;

// Expects the log to hold exactly [first, last] with the given terms.
void ExpectLog(const RaftLogStore& log, consensus::Index first, consensus::Index last,
               const std::vector<consensus::Term>& terms) {
  ASSERT_EQ(log.FirstIndex(), first);
  ASSERT_EQ(log.LastIndex(), last);
  ASSERT_EQ(terms.size(), last + 1 - first);
  auto entries = log.Entries(first, last + 1, SIZE_MAX);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), terms.size());
  for (size_t k = 0; k < terms.size(); ++k) {
    EXPECT_EQ((*entries)[k].index, first + k);
    EXPECT_EQ((*entries)[k].term, terms[k]) << "index " << first + k;
    EXPECT_EQ(*log.TermAt(first + k), terms[k]) << "index " << first + k;
    EXPECT_EQ((*entries)[k].data, RaftEntry(first + k, terms[k]).data);
  }
}

TEST(RaftLogStoreTest, EmptyLog) {
  TestDb t;
  EXPECT_EQ(t.log().FirstIndex(), 1u);
  EXPECT_EQ(t.log().LastIndex(), 0u);
  EXPECT_EQ(*t.log().TermAt(0), 0u);
  EXPECT_EQ(t.log().TermAt(1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(t.log().Snapshot(), consensus::SnapshotMeta{});
  auto init = t.log().LoadInitialState();
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_EQ(init->hard_state, HardState{});
  EXPECT_EQ(init->conf_state, ConfState{});
  auto none = t.log().Entries(1, 1, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(RaftLogStoreTest, SaveAppendsEntriesAndHardStateDurably) {
  TestDb t;
  const HardState hs{.term = 2, .vote = 3, .commit = 4};
  ASSERT_TRUE(t.log().Save(hs, RaftEntries(1, 5, 2)).ok());
  ExpectLog(t.log(), 1, 5, {2, 2, 2, 2, 2});
  EXPECT_EQ(t.log().hard_state(), hs);
  t.Reopen();
  ExpectLog(t.log(), 1, 5, {2, 2, 2, 2, 2});
  EXPECT_EQ(t.log().LoadInitialState()->hard_state, hs);

  // Hard state alone, then entries alone: each keeps the other.
  const HardState hs2{.term = 3, .vote = 1, .commit = 5};
  ASSERT_TRUE(t.log().Save(hs2, {}).ok());
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(6, 7, 3)).ok());
  t.Reopen();
  ExpectLog(t.log(), 1, 7, {2, 2, 2, 2, 2, 3, 3});
  EXPECT_EQ(t.log().hard_state(), hs2);
}

TEST(RaftLogStoreTest, EntriesKeepsConfChangesAndEmptyData) {
  TestDb t;
  Entry cc = RaftEntry(1, 1);
  cc.conf_change = ConfChange{ConfChange::Kind::kAddLearner, 7};
  Entry empty = RaftEntry(2, 1);
  empty.data.clear();
  ASSERT_TRUE(t.log().Save(std::nullopt, {cc, empty}).ok());
  t.Reopen();
  auto got = t.log().Entries(1, 3, SIZE_MAX);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0], cc);
  EXPECT_EQ((*got)[1], empty);
}

TEST(RaftLogStoreTest, EntriesRespectsTheByteBoundButReturnsAtLeastOne) {
  TestDb t;
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(1, 10, 1)).ok());
  const size_t one = RaftEntry(1, 1).ByteSize();
  EXPECT_EQ(t.log().Entries(1, 11, 0)->size(), 1u);
  EXPECT_EQ(t.log().Entries(1, 11, one)->size(), 1u);
  EXPECT_EQ(t.log().Entries(1, 11, 3 * one)->size(), 3u);
  EXPECT_EQ(t.log().Entries(1, 11, 3 * one + 1)->size(), 3u);
  EXPECT_EQ(t.log().Entries(4, 6, SIZE_MAX)->size(), 2u);
  EXPECT_EQ(t.log().Entries(1, 12, SIZE_MAX).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(t.log().Entries(5, 4, SIZE_MAX).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.log().TermAt(11).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(RaftLogStoreTest, ConflictingSuffixIsReplaced) {
  TestDb t;
  ASSERT_TRUE(t.log().Save(HardState{1, 1, 3}, RaftEntries(1, 10, 1)).ok());
  // A new leader's entries 6..8 in term 2 replace 6..10 of term 1.
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(6, 8, 2)).ok());
  ExpectLog(t.log(), 1, 8, {1, 1, 1, 1, 1, 2, 2, 2});
  t.Reopen();
  ExpectLog(t.log(), 1, 8, {1, 1, 1, 1, 1, 2, 2, 2});
  // Replacing only the last entry, and appending right after it.
  ASSERT_TRUE(t.log().Save(std::nullopt, {RaftEntry(8, 3)}).ok());
  ASSERT_TRUE(t.log().Save(std::nullopt, {RaftEntry(9, 3)}).ok());
  t.Reopen();
  ExpectLog(t.log(), 1, 9, {1, 1, 1, 1, 1, 2, 2, 3, 3});
  // Truncation right after the commit index, to a longer suffix.
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(4, 12, 4)).ok());
  t.Reopen();
  ExpectLog(t.log(), 1, 12, {1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4});
}

TEST(RaftLogStoreTest, TruncationDropsConfChangesOfTheReplacedSuffix) {
  TestDb t;
  ASSERT_TRUE(t.log().Bootstrap(ConfState{{1, 2, 3}, {}}).ok());
  std::vector<Entry> entries = RaftEntries(1, 4, 1);
  entries[1].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 4};
  entries[3].conf_change = ConfChange{ConfChange::Kind::kRemoveNode, 2};
  ASSERT_TRUE(t.log().Save(std::nullopt, entries).ok());
  EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1, 3}, {4}}));
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(3, 5, 2)).ok());
  t.Reopen();
  EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1, 2, 3}, {4}}));
}

TEST(RaftLogStoreTest, EntriesAtOrBelowTheSnapshotAreSkipped) {
  TestDb t;
  t.AppendAndApply(1, 6, 1);
  ASSERT_TRUE(t.log().Compact(4).ok());
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(3, 8, 1)).ok());
  ExpectLog(t.log(), 5, 8, {1, 1, 1, 1});
  // Resent committed entries (same terms) are skipped too, the rest appended.
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(5, 9, 1)).ok());
  t.Reopen();
  ExpectLog(t.log(), 5, 9, {1, 1, 1, 1, 1});
}

TEST(RaftLogStoreDeathTest, GapsDecreasingTermsAndCommittedTruncationAbort) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // RocksDB runs background threads
  TestDb t;
  ASSERT_TRUE(t.log().Save(HardState{2, 1, 3}, RaftEntries(1, 5, 2)).ok());
  EXPECT_DEATH((void)t.log().Save(std::nullopt, RaftEntries(7, 8, 2)), "leaves a gap");
  EXPECT_DEATH((void)t.log().Save(std::nullopt, RaftEntries(6, 6, 1)), "term decreases");
  EXPECT_DEATH((void)t.log().Save(std::nullopt, RaftEntries(3, 4, 3)), "truncating committed");
  EXPECT_TRUE(t.log().Save(std::nullopt, RaftEntries(3, 3, 2)).ok());  // resent, committed
  std::vector<Entry> twisted = {RaftEntry(6, 2), RaftEntry(8, 2)};
  EXPECT_DEATH((void)t.log().Save(std::nullopt, twisted), "not consecutive");
}

TEST(RaftLogStoreTest, CompactDropsThePrefixAndKeepsItsTermAndMembership) {
  TestDb t;
  ASSERT_TRUE(t.log().Bootstrap(ConfState{{1}, {}}).ok());
  std::vector<Entry> entries = RaftEntries(1, 10, 1);
  entries[2].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 2};      // index 3
  entries[4].conf_change = ConfChange{ConfChange::Kind::kPromoteLearner, 2};  // index 5
  entries[7].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 3};      // index 8
  for (size_t k = 5; k < entries.size(); ++k) entries[k].term = 2;
  ASSERT_TRUE(t.log().Save(std::nullopt, entries).ok());
  auto batch = t.ledger().NewBatch();
  for (uint64_t i = 1; i <= 7; ++i)
    ASSERT_TRUE(batch->AddEntry(test::LedgerEntry(i, i <= 5 ? 1 : 2)).ok());
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());

  ASSERT_TRUE(t.log().Compact(6).ok());
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(t.log().FirstIndex(), 7u);
    EXPECT_EQ(t.log().LastIndex(), 10u);
    EXPECT_EQ(t.log().Snapshot().index, 6u);
    EXPECT_EQ(t.log().Snapshot().term, 2u);
    EXPECT_EQ(t.log().Snapshot().conf_state, (ConfState{{1, 2}, {}}));
    EXPECT_EQ(*t.log().TermAt(6), 2u);
    EXPECT_EQ(t.log().TermAt(5).status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(t.log().Entries(6, 8, SIZE_MAX).status().code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(t.log().Entries(7, 11, SIZE_MAX)->size(), 4u);
    EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1, 2}, {3}}));
    t.Reopen();
  }
  // Compacting at or below the snapshot is a no-op.
  ASSERT_TRUE(t.log().Compact(6).ok());
  ASSERT_TRUE(t.log().Compact(2).ok());
  EXPECT_EQ(t.log().FirstIndex(), 7u);
}

TEST(RaftLogStoreTest, CompactNeverPassesTheAppliedIndexOrTheLog) {
  TestDb t;
  t.AppendAndApply(1, 5, 1);
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(6, 9, 1)).ok());
  auto st = t.log().Compact(6);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("applied index is 5"), std::string::npos) << st;
  EXPECT_EQ(t.log().Compact(10).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(t.log().FirstIndex(), 1u);
  ASSERT_TRUE(t.log().Compact(5).ok());
  EXPECT_EQ(t.log().FirstIndex(), 6u);
}

TEST(RaftLogStoreTest, CompactingTheWholeLogThenAppending) {
  TestDb t;
  t.AppendAndApply(1, 5, 3);
  ASSERT_TRUE(t.log().Compact(5).ok());
  t.Reopen();
  EXPECT_EQ(t.log().FirstIndex(), 6u);
  EXPECT_EQ(t.log().LastIndex(), 5u);
  EXPECT_EQ(*t.log().TermAt(5), 3u);
  EXPECT_TRUE(t.log().Entries(6, 6, 10)->empty());
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(6, 7, 4)).ok());
  t.Reopen();
  ExpectLog(t.log(), 6, 7, {4, 4});
}

TEST(RaftLogStoreTest, TermCacheIsBoundedAndTermsStayRight) {
  DatabaseOptions options;
  options.term_runs_cached_max = 3;
  TestDb t(options);
  // 20 terms, three entries each: far more runs than the cache holds.
  for (uint64_t term = 1; term <= 20; ++term) {
    ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(3 * term - 2, 3 * term, term)).ok());
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t i = 1; i <= 60; ++i) EXPECT_EQ(*t.log().TermAt(i), (i + 2) / 3) << i;
    t.Reopen();
  }
  // Truncation into an uncached run, then compaction into a cached one.
  ASSERT_TRUE(t.log().Save(std::nullopt, RaftEntries(10, 12, 30)).ok());
  EXPECT_EQ(*t.log().TermAt(9), 3u);
  EXPECT_EQ(*t.log().TermAt(10), 30u);
  EXPECT_EQ(t.log().LastIndex(), 12u);
  auto batch = t.ledger().NewBatch();
  for (uint64_t i = 1; i <= 12; ++i) {
    ASSERT_TRUE(batch->AddEntry(test::LedgerEntry(i, i <= 9 ? (i + 2) / 3 : 30)).ok());
  }
  ASSERT_TRUE(t.ledger().Commit(*batch).ok());
  ASSERT_TRUE(t.log().Compact(11).ok());
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(*t.log().TermAt(11), 30u);
    EXPECT_EQ(*t.log().TermAt(12), 30u);
    EXPECT_EQ(t.log().TermAt(10).status().code(), absl::StatusCode::kFailedPrecondition);
    t.Reopen();
  }
}

TEST(RaftLogStoreTest, MembershipFollowsConfChangesOneServerAtATime) {
  TestDb t;
  ASSERT_TRUE(t.log().Bootstrap(ConfState{{1, 2, 3}, {}}).ok());
  std::vector<Entry> entries = RaftEntries(1, 4, 1);
  entries[0].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 4};
  entries[1].conf_change = ConfChange{ConfChange::Kind::kPromoteLearner, 4};
  entries[2].conf_change = ConfChange{ConfChange::Kind::kRemoveNode, 2};
  entries[3].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 3};  // already a voter
  ASSERT_TRUE(t.log().Save(std::nullopt, entries).ok());
  EXPECT_EQ(t.log().Bootstrap(ConfState{{9}, {}}).code(), absl::StatusCode::kFailedPrecondition);
  t.Reopen();
  EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1, 3, 4}, {}}));
}

TEST(RaftLogStoreTest, SavedMembershipWinsOverTheComputedOne) {
  TestDb t;
  ASSERT_TRUE(t.log().Bootstrap(ConfState{{1}, {}}).ok());
  EXPECT_EQ(t.log().Snapshot().conf_state, (ConfState{{1}, {}}));
  std::vector<Entry> entries = RaftEntries(1, 3, 1);
  entries[0].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 2};
  // The Ready carries the membership as of its last entry; it is stored.
  ASSERT_TRUE(t.log().Save({HardState{1, 1, 0}, entries, ConfState{{1}, {2}}, true}).ok());
  t.Reopen();
  EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1}, {2}}));
  // A later saved membership replaces it, whatever the log says.
  ASSERT_TRUE(t.log().Save({std::nullopt, {}, ConfState{{1, 2}, {}}, true}).ok());
  t.Reopen();
  EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1, 2}, {}}));
  // Compaction keeps the membership the node gives for the snapshot.
  TestDb other;
  ASSERT_TRUE(other.log().Save(std::nullopt, RaftEntries(1, 2, 1)).ok());
  auto b = other.ledger().NewBatch();
  ASSERT_TRUE(b->AddEntry(test::LedgerEntry(1, 1)).ok());
  ASSERT_TRUE(b->AddEntry(test::LedgerEntry(2, 1)).ok());
  ASSERT_TRUE(other.ledger().Commit(*b).ok());
  ASSERT_TRUE(other.log().Compact(2, ConfState{{7}, {8}}).ok());
  other.Reopen();
  EXPECT_EQ(other.log().Snapshot().conf_state, (ConfState{{7}, {8}}));
}

TEST(RaftLogStoreTest, InvalidConfChangesChangeNothingLikeInTheCore) {
  TestDb t;
  ASSERT_TRUE(t.log().Bootstrap(ConfState{{1}, {2}}).ok());
  std::vector<Entry> entries = RaftEntries(1, 5, 1);
  entries[0].conf_change = ConfChange{ConfChange::Kind::kPromoteLearner, 3};  // not a learner
  entries[1].conf_change = ConfChange{ConfChange::Kind::kRemoveNode, 1};      // last voter
  entries[2].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 2};      // already one
  entries[3].conf_change = ConfChange{ConfChange::Kind::kRemoveNode, 9};      // not a member
  entries[4].conf_change = ConfChange{ConfChange::Kind::kAddLearner, 0};      // no node
  ASSERT_TRUE(t.log().Save(std::nullopt, entries).ok());
  EXPECT_EQ(t.log().LoadInitialState()->conf_state, (ConfState{{1}, {2}}));
}

}  // namespace
}  // namespace cairn::storage
