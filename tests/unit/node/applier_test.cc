// The ledger state machine: entries become leaves and table rows in one
// write, retried appends become duplicates of the original, governance
// changes land, and a signature over a root this node does not hold halts
// the process (Raft §5.3 gives equal logs; the signature check proves it);
// loading the tree asks for the Merkle tiles it lacks.
#include "apply/applier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "apply/tile_backfill.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/ledger_store.h"
#include "ledger_fixture.h"

namespace cairn::node {
namespace {

using ::testing::HasSubstr;

class ApplierTest : public LedgerFixture {};

TEST_F(ApplierTest, EntriesBecomeLeavesRowsAndGovernanceInOneWrite) {
  auto results = applier_->Apply({Next(""), Next(Genesis()), Next(User("a")), Next(User("b"))});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(applier_->applied_index(), 4u);
  EXPECT_EQ(applier_->tree().size(), 4u);
  EXPECT_EQ(db_->ledger().applied_index(), 4u);
  EXPECT_TRUE(governance_.created());
  EXPECT_EQ(governance_.RoleOf(pki_.admin_cert->Fingerprint()), v1::ROLE_ADMINISTRATOR);
  auto current = db_->ledger().CurrentEntry("docs");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->index, 4u);
}

TEST_F(ApplierTest, RetriedAppendIsADuplicateOfTheOriginalAndNotIndexedTwice) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a", "k1"))});
  auto results = applier_->Apply({Next(User("a", "k1")), Next(User("b", "k2"))});
  ASSERT_TRUE(results[0].duplicate_of.has_value());
  EXPECT_EQ(results[0].duplicate_of->index, 3u);
  EXPECT_FALSE(results[1].duplicate_of.has_value());
  auto summary = db_->ledger().GetCollection("docs");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->entry_count, 2u);     // "a" once, "b" once
  EXPECT_EQ(applier_->tree().size(), 5u);  // but every entry is a leaf
}

TEST_F(ApplierTest, ValidSignatureIsRecordedAsACheckpoint) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  applier_->Apply({Next(Signature())});
  EXPECT_EQ(applier_->signed_tree_size(), 3u);
  auto latest = db_->ledger().LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->tree_size, 3u);
  EXPECT_EQ(latest->signature.index, 4u);
}

TEST_F(ApplierTest, SignatureOverAnotherHistoryHaltsTheNode) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  // A leader whose third leaf differs signs its own root.
  v1::Checkpoint cp =
      ledger::MakeCheckpoint(pki_.service_cert->Fingerprint(), 3,
                             ledger::Sha256("some other history"), ledger::TxId{1, 3}, NowMs());
  auto signed_cp = ledger::SignCheckpoint(cp, 1, *pki_.node_key);
  ASSERT_TRUE(signed_cp.ok());
  const std::string forged =
      ledger::MakeSignatureCommand(*signed_cp, *pki_.node_cert).SerializeAsString();
  EXPECT_DEATH(applier_->Apply({Next(forged)}), "HALT.*does not hold");
}

TEST_F(ApplierTest, SignatureByANodeOfAnotherServiceHaltsTheNode) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  Pki other;
  SignerIdentity id{1, pki_.service_cert->Fingerprint(), &*other.node_cert, &*other.node_key};
  const std::string command =
      *MakeSignatureCommand(id, applier_->tree(), applier_->applied_term(), NowMs());
  EXPECT_DEATH(applier_->Apply({Next(command)}), "HALT.*node certificate");
}

TEST_F(ApplierTest, SignatureOverFewerLeavesThanTheLastCheckpointHaltsTheNode) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  const std::string older = Signature();  // 3 leaves
  applier_->Apply({Next(User("b"))});
  applier_->Apply({Next(Signature())});  // 4 leaves
  ASSERT_EQ(applier_->signed_tree_size(), 4u);
  // Valid on its own (its root is this node's root at 3 leaves), but later.
  EXPECT_DEATH(applier_->Apply({Next(older)}), "HALT.*fewer than the 4");
}

// A checkpoint that misses entries (the leader signed before they applied)
// restarts their wait: they fall due a whole interval after it, not at once
// because older entries it did cover waited long (that made signatures run
// back to back under load).
TEST_F(ApplierTest, EntriesACheckpointMissedWaitAWholeIntervalFromIt) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  const auto first_unsigned = applier_->unsigned_since();
  const std::string signs_three = Signature();
  applier_->Apply({Next(User("b"))});
  EXPECT_EQ(applier_->unsigned_since(), first_unsigned) << "b waits with a";
  const auto before = std::chrono::steady_clock::now();
  applier_->Apply({Next(signs_three)});
  ASSERT_EQ(applier_->signed_tree_size(), 3u);
  EXPECT_EQ(applier_->last_signable_index(), 4u);
  EXPECT_GE(applier_->unsigned_since(), before) << "b now waits from the checkpoint";
}

// Idempotency keys are judged against the ledger clock (the latest committed
// timestamp), so replicas that apply the same entries in different batches
// agree on every retry, even when a leader's clock is behind an earlier one's.
TEST_F(ApplierTest, RetriesAreJudgedAlikeWhateverTheBatchingAndClockSkew) {
  auto user = [&](const std::string& key, int64_t ts) {
    v1::LogCommand c;
    v1::UserTransaction* tx = c.mutable_user();
    tx->set_collection_id("docs");
    tx->set_contents("x");
    tx->set_user_id(pki_.admin_cert->Fingerprint());
    tx->set_idempotency_key(key);
    tx->set_timestamp_unix_ms(ts);
    return c.SerializeAsString();
  };
  const int64_t window_ms = 10'000;
  std::vector<consensus::Entry> log;
  uint64_t i = 0;
  auto add = [&](std::string data) { log.push_back({1, ++i, std::move(data), std::nullopt}); };
  add("");
  add(Genesis());
  add(user("k", 1'000'000));
  add(user("other", 1'000'000 + 3 * window_ms));  // the clock moves past k's window
  add(user("k", 1'000'000 + 5));                  // a retry stamped by a slow clock
  std::vector<std::vector<std::optional<ledger::TxId>>> outcomes;
  for (const bool one_batch : {true, false}) {
    storage::DatabaseOptions options;
    options.idempotency_window_ms = window_ms;
    auto db = *storage::Database::Open(tmp_.path() + (one_batch ? "/a" : "/b"), options);
    Governance governance;
    Applier applier(db.get(), &governance, *pki_.service_cert);
    ASSERT_TRUE(applier.Load().ok());
    std::vector<std::optional<ledger::TxId>> dups;
    if (one_batch) {
      for (const auto& r : applier.Apply(log)) dups.push_back(r.duplicate_of);
    } else {
      for (const auto& e : log) dups.push_back(applier.Apply({e})[0].duplicate_of);
    }
    outcomes.push_back(dups);
    auto summary = db->ledger().GetCollection("docs");
    ASSERT_TRUE(summary.ok());
    EXPECT_EQ(summary->entry_count, 3u) << "the late retry is a new entry, not a duplicate";
  }
  EXPECT_EQ(outcomes[0], outcomes[1]);
  EXPECT_FALSE(outcomes[0][4].has_value());
}

TEST_F(ApplierTest, StateSurvivesReopening) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  applier_->Apply({Next(Signature())});
  const ledger::Hash root = applier_->tree().Root();
  applier_.reset();
  db_.reset();
  db_ = *storage::Database::Open(tmp_.path() + "/db");
  Governance governance;
  Applier reopened(db_.get(), &governance, *pki_.service_cert);
  ASSERT_TRUE(reopened.Load().ok());
  EXPECT_EQ(reopened.applied_index(), 4u);
  EXPECT_EQ(reopened.signed_tree_size(), 3u);
  EXPECT_EQ(reopened.tree().Root(), root);
  EXPECT_TRUE(governance.created());
}

// Loading the tree asks for the Merkle tiles it lacks, up to the applied
// index (at start, and again after a snapshot install, which drops them);
// the backfill runs on its own thread and stops mid-work when told.
TEST_F(ApplierTest, LoadingTheTreeAsksForItsMissingTiles) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  absl::Mutex mu;
  std::vector<uint64_t> asked;
  bool stopped = false;
  TileBackfill backfill([&](uint64_t tree_size, absl::FunctionRef<bool()> stop) {
    {
      absl::MutexLock lock(&mu);
      asked.push_back(tree_size);
    }
    // Works until told to stop, like a long backfill.
    while (!stop()) absl::SleepFor(absl::Milliseconds(1));
    absl::MutexLock lock(&mu);
    stopped = true;
    return absl::StatusOr<uint64_t>(0);
  });
  Governance governance;
  Applier reopened(db_.get(), &governance, *pki_.service_cert);
  reopened.set_tile_backfill(&backfill);
  ASSERT_TRUE(reopened.Load().ok());
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(
                                +[](std::vector<uint64_t>* a) { return !a->empty(); }, &asked),
                            absl::Seconds(10)));
    EXPECT_EQ(asked, std::vector<uint64_t>{3});
  }
  backfill.Stop();
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(stopped);
}

}  // namespace
}  // namespace cairn::node
