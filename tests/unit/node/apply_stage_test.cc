// The apply stage applies handed-over entries in log order on its own
// thread, publishes the signer's view after each batch, runs exclusive work
// only after everything handed over before, and holds back a loop that runs
// too far ahead.
#include "apply/apply_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "ledger_fixture.h"

namespace cairn::node {
namespace {

class ApplyStageTest : public LedgerFixture {};

TEST_F(ApplyStageTest, AppliesInOrderAndExclusiveWorkSeesEverythingBefore) {
  absl::Mutex mu;
  std::vector<uint64_t> seen;  // first index of each applied batch, in order
  ApplyStage stage(
      applier_.get(), 1000,
      [&](const std::vector<consensus::Entry>& entries, const std::vector<ApplyResult>& results) {
        ASSERT_EQ(entries.size(), results.size());
        absl::MutexLock lock(&mu);
        for (const auto& e : entries) seen.push_back(e.index);
      });
  stage.Start();
  stage.Submit({Next(""), Next(Genesis())});
  for (int i = 0; i < 50; ++i) stage.Submit({Next(User("a")), Next(User("b"))});
  uint64_t applied_at_exclusive = 0;
  stage.RunExclusive([&] { applied_at_exclusive = applier_->applied_index(); });
  EXPECT_EQ(applied_at_exclusive, 102u);
  EXPECT_TRUE(stage.idle());
  const SignState sign = stage.sign_state();
  EXPECT_EQ(sign.applied_index, 102u);
  EXPECT_EQ(sign.root, applier_->tree().Root());
  EXPECT_EQ(sign.applied_term, 1u);
  stage.Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 102u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
}

TEST_F(ApplyStageTest, SubmitWaitsWhileTheQueueIsFull) {
  absl::Notification release;
  std::atomic<int> batches{0};
  ApplyStage stage(applier_.get(), /*queued_entries_max=*/2,
                   [&](const std::vector<consensus::Entry>&, const std::vector<ApplyResult>&) {
                     if (batches.fetch_add(1) == 0) release.WaitForNotification();
                   });
  stage.Start();
  stage.Submit({Next(""), Next(Genesis())});         // applied, then its callback blocks
  stage.Submit({Next(User("1")), Next(User("2"))});  // fills the queue
  std::atomic<bool> third_in{false};
  std::thread loop([&] {
    stage.Submit({Next(User("3"))});
    third_in = true;
  });
  // The stage is stuck in the first callback: the third batch cannot enter
  // until there is room. Give the thread every chance to run, then release.
  for (int i = 0; i < 100 && !third_in; ++i) std::this_thread::yield();
  EXPECT_FALSE(third_in.load());
  release.Notify();
  loop.join();
  EXPECT_TRUE(third_in.load());
  stage.RunExclusive([] {});
  EXPECT_EQ(applier_->applied_index(), 5u);
}

}  // namespace
}  // namespace cairn::node
