// cairnctl's error output for every error reason a node sends (the table in
// reason_cases.h): "cairnctl: CODE: REASON: message" on stderr, a second
// line with the txid and what to do for OUTCOME_UNKNOWN,
// LOST_TO_LEADER_CHANGE and IDEMPOTENCY_KEY_REUSED, "reason" and the
// metadata in --json output, and the documented exit codes (3 for
// UNAVAILABLE / DEADLINE_EXCEEDED, else 1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cairnctl_runner.h"
#include "reason_cases.h"

namespace cairn {
namespace {

using testing::Cairnctl;
using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReasonCase;
using ::testing::StartsWith;

std::string CodeName(grpc::StatusCode code) {
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

// What cairnctl reports for `rc`, answered to every attempt: the final code
// (an append whose outcome stayed unknown until its time ran out is
// DEADLINE_EXCEEDED), and the second line, if any.
struct Expected {
  grpc::StatusCode code;
  std::string advice;
};

Expected ExpectedFor(const ReasonCase& rc) {
  switch (rc.reason) {
    case client::ErrorReason::kOutcomeUnknown:
      return {grpc::StatusCode::DEADLINE_EXCEEDED,
              "cairnctl: txid 1.7 may or may not have been written: 'cairnctl status 1.7 --wait' "
              "tells, or retry with --idempotency-key k-OUTCOME_UNKNOWN (it is not written "
              "twice)\n"};
    case client::ErrorReason::kLostToLeaderChange:
      return {rc.code,
              "cairnctl: txid 1.3 was lost to a leader change and will never commit: nothing was "
              "written; retrying is safe\n"};
    case client::ErrorReason::kIdempotencyKeyReused:
      return {rc.code,
              "cairnctl: the idempotency key is held by txid 1.2, an append of other contents: "
              "nothing was written; use a new key\n"};
    case client::ErrorReason::kNotGeoDurable:
      return {rc.code,
              "cairnctl: txid 1.8 is committed but not yet archived in the paired region: do not "
              "append it again; 'cairnctl dr status' shows the archive's lag\n"};
    default:
      return {rc.code, ""};
  }
}

TEST(CairnctlErrorsTest, EveryReasonIsPrintedWithItsExitCode) {
  testing::FakeCluster cluster;
  for (const ReasonCase& rc : testing::ReasonCases()) {
    SCOPED_TRACE(rc.name());
    // NOT_YET_AVAILABLE is a read's reason.
    const bool read = rc.reason == client::ErrorReason::kNotYetAvailable;
    const std::vector<std::string> command =
        read
            ? std::vector<std::string>{"get", "1.1"}
            : std::vector<std::string>{"append", "orders", "x", "--idempotency-key=k-" + rc.name()};
    cluster.server(0).Fail(1000000, rc.AsFault(read ? "GetEntry" : "Append"));
    const Expected expected = ExpectedFor(rc);
    const int exit_code = expected.code == grpc::StatusCode::UNAVAILABLE ||
                                  expected.code == grpc::StatusCode::DEADLINE_EXCEEDED
                              ? 3
                              : 1;

    std::vector<std::string> args = command;
    args.push_back("--timeout-ms=" + std::to_string(testing::ScaledMs(300)));
    CommandResult r = Cairnctl(cluster, args, "writer");
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_THAT(r.err,
                StartsWith("cairnctl: " + CodeName(expected.code) + ": " + rc.name() + ": "));
    EXPECT_EQ(r.out, "");
    const size_t first_line = r.err.find('\n');
    ASSERT_NE(first_line, std::string::npos);
    EXPECT_EQ(r.err.substr(first_line + 1), expected.advice);

    args.push_back("--json");
    r = Cairnctl(cluster, args, "writer");
    EXPECT_EQ(r.exit_code, exit_code) << r.err;  // --json never changes it
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["error"], CodeName(expected.code));
    EXPECT_EQ(j["reason"], rc.name());
    EXPECT_THAT(j["message"].get<std::string>(), HasSubstr("refused by the fake: " + rc.name()));
    for (const auto& [k, v] : rc.metadata) EXPECT_EQ(j["metadata"][k], v) << k;
    if (rc.reason == client::ErrorReason::kOutcomeUnknown) {
      EXPECT_EQ(j["metadata"]["idempotency_key"], "k-OUTCOME_UNKNOWN");
    }
  }
}

// No node reachable: gRPC's own failure has no reason; the line stays
// "CODE: message" and --json says "reason": "UNKNOWN".
TEST(CairnctlErrorsTest, AnErrorWithoutAReason) {
  testing::FakeCluster cluster;
  const std::string dead = "127.0.0.1:" + std::to_string(testing::PickFreePort());
  CommandResult r = Cairnctl(
      cluster,
      {"append", "orders", "x", "--timeout-ms=" + std::to_string(testing::ScaledMs(300)), "--json"},
      "writer", "", {dead});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, StartsWith("cairnctl: UNAVAILABLE: Append: gave up after"));
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["reason"], "UNKNOWN");
  EXPECT_TRUE(j["metadata"].empty());
}

// The user report behind it: a 5 MiB append is refused by gRPC on the node;
// cairnctl says so at once, naming the size, instead of retrying.
TEST(CairnctlErrorsTest, AnAppendLargerThanTheNodeAcceptsIsRefusedAtOnce) {
  testing::FakeCluster cluster;
  const std::string big = cluster.dir() + "/big.bin";
  std::ofstream(big, std::ios::binary) << std::string(5 << 20, 'x');
  CommandResult r =
      Cairnctl(cluster, {"append", "orders", "--file", big, "--timeout-ms=60000"}, "writer");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("cairnctl: RESOURCE_EXHAUSTED: LIMIT_EXCEEDED: Append: the "
                                "request is 52429"));
  EXPECT_THAT(r.err, HasSubstr("the node accepts messages of at most 4194304 bytes"));
  EXPECT_THAT(r.err, Not(HasSubstr("gave up after")));
}

// status --wait that runs out: the node answered, the transaction is not
// final yet: exit 1 (not 3), with the reason.
TEST(CairnctlErrorsTest, StatusWaitThatRunsOutSaysNotYetAvailable) {
  testing::FakeCluster cluster;
  CommandResult r = Cairnctl(cluster, {"status", "1.99", "--wait", "--wait-timeout-ms",
                                       std::to_string(testing::ScaledMs(200))});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("cairnctl: DEADLINE_EXCEEDED: NOT_YET_AVAILABLE: WaitForCommit: "
                                "txid 1.99 is still TRANSACTION_STATUS_UNKNOWN"));
}

// A receipt wait that runs out said "no node reachable" (exit 3) and "gave
// up after N attempts … Deadline Exceeded": a node answered, and the receipt
// is not available yet.
TEST(CairnctlErrorsTest, ReceiptWaitThatRunsOutSaysNotYetAvailable) {
  testing::FakeCluster cluster;
  CommandResult r = Cairnctl(cluster, {"append", "c", "x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string txid = r.out.substr(0, r.out.find(' '));
  cluster.server(0).FailNext(1000, grpc::StatusCode::DEADLINE_EXCEEDED, "GetReceipt");
  r = Cairnctl(cluster, {"receipt", "get", txid, "--wait", "--wait-timeout-ms",
                         std::to_string(testing::ScaledMs(300))});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("cairnctl: DEADLINE_EXCEEDED: NOT_YET_AVAILABLE: GetReceipt: no "
                                "signature covered " +
                                txid + " within "));
}

}  // namespace
}  // namespace cairn
