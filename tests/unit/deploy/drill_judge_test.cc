// The drill's judgement (deploy/drill/judge.h) on made-up histories over a
// real ledger with real receipts (unit/ledger/test_ledger.h): a clean
// history passes every check, and each planted fault fails the check meant
// to catch it: an acknowledged write missing, a loss after a region loss
// that is not the unarchived tail, a GEO_DURABLE write lost, a receipt
// whose contents were changed or that was never kept, a service that never
// answered again, and bounds exceeded.
#include <memory>
#include <string>
#include <vector>

#include "drill/judge.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "unit/ledger/test_ledger.h"

namespace cairn::drill {
namespace {

using robustness::LedgerEntry;
using robustness::Operation;
using robustness::OpKind;
using robustness::Outcome;
using ::testing::HasSubstr;

constexpr int64_t kMs = 1'000'000;

class DrillJudgeTest : public ::testing::Test {
 protected:
  // Ten acknowledged appends to drill-0 (indexes 2-11, after the genesis),
  // one read of the last, a signature, a receipt kept for index 5; the
  // fault at 1 s, after all of them.
  void SetUp() override {
    ledger_ = std::make_unique<testing::TestLedger>();
    e_ = Evidence{};
    report_ = DrillReport{};
    for (int i = 0; i < 10; ++i) {
      const std::string value = "v" + std::to_string(i);
      const ledger::TxId txid = ledger_->AppendUser("drill-0", value);
      e_.ledger.push_back({txid.term, txid.index, "drill-0", value});
      Operation op;
      op.client = i % 3;
      op.kind = OpKind::kAppend;
      op.collection = "drill-0";
      op.value = value;
      op.invoke_ns = i * 20 * kMs;
      op.complete_ns = op.invoke_ns + 10 * kMs;
      op.outcome = Outcome::kOk;
      op.txid_term = txid.term;
      op.txid_index = txid.index;
      e_.history.push_back(op);
      e_.geo_flags.push_back(false);
    }
    Operation read;
    read.kind = OpKind::kReadCurrent;
    read.collection = "drill-0";
    read.invoke_ns = 300 * kMs;
    read.complete_ns = 310 * kMs;
    read.outcome = Outcome::kOk;
    read.read_found = true;
    read.read_value = "v9";
    e_.history.push_back(read);
    e_.geo_flags.push_back(false);
    ledger_->AppendSignature();
    const ledger::TxId kept{ledger_->term(), 5};
    e_.receipts.push_back({kept.ToString(), "v3", ledger_->ReceiptFor(kept), 400 * kMs});
    e_.service_cert_pem = ledger_->service_cert().ToPem();
    e_.collections = 1;
    e_.fault_ns = 1000 * kMs;
    e_.served_again = true;
    report_.rto_first_write_s = 1.5;
    report_.rto_first_verified_read_s = 1.6;
  }

  DrillReport Judge(const Bounds& bounds = {}) {
    DrillReport report = report_;
    JudgeHistory(e_, &report);
    JudgeRecovery(e_, bounds, &report);
    return report;
  }

  static const DrillCheck& CheckOf(const DrillReport& r, const std::string& name) {
    for (const DrillCheck& c : r.checks) {
      if (c.name == name) return c;
    }
    static const DrillCheck missing{"missing", false, "no such check"};
    ADD_FAILURE() << "no check " << name;
    return missing;
  }

  static std::vector<std::string> Failed(const DrillReport& r) {
    std::vector<std::string> failed;
    for (const DrillCheck& c : r.checks) {
      if (!c.passed) failed.push_back(c.name);
    }
    return failed;
  }

  // Drops the ledger entries after log index `last` (a region loss that
  // kept only what the archive held).
  void KeepThrough(uint64_t last) {
    std::erase_if(e_.ledger, [&](const LedgerEntry& x) { return x.index > last; });
    e_.region_loss = true;
    e_.recovered_last_index = last;
    e_.committed_before_loss = 12;  // the signature after the ten appends
  }

  std::unique_ptr<testing::TestLedger> ledger_;
  Evidence e_;
  DrillReport report_;
};

TEST_F(DrillJudgeTest, ACleanHistoryPassesEveryCheck) {
  const DrillReport r = Judge({.rpo_max_entries = 0, .rto_max_s = 5});
  EXPECT_THAT(Failed(r), ::testing::IsEmpty());
  EXPECT_EQ(r.acked_writes, 10u);
  EXPECT_EQ(r.lost_acked_writes, 0u);
  EXPECT_EQ(r.rpo_entries, 0u);
  EXPECT_EQ(r.receipts_kept, 1u);
  EXPECT_EQ(r.receipts_reverified, 1u);
  EXPECT_EQ(r.checks.size(), 7u);  // four of the history, restored, two bounds
}

TEST_F(DrillJudgeTest, AnAcknowledgedWriteMissingFails) {
  std::erase_if(e_.ledger, [](const LedgerEntry& x) { return x.contents == "v6"; });
  const DrillReport r = Judge();
  EXPECT_FALSE(CheckOf(r, "acked_writes_present").passed);
  EXPECT_FALSE(CheckOf(r, "linearizable").passed);
  EXPECT_EQ(r.lost_acked_writes, 1u);
  ASSERT_EQ(r.lost_writes.size(), 1u);
  EXPECT_EQ(r.lost_writes[0].txid, robustness::TxidString(e_.history[6].txid_term, 8));
}

TEST_F(DrillJudgeTest, ARegionLossMayLoseTheUnarchivedTailOnly) {
  KeepThrough(8);  // v7, v8, v9 at indexes 9-11 lost; the read of v9 saw one
  DrillReport r = Judge({.rpo_max_entries = 4, .rto_max_s = std::nullopt});
  EXPECT_THAT(Failed(r), ::testing::IsEmpty());
  EXPECT_EQ(r.lost_acked_writes, 3u);
  EXPECT_EQ(r.rpo_entries, 4u);                       // indexes 9-12, the signature included
  EXPECT_NEAR(r.rpo_s, (1000.0 - 150) / 1000, 1e-9);  // v7 acknowledged at 150 ms
  EXPECT_THAT(CheckOf(r, "linearizable").detail, HasSubstr("1 reads of lost writes"));

  // A bound below the loss fails.
  r = Judge({.rpo_max_entries = 3, .rto_max_s = std::nullopt});
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("rpo_bound"));
}

TEST_F(DrillJudgeTest, ARegionLossThatLosesAnArchivedWriteFails) {
  KeepThrough(11);
  std::erase_if(e_.ledger, [](const LedgerEntry& x) { return x.index == 5; });
  const DrillReport r = Judge();
  EXPECT_FALSE(CheckOf(r, "loss_is_unarchived_tail").passed);
  EXPECT_THAT(CheckOf(r, "loss_is_unarchived_tail").detail,
              HasSubstr("1 writes on the wrong side"));
}

TEST_F(DrillJudgeTest, AGeoDurableWriteLostFails) {
  e_.geo_flags[8] = true;  // v8, index 10
  KeepThrough(8);
  const DrillReport r = Judge();
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("geo_durable_not_lost"));
  EXPECT_EQ(r.lost_geo_durable_writes, 1u);
}

TEST_F(DrillJudgeTest, AReceiptThatNoLongerMatchesFails) {
  e_.receipts[0].contents = "not what was appended";
  DrillReport r = Judge();
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("receipts_reverified"));
  EXPECT_THAT(CheckOf(r, "receipts_reverified").detail, HasSubstr("first failure 1.5"));

  // A flipped byte in the receipt's proof.
  SetUp();
  e_.receipts[0].receipt.mutable_checkpoint()->mutable_signature()->back() ^= 1;
  r = Judge();
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("receipts_reverified"));

  // None kept before the fault.
  SetUp();
  e_.receipts[0].verified_ns = 2000 * kMs;
  r = Judge();
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("receipts_reverified"));
  EXPECT_THAT(CheckOf(r, "receipts_reverified").detail, HasSubstr("no receipt was kept"));
}

TEST_F(DrillJudgeTest, AServiceThatNeverAnsweredAgainFails) {
  report_.rto_first_verified_read_s = -1;
  DrillReport r = Judge({.rpo_max_entries = std::nullopt, .rto_max_s = 30});
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("service_restored", "rto_bound"));
  EXPECT_THAT(CheckOf(r, "rto_bound").detail, HasSubstr("first verified read never"));

  SetUp();
  e_.served_again = false;
  r = Judge();
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("service_restored"));

  SetUp();
  r = Judge({.rpo_max_entries = std::nullopt, .rto_max_s = 1.55});
  EXPECT_THAT(Failed(r), ::testing::ElementsAre("rto_bound"));
}

}  // namespace
}  // namespace cairn::drill
