// The SDK against fake nodes that answer with error reasons, encoded as a
// node encodes them: each reason reaches the caller (ReasonOf, metadata,
// DefinitelyNotWritten / MayHaveBeenWritten) and makes the retry loop do
// the right thing for appends, governance changes and reads; a named leader
// is followed at once; backpressure stays on its node; gRPC's own "message
// larger than max" is final; no retry loop outlives its deadline; and an
// append that may have reached a node fails as OUTCOME_UNKNOWN, never as a
// bare UNAVAILABLE.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cairn/client/client.h"
#include "fake_cluster.h"
#include "reason_cases.h"
#include "testing/process.h"

namespace cairn {
namespace {

using client::Client;
using client::ErrorReason;
using testing::Expect;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReasonCase;

std::unique_ptr<Client> MakeClient(client::ClientOptions options) {
  auto c = Client::Create(std::move(options));
  CAIRN_CHECK_OK(c.status());
  return *std::move(c);
}

int64_t MsSince(absl::Time start) { return absl::ToInt64Milliseconds(absl::Now() - start); }

client::AppendOptions WithKey(std::string key) {
  client::AppendOptions o;
  o.idempotency_key = std::move(key);
  return o;
}

// What the answer with `c` must look like once it reached the caller.
void ExpectReason(const absl::Status& s, const ReasonCase& c) {
  EXPECT_EQ(s.code(), static_cast<absl::StatusCode>(c.code)) << s;
  EXPECT_EQ(client::ReasonOf(s), c.reason) << s;
  for (const auto& [k, v] : c.metadata) EXPECT_EQ(client::ErrorMetadata(s, k), v) << k;
  EXPECT_EQ(client::DefinitelyNotWritten(s), c.not_written) << s;
  EXPECT_EQ(client::MayHaveBeenWritten(s), !c.not_written) << s;
}

TEST(ReasonCasesTest, CoverEveryProtoReason) {
  std::set<int> covered;
  for (const ReasonCase& c : testing::ReasonCases()) {
    covered.insert(c.proto);
    EXPECT_EQ(std::string(client::ReasonName(c.reason)),
              v1::ErrorReason_Name(c.proto).substr(std::string("ERROR_REASON_").size()));
  }
  const google::protobuf::EnumDescriptor* d = v1::ErrorReason_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    if (d->value(i)->number() == v1::ERROR_REASON_UNSPECIFIED) continue;
    EXPECT_TRUE(covered.count(d->value(i)->number())) << d->value(i)->name() << " has no case";
  }
}

// One node answers the first attempt(s) of an append with each reason in
// turn: the retried ones end in one entry, the final ones reach the caller
// after exactly one attempt with their code, reason and metadata.
TEST(ReasonsTest, AppendsRetryOrGiveUpByReason) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  for (const ReasonCase& rc : testing::ReasonCases()) {
    SCOPED_TRACE(rc.name());
    const int calls = cluster.server(0).calls("Append");
    const uint64_t size = cluster.ledger().size();
    const bool retried = rc.expect != Expect::kGiveUp;  // an append carries its key
    cluster.server(0).Fail(retried ? 2 : 1, rc.AsFault("Append"));
    auto r = c->Append("c", "x");
    if (retried) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(cluster.server(0).calls("Append"), calls + 3);
      EXPECT_EQ(cluster.ledger().size(), size + 1);
    } else {
      ASSERT_FALSE(r.ok());
      ExpectReason(r.status(), rc);
      EXPECT_EQ(cluster.server(0).calls("Append"), calls + 1);
      EXPECT_EQ(cluster.ledger().size(), size);
    }
  }
}

// A governance change (not safe to repeat) is retried only when the node
// said it did nothing; an unknown outcome is final and keeps its txid.
TEST(ReasonsTest, GovernanceChangesRetryOnlyRefusals) {
  testing::FakeCluster cluster;
  auto admin = MakeClient(cluster.Options("admin"));
  for (const ReasonCase& rc : testing::ReasonCases()) {
    SCOPED_TRACE(rc.name());
    const int calls = cluster.server(0).calls("PromoteLearner");
    const bool retried = rc.expect == Expect::kRetry;
    cluster.server(0).Fail(retried ? 2 : 1, rc.AsFault("PromoteLearner"));
    auto r = admin->PromoteLearner(4);
    if (retried) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(cluster.server(0).calls("PromoteLearner"), calls + 3);
    } else {
      ASSERT_FALSE(r.ok());
      ExpectReason(r.status(), rc);
      EXPECT_EQ(cluster.server(0).calls("PromoteLearner"), calls + 1);
    }
  }
}

TEST(ReasonsTest, ReadsRetryOrGiveUpByReason) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  ASSERT_TRUE(c->Append("c", "x").ok());
  for (const ReasonCase& rc : testing::ReasonCases()) {
    SCOPED_TRACE(rc.name());
    const int calls = cluster.server(0).calls("GetEntry");
    const bool retried = rc.expect != Expect::kGiveUp;
    cluster.server(0).Fail(1, rc.AsFault("GetEntry"));
    auto r = c->GetEntry("1.1");
    if (retried) {
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(cluster.server(0).calls("GetEntry"), calls + 2);
    } else {
      ASSERT_FALSE(r.ok());
      ExpectReason(r.status(), rc);
      EXPECT_EQ(cluster.server(0).calls("GetEntry"), calls + 1);
    }
  }
}

// A reason that keeps coming back until the call's time is spent: a "not
// written" one reaches the caller as the node gave it (with the attempts
// counted); for an append, an unknown outcome stays unknown and names the
// txid and the key to retry with.
TEST(ReasonsTest, RetriedReasonsThatPersistReachTheCaller) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.retry.total_timeout_ms = 300;
  auto c = MakeClient(options);
  ASSERT_TRUE(c->Append("c", "x").ok());
  for (const ReasonCase& rc : testing::ReasonCases()) {
    if (rc.expect == Expect::kGiveUp) continue;
    SCOPED_TRACE(rc.name());
    const bool read = rc.reason == ErrorReason::kNotYetAvailable;  // a read's reason
    cluster.server(0).Fail(1000000, rc.AsFault(read ? "GetEntry" : "Append"));
    const absl::Time start = absl::Now();
    const absl::Status s = read ? c->GetEntry("1.1").status()
                                : c->Append("c", "x", WithKey("key-" + rc.name())).status();
    EXPECT_LT(MsSince(start), 300 + testing::ScaledMs(250));
    EXPECT_THAT(std::string(s.message()), HasSubstr("gave up after"));
    EXPECT_THAT(std::string(s.message()), HasSubstr("limit 300 ms"));
    if (rc.reason == ErrorReason::kOutcomeUnknown) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
      EXPECT_EQ(client::ReasonOf(s), ErrorReason::kOutcomeUnknown) << s;
      EXPECT_EQ(client::ErrorMetadata(s, client::kTxidKey), "1.7");
      EXPECT_EQ(client::ErrorMetadata(s, client::kIdempotencyKeyKey), "key-OUTCOME_UNKNOWN");
      EXPECT_TRUE(client::MayHaveBeenWritten(s));
    } else if (absl::EndsWith(s.message(), ": Deadline Exceeded")) {
      // On a busy machine the last attempt can still be on its way when
      // the 300 ms run out: it is cut short, and an append cut short may
      // have been written, so the call's outcome is unknown, not the node's
      // reason (a read's is the deadline).
      if (read) {
        EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
      } else {
        EXPECT_EQ(client::ReasonOf(s), ErrorReason::kOutcomeUnknown) << s;
        EXPECT_TRUE(client::MayHaveBeenWritten(s)) << s;
      }
    } else {
      ExpectReason(s, rc);
    }
  }
  cluster.server(0).Fail(0, testing::Fault());
}

// NOT_LEADER names the leader in its metadata: the client goes there at
// once (no backoff), even without the cairn-leader trailer, and remembers it.
TEST(ReasonsTest, NotLeaderIsFollowedAtOnceToTheLeaderItNames) {
  testing::FakeCluster cluster(2);
  client::ClientOptions options = cluster.Options("writer", {cluster.server(1).address()});
  options.retry.initial_backoff_ms = 3000;
  options.retry.max_backoff_ms = 3000;
  auto c = MakeClient(options);
  cluster.server(1).set_follower_of("");
  testing::Fault not_leader;
  not_leader.reason = v1::ERROR_REASON_NOT_LEADER;
  not_leader.metadata = {{"leader_address", cluster.server(0).address()}, {"leader_id", "1"}};
  not_leader.method = "Append";
  cluster.server(1).Fail(1, not_leader);
  const absl::Time start = absl::Now();
  auto r = c->Append("c", "x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(MsSince(start), 3000);  // a backoff would have taken 2400 ms at least
  EXPECT_EQ(cluster.server(0).calls("Append"), 1);
  EXPECT_EQ(cluster.server(1).calls("Append"), 1);
  EXPECT_EQ(c->LeaderHint(), cluster.server(0).address());
}

// BACKPRESSURE: wait and ask the same node (it is the leader, just busy);
// NO_LEADER: ask the next one.
TEST(ReasonsTest, BackpressureStaysOnItsNodeNoLeaderMovesOn) {
  testing::FakeCluster cluster(2);
  auto c = MakeClient(cluster.Options("writer"));
  ASSERT_TRUE(c->Append("c", "x").ok());
  testing::Fault busy;
  busy.code = grpc::StatusCode::RESOURCE_EXHAUSTED;
  busy.reason = v1::ERROR_REASON_BACKPRESSURE;
  busy.method = "Append";
  cluster.server(0).Fail(3, busy);
  ASSERT_TRUE(c->Append("c", "y").ok());
  EXPECT_EQ(cluster.server(0).calls("Append"), 1 + 4);
  EXPECT_EQ(cluster.server(1).calls("Append"), 0);

  testing::Fault no_leader;
  no_leader.reason = v1::ERROR_REASON_NO_LEADER;
  no_leader.method = "Append";
  cluster.server(0).Fail(1, no_leader);
  ASSERT_TRUE(c->Append("c", "z").ok());
  EXPECT_EQ(cluster.server(1).calls("Append"), 1);  // which named node 0 again
  EXPECT_EQ(cluster.server(0).calls("Append"), 5 + 2);
}

// The code alone (RESOURCE_EXHAUSTED) would be backed off; the reason
// (LIMIT_EXCEEDED) says retrying cannot help.
TEST(ReasonsTest, TheReasonOverridesTheCode) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  testing::Fault limit;
  limit.code = grpc::StatusCode::RESOURCE_EXHAUSTED;
  limit.reason = v1::ERROR_REASON_LIMIT_EXCEEDED;
  limit.metadata = {{"limit", "uncommitted_bytes_max"}};
  limit.method = "Append";
  cluster.server(0).Fail(5, limit);
  absl::Status s = c->Append("c", "x").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kLimitExceeded);
  EXPECT_EQ(client::ErrorMetadata(s, client::kLimitKey), "uncommitted_bytes_max");
  EXPECT_EQ(cluster.server(0).calls("Append"), 1);
}

// The user report: a 5 MiB append was retried 11 times over 18 s. gRPC on
// the node refuses a message over its limit (4 MiB here, gRPC's default) with
// RESOURCE_EXHAUSTED and no Cairn reason; that is final, and says why.
TEST(ReasonsTest, MessageLargerThanMaxIsNotRetried) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.retry.initial_backoff_ms = 2000;  // one retry would show in the time taken
  options.retry.max_backoff_ms = 2000;
  options.retry.jitter = 0;
  options.retry.total_timeout_ms = 10000;
  auto c = MakeClient(options);
  const std::string contents(5 << 20, 'x');
  v1::AppendRequest sent;  // what the client sends, to know its size
  sent.set_collection_id("c");
  sent.set_contents(contents);
  sent.set_idempotency_key("big-1");
  sent.set_wait(v1::APPEND_WAIT_COMMITTED);
  const absl::Time start = absl::Now();
  absl::Status s = c->Append("c", contents, WithKey("big-1")).status();
  EXPECT_LT(MsSince(start), 2000);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kLimitExceeded) << s;
  EXPECT_TRUE(client::DefinitelyNotWritten(s));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat("Append: the request is ", sent.ByteSizeLong(),
                                     " bytes; the node accepts messages of at most 4194304 "
                                     "bytes, so nothing was written")));
  EXPECT_EQ(client::ErrorMetadata(s, "message_bytes"), absl::StrCat(sent.ByteSizeLong()));
  EXPECT_EQ(cluster.server(0).calls("Append"), 0);  // gRPC refused it before the service
  EXPECT_EQ(cluster.ledger().size(), 0u);
  // The client still works for appends that fit.
  EXPECT_TRUE(c->Append("c", std::string(1 << 20, 'y')).ok());
}

// A node that keeps refusing (NO_LEADER) or keeps failing without a reason
// it could act on: the call returns by its deadline (plus scheduling), never
// after a backoff that ends past it.
TEST(ReasonsTest, ARetryLoopReturnsByItsDeadline) {
  testing::FakeCluster cluster;
  for (const bool bare : {false, true}) {
    SCOPED_TRACE(bare ? "UNAVAILABLE without details" : "NO_LEADER");
    client::ClientOptions options = cluster.Options("writer");
    // Scaled under TSan (testing::ScaledMs), where one attempt can take most of 500 ms.
    options.retry.total_timeout_ms = testing::ScaledMs(500);
    options.retry.initial_backoff_ms = testing::ScaledMs(20);
    // A whole backoff could end past the deadline.
    options.retry.max_backoff_ms = testing::ScaledMs(400);
    auto c = MakeClient(options);
    testing::Fault fault;
    fault.bare = bare;
    fault.reason = bare ? v1::ERROR_REASON_UNSPECIFIED : v1::ERROR_REASON_NO_LEADER;
    fault.message = bare ? "Socket closed" : "no leader is known";
    cluster.server(0).Fail(1000000, fault);
    const absl::Time start = absl::Now();
    absl::Status s = c->Append("c", "x").status();
    const int64_t elapsed = MsSince(start);
    EXPECT_LT(elapsed, testing::ScaledMs(500 + 150));
    EXPECT_GE(cluster.server(0).calls("Append"), 3);
    if (bare) {
      // The connection broke after the node may have had the append.
      EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
      EXPECT_EQ(client::ReasonOf(s), ErrorReason::kOutcomeUnknown) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
      EXPECT_EQ(client::ReasonOf(s), ErrorReason::kNoLeader) << s;
      EXPECT_TRUE(client::DefinitelyNotWritten(s));
    }
    cluster.server(0).Fail(0, testing::Fault());
  }
}

// An attempt that outlasts the call's deadline is cut at it: a node holding
// the append does not hold the caller past total_timeout_ms, even though one
// attempt alone may take call_timeout_ms. The append may have been written.
TEST(ReasonsTest, NoAttemptOutlivesTheCallsDeadline) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.call_timeout_ms = 5000;
  options.retry.total_timeout_ms = 600;
  auto c = MakeClient(options);
  cluster.server(0).HoldNextAppends(1);
  const absl::Time start = absl::Now();
  absl::Status s = c->Append("c", "x", WithKey("held-1")).status();
  EXPECT_LT(MsSince(start), 600 + testing::ScaledMs(150));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kOutcomeUnknown) << s;
  EXPECT_EQ(client::ErrorMetadata(s, client::kIdempotencyKeyKey), "held-1");
  EXPECT_TRUE(client::MayHaveBeenWritten(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("retry with the same idempotency key"));
}

// The node had the append (it answered OUTCOME_UNKNOWN naming a txid, or
// the connection broke after it got it), then became unreachable: every
// later attempt fails to connect. The append may be in the ledger: the
// caller hears OUTCOME_UNKNOWN with what it needs, not a bare UNAVAILABLE.
TEST(ReasonsTest, UnreachableAfterAnAttemptThatMayHaveReachedTheLeaderIsOutcomeUnknown) {
  for (const bool with_txid : {true, false}) {
    SCOPED_TRACE(with_txid ? "OUTCOME_UNKNOWN with a txid" : "connection lost");
    testing::FakeCluster cluster;
    client::ClientOptions options = cluster.Options("writer");
    options.retry.initial_backoff_ms = 300;  // room to stop the node before the retry
    options.retry.max_backoff_ms = 300;
    options.retry.jitter = 0;
    options.retry.total_timeout_ms = 1500;
    auto c = MakeClient(options);
    if (with_txid) {
      testing::Fault unknown;
      unknown.code = grpc::StatusCode::UNAVAILABLE;
      unknown.reason = v1::ERROR_REASON_OUTCOME_UNKNOWN;
      unknown.metadata = {{"txid", "1.1"}};
      unknown.method = "Append";
      cluster.server(0).Fail(1, unknown);
    } else {
      cluster.server(0).LoseNextAppendAnswers(1);
    }
    auto pending = c->AppendAsync("c", "x", WithKey("k-lost"));
    ASSERT_TRUE(testing::PollUntil([&] { return cluster.server(0).calls("Append") == 1; },
                                   std::chrono::seconds(10), "the first attempt")
                    .ok());
    cluster.server(0).Stop();
    const absl::Status s = pending.get().status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
    EXPECT_EQ(client::ReasonOf(s), ErrorReason::kOutcomeUnknown) << s;
    EXPECT_EQ(client::ErrorMetadata(s, client::kTxidKey),
              with_txid ? std::optional<std::string>("1.1") : std::nullopt);
    EXPECT_EQ(client::ErrorMetadata(s, client::kIdempotencyKeyKey), "k-lost");
    EXPECT_THAT(std::string(s.message()), HasSubstr("may or may not have been written"));
    EXPECT_THAT(std::string(s.message()), HasSubstr("failed to connect"));  // the last answer
  }
}

// Never connected anywhere: nothing was sent, the error stays UNAVAILABLE
// (gRPC's, no reason); the SDK does not claim it was not written.
TEST(ReasonsTest, NeverReachedIsUnavailableWithoutAReason) {
  testing::FakeCluster cluster;
  const std::string dead = "127.0.0.1:" + std::to_string(testing::PickFreePort());
  client::ClientOptions options = cluster.Options("writer", {dead});
  options.retry.total_timeout_ms = 400;
  auto c = MakeClient(options);
  const absl::Time start = absl::Now();
  absl::Status s = c->Append("c", "x").status();
  EXPECT_LT(MsSince(start), 400 + testing::ScaledMs(150));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kUnknown) << s;
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("outcome is unknown")));
}

// Errors the client makes itself carry reasons too.
TEST(ReasonsTest, TheClientsOwnRefusalsCarryReasons) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.inflight_calls_max = 1;
  auto c = MakeClient(options);
  client::AppendOptions bad;
  bad.claims_digest = "short";
  absl::Status s = c->Append("c", "x", bad).status();
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kInvalidRequest);
  EXPECT_EQ(client::ErrorMetadata(s, client::kFieldKey), "claims_digest");

  cluster.server(0).HoldNextAppends(1);
  auto held = c->AppendAsync("c", "held");
  ASSERT_TRUE(testing::PollUntil([&] { return cluster.server(0).calls("Append") == 1; },
                                 std::chrono::seconds(10), "the held append")
                  .ok());
  s = c->Append("c", "y").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kBackpressure);
  EXPECT_EQ(client::ErrorMetadata(s, client::kLimitKey), "inflight_calls_max");
  EXPECT_TRUE(client::DefinitelyNotWritten(s));
  c.reset();  // cancels the held append
  absl::Status cancelled = held.get().status();
  EXPECT_EQ(cancelled.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(client::ReasonOf(cancelled), ErrorReason::kOutcomeUnknown) << cancelled;
}

TEST(ReasonsTest, WaitForCommitThatRunsOutIsNotYetAvailable) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  absl::Status s = c->WaitForCommit("1.99", 200).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(client::ReasonOf(s), ErrorReason::kNotYetAvailable);
  EXPECT_EQ(client::ErrorMetadata(s, client::kTxidKey), "1.99");
}

}  // namespace
}  // namespace cairn
