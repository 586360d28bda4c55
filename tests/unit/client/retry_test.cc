// The retry policy's arithmetic, the classification of answers by their
// error reason (and by code when they carry none), gRPC's message-size
// errors, and the backoff scheduler, without a server.
#include "retry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/synchronization/notification.h"
#include "cairn/client/errors.h"
#include "error_info.h"
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

absl::Status Bare(absl::StatusCode code, absl::string_view message = "x") {
  return absl::Status(code, message);
}

absl::Status Reasoned(absl::StatusCode code, ErrorReason reason) {
  return WithReason(absl::Status(code, "x"), reason);
}

// Each reason's verdict, for a call safe to repeat and for one that is not,
// without and with a leader hint. The code each status has is deliberately
// not the one a node would pair the reason with where that matters: the
// reason decides, not the code.
TEST(ClassifyTest, TheReasonDecides) {
  struct Case {
    ErrorReason reason;
    absl::StatusCode code;
    RetryVerdict repeatable;  // Repeatable::kYes, no hint
    RetryVerdict if_refused;  // Repeatable::kIfRefused, no hint
    RetryVerdict hinted;      // Repeatable::kYes, hinted
  };
  using V = RetryVerdict;
  using C = absl::StatusCode;
  const Case cases[] = {
      {ErrorReason::kNotLeader, C::kUnavailable, V::kBackOff, V::kBackOff, V::kRedirect},
      {ErrorReason::kNotLeader, C::kFailedPrecondition, V::kBackOff, V::kBackOff, V::kRedirect},
      {ErrorReason::kNoLeader, C::kUnavailable, V::kBackOff, V::kBackOff, V::kRedirect},
      {ErrorReason::kLostToLeaderChange, C::kUnavailable, V::kBackOff, V::kBackOff, V::kRedirect},
      {ErrorReason::kShuttingDown, C::kUnavailable, V::kBackOff, V::kBackOff, V::kRedirect},
      {ErrorReason::kNotYetAvailable, C::kUnavailable, V::kBackOff, V::kBackOff, V::kRedirect},
      {ErrorReason::kBackpressure, C::kResourceExhausted, V::kBackOffHere, V::kBackOffHere,
       V::kBackOffHere},
      {ErrorReason::kBackpressure, C::kUnavailable, V::kBackOffHere, V::kBackOffHere,
       V::kBackOffHere},
      {ErrorReason::kOutcomeUnknown, C::kDeadlineExceeded, V::kBackOff, V::kGiveUp, V::kBackOff},
      {ErrorReason::kOutcomeUnknown, C::kUnavailable, V::kBackOff, V::kGiveUp, V::kBackOff},
      // RESOURCE_EXHAUSTED alone would be backed off; LIMIT_EXCEEDED is final.
      {ErrorReason::kLimitExceeded, C::kResourceExhausted, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      {ErrorReason::kInvalidRequest, C::kInvalidArgument, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      {ErrorReason::kIdempotencyKeyReused, C::kInvalidArgument, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      {ErrorReason::kUnauthenticated, C::kUnauthenticated, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      {ErrorReason::kPermissionDenied, C::kPermissionDenied, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      {ErrorReason::kNotFound, C::kNotFound, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      // FAILED_PRECONDITION with a hint used to mean "not the leader"; with
      // the reason it is final.
      {ErrorReason::kFailedPrecondition, C::kFailedPrecondition, V::kGiveUp, V::kGiveUp,
       V::kGiveUp},
      {ErrorReason::kInternal, C::kInternal, V::kGiveUp, V::kGiveUp, V::kGiveUp},
      {ErrorReason::kInternal, C::kUnavailable, V::kGiveUp, V::kGiveUp, V::kGiveUp},
  };
  for (const Case& c : cases) {
    const absl::Status s = Reasoned(c.code, c.reason);
    SCOPED_TRACE(std::string(ReasonName(c.reason)) + " " + absl::StatusCodeToString(c.code));
    EXPECT_EQ(Classify(s, Repeatable::kYes, false), c.repeatable);
    EXPECT_EQ(Classify(s, Repeatable::kIfRefused, false), c.if_refused);
    EXPECT_EQ(Classify(s, Repeatable::kYes, true), c.hinted);
  }
}

TEST(ClassifyTest, WithoutAReasonTheCodeDecides) {
  // gRPC's own answers, or a node from before reasons.
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kUnavailable), Repeatable::kYes, false),
            RetryVerdict::kBackOff);
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kUnavailable), Repeatable::kIfRefused, true),
            RetryVerdict::kRedirect);
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kFailedPrecondition), Repeatable::kYes, true),
            RetryVerdict::kRedirect);
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kResourceExhausted), Repeatable::kIfRefused, false),
            RetryVerdict::kBackOffHere);
  // A connection that broke may have delivered a governance change; one that
  // never connected did not.
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kUnavailable, "Socket closed"), Repeatable::kIfRefused,
                     false),
            RetryVerdict::kGiveUp);
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kUnavailable,
                          "failed to connect to all addresses; last error: UNKNOWN: "
                          "ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused"),
                     Repeatable::kIfRefused, false),
            RetryVerdict::kBackOff);
}

TEST(ClassifyTest, TimeoutsAreRetriedOnlyWhenRepeatingIsSafe) {
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kDeadlineExceeded), Repeatable::kYes, false),
            RetryVerdict::kBackOff);
  EXPECT_EQ(Classify(Bare(absl::StatusCode::kDeadlineExceeded), Repeatable::kIfRefused, false),
            RetryVerdict::kGiveUp);
}

TEST(ClassifyTest, RequestAndIdentityErrorsAreFinal) {
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kPermissionDenied, absl::StatusCode::kUnauthenticated,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kCancelled}) {
    EXPECT_EQ(Classify(Bare(code), Repeatable::kYes, false), RetryVerdict::kGiveUp) << code;
  }
}

TEST(ClassifyTest, AReasonFromANewerServiceIsRetriedOnlyWhenSafe) {
  absl::Status s = absl::UnavailableError("x");
  v1::ErrorInfo info;
  info.set_reason("SOMETHING_NEW");
  info.set_domain("cairn.v1");
  s.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  EXPECT_EQ(ReasonOf(s), ErrorReason::kUnknown);
  EXPECT_TRUE(MayHaveBeenActedOn(s));
  EXPECT_EQ(Classify(s, Repeatable::kYes, false), RetryVerdict::kBackOff);
  EXPECT_EQ(Classify(s, Repeatable::kIfRefused, false), RetryVerdict::kGiveUp);
}

// gRPC refuses a message over its size limit the same way every time: the
// answer is final and says how large the request was and what is allowed.
TEST(ClassifyTest, MessageLargerThanMaxIsFinalAndNamesTheSizes) {
  const absl::Status received = Bare(absl::StatusCode::kResourceExhausted,
                                     "Received message larger than max (5243000 vs. 4194304)");
  EXPECT_EQ(Classify(received, Repeatable::kYes, false), RetryVerdict::kGiveUp);
  EXPECT_FALSE(MayHaveBeenActedOn(received));
  std::optional<absl::Status> limit = MessageSizeError(received, "Append", 5243000);
  ASSERT_TRUE(limit.has_value());
  EXPECT_EQ(ReasonOf(*limit), ErrorReason::kLimitExceeded);
  EXPECT_TRUE(DefinitelyNotWritten(*limit));
  EXPECT_EQ(Classify(*limit, Repeatable::kYes, false), RetryVerdict::kGiveUp);
  EXPECT_NE(limit->message().find("Append: the request is 5243000 bytes; the node accepts "
                                  "messages of at most 4194304 bytes"),
            absl::string_view::npos)
      << *limit;
  EXPECT_EQ(ErrorMetadata(*limit, "message_bytes"), "5243000");
  EXPECT_EQ(ErrorMetadata(*limit, "message_bytes_max"), "4194304");

  const absl::Status sent = Bare(absl::StatusCode::kResourceExhausted,
                                 "Sent message larger than max (70000000 vs. 67108864)");
  limit = MessageSizeError(sent, "Append", 70000000);
  ASSERT_TRUE(limit.has_value());
  EXPECT_NE(limit->message().find("this client sends messages of at most 67108864 bytes"),
            absl::string_view::npos)
      << *limit;
  // An answer too large for the client: the request was something else.
  limit = MessageSizeError(Bare(absl::StatusCode::kResourceExhausted,
                                "Received message larger than max (70000000 vs. 67108864)"),
                           "ListEntries", 40);
  ASSERT_TRUE(limit.has_value());
  EXPECT_NE(limit->message().find("the answer is 70000000 bytes"), absl::string_view::npos);
  // Backpressure (from a node, with its reason, or gRPC's without one) is not a size error.
  EXPECT_FALSE(MessageSizeError(Bare(absl::StatusCode::kResourceExhausted, "busy"), "Append", 1));
  EXPECT_FALSE(MessageSizeError(
      Reasoned(absl::StatusCode::kResourceExhausted, ErrorReason::kBackpressure), "Append", 1));
}

// A node whose certificate the pinned service certificate did not issue:
// final at once (every retry would meet the same certificate), said in one
// line; other connection failures stay retryable.
TEST(ClassifyTest, AForeignNodeCertificateIsFinalAndSaysSo) {
  const absl::Status handshake =
      Bare(absl::StatusCode::kUnavailable,
           "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:7101: Ssl "
           "handshake failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify "
           "failed");
  std::optional<absl::Status> foreign = ServerCertificateError(handshake, "127.0.0.1:7101");
  ASSERT_TRUE(foreign.has_value());
  EXPECT_EQ(foreign->code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Classify(*foreign, Repeatable::kYes, false), RetryVerdict::kGiveUp);
  EXPECT_NE(foreign->message().find("the node at 127.0.0.1:7101 presented a certificate the "
                                    "pinned service certificate did not issue"),
            absl::string_view::npos)
      << *foreign;
  EXPECT_FALSE(ServerCertificateError(
      Bare(absl::StatusCode::kUnavailable, "failed to connect to all addresses; Socket closed"),
      "127.0.0.1:7101"));
}

TEST(MayHaveBeenActedOnTest, OnlyRefusalsAndUnsentRequestsAreSafe) {
  using C = absl::StatusCode;
  EXPECT_FALSE(MayHaveBeenActedOn(Bare(C::kUnavailable, "failed to connect to all addresses")));
  EXPECT_FALSE(
      MayHaveBeenActedOn(Bare(C::kUnavailable, "connections to all backends failing; last")));
  EXPECT_TRUE(MayHaveBeenActedOn(Bare(C::kUnavailable, "Socket closed")));
  EXPECT_TRUE(MayHaveBeenActedOn(Bare(C::kDeadlineExceeded)));
  EXPECT_TRUE(MayHaveBeenActedOn(Bare(C::kCancelled)));
  EXPECT_FALSE(MayHaveBeenActedOn(Bare(C::kPermissionDenied)));
  EXPECT_FALSE(MayHaveBeenActedOn(Reasoned(C::kUnavailable, ErrorReason::kNoLeader)));
  EXPECT_FALSE(MayHaveBeenActedOn(Reasoned(C::kDeadlineExceeded, ErrorReason::kBackpressure)));
  EXPECT_TRUE(MayHaveBeenActedOn(Reasoned(C::kUnavailable, ErrorReason::kOutcomeUnknown)));
  EXPECT_TRUE(MayHaveBeenActedOn(Reasoned(C::kPermissionDenied, ErrorReason::kOutcomeUnknown)));
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
