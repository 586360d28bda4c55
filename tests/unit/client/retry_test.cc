// The retry policy's arithmetic and status classification, and the backoff
// scheduler, without a server.
#include "retry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"
#include "scheduler.h"

namespace cairn::client::internal {
namespace {

TEST(BackoffTest, GrowsByTheMultiplierUpToTheCap) {
  RetryPolicy p;
  p.initial_backoff_ms = 50;
  p.backoff_multiplier = 2.0;
  p.max_backoff_ms = 1000;
  EXPECT_EQ(BackoffMs(p, 0), 50);
  EXPECT_EQ(BackoffMs(p, 1), 100);
  EXPECT_EQ(BackoffMs(p, 4), 800);
  EXPECT_EQ(BackoffMs(p, 5), 1000);
  EXPECT_EQ(BackoffMs(p, 1000), 1000);  // no overflow on long outages
}

TEST(BackoffTest, JitterScalesDownByAtMostItsFraction) {
  RetryPolicy p;
  p.jitter = 0.25;
  EXPECT_EQ(JitteredMs(p, 400, 0.0), 400);
  EXPECT_EQ(JitteredMs(p, 400, 0.5), 350);
  EXPECT_EQ(JitteredMs(p, 400, 0.999999), 300);
  p.jitter = 0.0;
  EXPECT_EQ(JitteredMs(p, 400, 0.7), 400);
}

TEST(ClassifyTest, UnavailableRetriesAndFollowsHints) {
  EXPECT_EQ(Classify(grpc::StatusCode::UNAVAILABLE, Repeatable::kYes, false),
            RetryVerdict::kBackOff);
  EXPECT_EQ(Classify(grpc::StatusCode::UNAVAILABLE, Repeatable::kIfRefused, true),
            RetryVerdict::kRedirect);
  EXPECT_EQ(Classify(grpc::StatusCode::FAILED_PRECONDITION, Repeatable::kYes, true),
            RetryVerdict::kRedirect);
  EXPECT_EQ(Classify(grpc::StatusCode::RESOURCE_EXHAUSTED, Repeatable::kIfRefused, false),
            RetryVerdict::kBackOff);
}

TEST(ClassifyTest, TimeoutsAreRetriedOnlyWhenRepeatingIsSafe) {
  EXPECT_EQ(Classify(grpc::StatusCode::DEADLINE_EXCEEDED, Repeatable::kYes, false),
            RetryVerdict::kBackOff);
  EXPECT_EQ(Classify(grpc::StatusCode::DEADLINE_EXCEEDED, Repeatable::kIfRefused, false),
            RetryVerdict::kGiveUp);
}

TEST(ClassifyTest, RequestAndIdentityErrorsAreFinal) {
  for (grpc::StatusCode code :
       {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND,
        grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::UNAUTHENTICATED,
        grpc::StatusCode::FAILED_PRECONDITION, grpc::StatusCode::CANCELLED}) {
    EXPECT_EQ(Classify(code, Repeatable::kYes, false), RetryVerdict::kGiveUp) << code;
  }
}

TEST(PolicyTest, OutOfRangeValuesAreNamed) {
  RetryPolicy p;
  EXPECT_TRUE(ValidatePolicy(p).ok());
  p.jitter = 1.5;
  EXPECT_NE(ValidatePolicy(p).message().find("retry.jitter"), std::string::npos);
  p = RetryPolicy();
  p.max_backoff_ms = p.initial_backoff_ms - 1;
  EXPECT_NE(ValidatePolicy(p).message().find("retry.max_backoff_ms"), std::string::npos);
  p = RetryPolicy();
  p.total_timeout_ms = 0;
  EXPECT_NE(ValidatePolicy(p).message().find("retry.total_timeout_ms"), std::string::npos);
}

TEST(PlausibleAddressTest, AcceptsHostPortOnly) {
  EXPECT_TRUE(PlausibleAddress("127.0.0.1:7100"));
  EXPECT_TRUE(PlausibleAddress("node-2.cairn.internal:7100"));
  EXPECT_FALSE(PlausibleAddress(""));
  EXPECT_FALSE(PlausibleAddress("no-port"));
  EXPECT_FALSE(PlausibleAddress("bad host:1"));
  EXPECT_FALSE(PlausibleAddress(std::string(300, 'a') + ":1"));
}

TEST(SchedulerTest, RunsTasksInDueOrderNotBefore) {
  Scheduler scheduler;
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  const absl::Time start = absl::Now();
  std::atomic<int64_t> first_ran_after_ms{-1};
  scheduler.RunAt(start + absl::Milliseconds(60), [&] {
    absl::MutexLock lock(&mu);
    order.push_back(2);
    done.Notify();
  });
  scheduler.RunAt(start + absl::Milliseconds(20), [&] {
    first_ran_after_ms = absl::ToInt64Milliseconds(absl::Now() - start);
    absl::MutexLock lock(&mu);
    order.push_back(1);
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_GE(first_ran_after_ms.load(), 20);
}

TEST(SchedulerTest, DrainRunsPendingTasksAtOnceAndLaterOnesInline) {
  Scheduler scheduler;
  int ran = 0;
  scheduler.RunAt(absl::Now() + absl::Hours(1), [&] { ++ran; });
  const absl::Time before = absl::Now();
  scheduler.Drain();
  EXPECT_EQ(ran, 1);
  scheduler.RunAt(absl::Now() + absl::Hours(1), [&] { ++ran; });
  EXPECT_EQ(ran, 2);
  EXPECT_FALSE(scheduler.SleepFor(absl::Hours(1)));  // woken at once once draining
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));
}

}  // namespace
}  // namespace cairn::client::internal
