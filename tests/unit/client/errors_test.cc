// The SDK's typed outcomes (cairn/client/errors.h) against what a node
// sends: every reason of the proto enum has its SDK value and wire name,
// a status encoded by the node's own code (node/src/errors/status.cc) comes out of
// FromGrpc with its reason and metadata, "not written" and "may have been
// written" split every error in two, and details that are not Cairn's are
// ignored.
#include "cairn/client/errors.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/cord.h"
#include "error_info.h"
#include "errors/status.h"
#include "retry.h"

namespace cairn::client {
namespace {

constexpr std::string_view kPrefix = "ERROR_REASON_";

// Every value of the proto enum but UNSPECIFIED, with its name without the prefix.
std::vector<std::pair<v1::ErrorReason, std::string>> ProtoReasons() {
  std::vector<std::pair<v1::ErrorReason, std::string>> out;
  const google::protobuf::EnumDescriptor* d = v1::ErrorReason_descriptor();
  for (int i = 0; i < d->value_count(); ++i) {
    const auto value = static_cast<v1::ErrorReason>(d->value(i)->number());
    if (value == v1::ERROR_REASON_UNSPECIFIED) continue;
    std::string name = d->value(i)->name();
    EXPECT_EQ(name.rfind(kPrefix, 0), 0u) << name;
    out.emplace_back(value, name.substr(kPrefix.size()));
  }
  return out;
}

absl::Status ThroughTheWire(const absl::Status& at_node) {
  return internal::FromGrpc(node::ToGrpcStatus(at_node));
}

TEST(ErrorsTest, EveryProtoReasonHasAnSdkReasonOfTheSameName) {
  std::set<ErrorReason> seen;
  for (const auto& [proto, name] : ProtoReasons()) {
    const ErrorReason reason = ReasonFromName(name);
    EXPECT_NE(reason, ErrorReason::kUnknown) << name << " is missing from the SDK";
    EXPECT_EQ(ReasonName(reason), name);
    EXPECT_TRUE(seen.insert(reason).second) << name;
  }
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(ReasonName(ErrorReason::kUnknown), "UNKNOWN");
  EXPECT_EQ(ReasonFromName("SOMETHING_NEW"), ErrorReason::kUnknown);
}

// Each reason a node attaches reaches the caller with its metadata, and is
// classified "not written" or "may have been written" as errors.proto says.
TEST(ErrorsTest, EveryReasonSurvivesTheWireAndIsClassified) {
  const std::set<std::string> may_have_been_written = {"OUTCOME_UNKNOWN", "NOT_GEO_DURABLE",
                                                       "NOT_YET_AVAILABLE", "INTERNAL"};
  for (const auto& [proto, name] : ProtoReasons()) {
    SCOPED_TRACE(name);
    const absl::Status at_node = node::WithReason(absl::UnavailableError("refused: " + name), proto,
                                                  {{"txid", "3.7"}, {"leader_address", "h:1"}});
    const absl::Status got = ThroughTheWire(at_node);
    EXPECT_EQ(got.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(got.message(), "refused: " + name);
    EXPECT_EQ(ReasonName(ReasonOf(got)), name);
    EXPECT_EQ(ErrorMetadata(got, kTxidKey), "3.7");
    EXPECT_EQ(ErrorMetadata(got, kLeaderAddressKey), "h:1");
    EXPECT_EQ(ErrorMetadata(got, kFieldKey), std::nullopt);
    std::optional<ErrorDetails> details = DetailsOf(got);
    ASSERT_TRUE(details.has_value());
    EXPECT_EQ(details->reason_name, name);
    EXPECT_EQ(details->metadata.size(), 2u);
    const bool may = may_have_been_written.count(name) > 0;
    EXPECT_EQ(MayHaveBeenWritten(got), may);
    EXPECT_EQ(DefinitelyNotWritten(got), !may);
  }
}

// A node attaches a reason to every error, the one its code implies when it
// made none (UNAVAILABLE and DEADLINE_EXCEEDED: OUTCOME_UNKNOWN).
TEST(ErrorsTest, ADefaultReasonIsReadToo) {
  EXPECT_EQ(ReasonOf(ThroughTheWire(absl::PermissionDeniedError("no"))),
            ErrorReason::kPermissionDenied);
  EXPECT_EQ(ReasonOf(ThroughTheWire(absl::DeadlineExceededError("slow"))),
            ErrorReason::kOutcomeUnknown);
  EXPECT_TRUE(MayHaveBeenWritten(ThroughTheWire(absl::UnavailableError("?"))));
}

TEST(ErrorsTest, OkAndErrorsWithoutAReason) {
  EXPECT_EQ(ReasonOf(absl::OkStatus()), ErrorReason::kUnknown);
  EXPECT_FALSE(DefinitelyNotWritten(absl::OkStatus()));
  EXPECT_FALSE(MayHaveBeenWritten(absl::OkStatus()));
  // gRPC's own failure (no details): the SDK does not claim "not written".
  const absl::Status bare = internal::FromGrpc(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect to all addresses"));
  EXPECT_EQ(ReasonOf(bare), ErrorReason::kUnknown);
  EXPECT_FALSE(DetailsOf(bare).has_value());
  EXPECT_FALSE(DefinitelyNotWritten(bare));
  EXPECT_TRUE(MayHaveBeenWritten(bare));
  EXPECT_EQ(ErrorMetadata(bare, kTxidKey), std::nullopt);
}

TEST(ErrorsTest, DetailsThatAreNotCairnsAreIgnored) {
  // Another domain's ErrorInfo (a proxy's) is not a Cairn reason.
  v1::ErrorInfo foreign;
  foreign.set_reason("NOT_LEADER");
  foreign.set_domain("proxy.example.com");
  v1::RpcStatus details;
  details.set_code(14);
  auto* any = details.add_details();
  any->set_type_url(std::string(internal::kErrorInfoTypeUrl));
  any->set_value(foreign.SerializeAsString());
  EXPECT_EQ(ReasonOf(internal::FromGrpc(
                grpc::Status(grpc::StatusCode::UNAVAILABLE, "x", details.SerializeAsString()))),
            ErrorReason::kUnknown);
  // Details that do not parse.
  EXPECT_EQ(ReasonOf(internal::FromGrpc(
                grpc::Status(grpc::StatusCode::UNAVAILABLE, "x", std::string("\xff\xff\xff", 3)))),
            ErrorReason::kUnknown);
  // The Cairn ErrorInfo is found among other details.
  v1::ErrorInfo ours;
  ours.set_reason("NO_LEADER");
  ours.set_domain("cairn.v1");
  auto* other = details.add_details();
  other->set_type_url("type.googleapis.com/google.rpc.RetryInfo");
  other->set_value("");
  auto* mine = details.add_details();
  mine->set_type_url(std::string(internal::kErrorInfoTypeUrl));
  mine->set_value(ours.SerializeAsString());
  EXPECT_EQ(ReasonOf(internal::FromGrpc(
                grpc::Status(grpc::StatusCode::UNAVAILABLE, "x", details.SerializeAsString()))),
            ErrorReason::kNoLeader);
}

TEST(ErrorsTest, TheSdkAttachesReasonsTheWayTheNodeDoes) {
  // The payload the SDK writes is read by the node's own reader, and the
  // other way round: one encoding.
  absl::Status sdk = internal::WithReason(absl::UnavailableError("x"), ErrorReason::kOutcomeUnknown,
                                          {{"txid", "2.9"}});
  sdk = internal::WithMetadata(sdk, kIdempotencyKeyKey, "k1");
  std::optional<v1::ErrorInfo> read_by_node = node::ErrorInfoOf(sdk);
  ASSERT_TRUE(read_by_node.has_value());
  EXPECT_EQ(read_by_node->reason(), "OUTCOME_UNKNOWN");
  EXPECT_EQ(read_by_node->domain(), "cairn.v1");
  EXPECT_EQ(read_by_node->metadata().at("txid"), "2.9");
  EXPECT_EQ(read_by_node->metadata().at("idempotency_key"), "k1");
  // Metadata is not added to a status without a reason; kUnknown removes one.
  EXPECT_FALSE(DetailsOf(internal::WithMetadata(absl::UnavailableError("x"), kTxidKey, "1.1")));
  EXPECT_EQ(ReasonOf(internal::WithReason(sdk, ErrorReason::kUnknown)), ErrorReason::kUnknown);
  // Rewrap keeps the reason under a new code and message.
  const absl::Status rewrapped = internal::Rewrap(sdk, absl::StatusCode::kDeadlineExceeded, "m");
  EXPECT_EQ(rewrapped.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(rewrapped), ErrorReason::kOutcomeUnknown);
  EXPECT_EQ(ErrorMetadata(rewrapped, kTxidKey), "2.9");
}

}  // namespace
}  // namespace cairn::client
