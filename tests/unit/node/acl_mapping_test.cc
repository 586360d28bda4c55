// The REST API's dialect (rest/acl_mapping.h): errors take ACL's code where
// ACL has one and Cairn's reason name otherwise, with an HTTP status from
// the gRPC code; entries that are not UTF-8 come as contentsBase64, a
// private ledger's with contentsSalt; the three role names round-trip and
// others are refused; user ids in ACL's spellings are normalized.
#include "rest/acl_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "errors/status.h"

namespace cairn::node::rest {
namespace {

TEST(AclMapping, ErrorsUseAclCodesWhereTheyExistAndTheReasonOtherwise) {
  const auto http = [](const absl::Status& s) { return ToHttpError(s); };
  EXPECT_EQ(
      http(WithReason(absl::InvalidArgumentError("bad"), v1::ERROR_REASON_INVALID_REQUEST)).code,
      "InvalidInput");
  EXPECT_EQ(http(WithReason(absl::PermissionDeniedError("no"), v1::ERROR_REASON_PERMISSION_DENIED))
                .http_status,
            403);
  // No ACL code: Cairn's reason, and the status the gRPC code implies.
  const HttpError not_leader =
      http(WithReason(absl::UnavailableError("ask node 2"), v1::ERROR_REASON_NOT_LEADER));
  EXPECT_EQ(not_leader.http_status, 503);
  EXPECT_EQ(not_leader.code, "NOT_LEADER");
  EXPECT_EQ(not_leader.message, "ask node 2");
  const HttpError busy =
      http(WithReason(absl::ResourceExhaustedError("busy"), v1::ERROR_REASON_BACKPRESSURE));
  EXPECT_EQ(busy.http_status, 429);
  EXPECT_EQ(busy.code, "BACKPRESSURE");
  const HttpError reused = http(
      WithReason(absl::AlreadyExistsError("held by 1.4"), v1::ERROR_REASON_IDEMPOTENCY_KEY_REUSED));
  EXPECT_EQ(reused.http_status, 409);
  EXPECT_EQ(reused.code, "IDEMPOTENCY_KEY_REUSED");
  // No reason attached: the one the code implies (a timeout may have written).
  const HttpError timeout = http(absl::DeadlineExceededError("late"));
  EXPECT_EQ(timeout.http_status, 504);
  EXPECT_EQ(timeout.code, "OUTCOME_UNKNOWN");
  // Only the entry limit is a body too large; another limit is bad input.
  EXPECT_EQ(http(WithReason(absl::InvalidArgumentError("big"), v1::ERROR_REASON_LIMIT_EXCEEDED,
                            {{"limit", "entry_bytes_max"}}))
                .http_status,
            413);
  EXPECT_EQ(http(WithReason(absl::InvalidArgumentError("long"), v1::ERROR_REASON_LIMIT_EXCEEDED,
                            {{"limit", "idempotency_key_bytes_max"}}))
                .code,
            "InvalidInput");
  EXPECT_EQ(ErrorBody(not_leader).dump(),
            R"({"error":{"code":"NOT_LEADER","message":"ask node 2"}})");
}

TEST(AclMapping, EntriesCarryContentsAsJsonCanHoldThem) {
  v1::Entry entry;
  entry.set_collection_id("orders");
  entry.set_txid("1.4");
  entry.set_contents("plain text");
  EXPECT_EQ(EntryJson(entry).dump(),
            R"({"contents":"plain text","collectionId":"orders","transactionId":"1.4"})");
  entry.set_contents(std::string("\xff\xfe", 2));
  const nlohmann::ordered_json bytes = EntryJson(entry);
  EXPECT_FALSE(bytes.contains("contents"));
  EXPECT_EQ(bytes["contentsBase64"], "//4=");
  entry.set_contents("sealed at rest");
  entry.set_contents_salt(std::string(32, '\x01'));
  std::string salt_hex;
  for (int i = 0; i < 32; ++i) salt_hex += "01";
  EXPECT_EQ(EntryJson(entry)["contentsSalt"], salt_hex);
}

TEST(AclMapping, RolesRoundTripAndUserIdsAreNormalized) {
  for (v1::Role role : {v1::ROLE_ADMINISTRATOR, v1::ROLE_CONTRIBUTOR, v1::ROLE_READER}) {
    EXPECT_EQ(RoleFromName(RoleName(role)), role) << RoleName(role);
  }
  EXPECT_EQ(RoleName(v1::ROLE_CONTRIBUTOR), "Contributor");
  EXPECT_EQ(RoleFromName("Owner"), std::nullopt);
  EXPECT_EQ(RoleFromName("reader"), std::nullopt);  // ACL's names are case-sensitive
  const std::string id(64, 'a');
  std::string pairs;
  for (int i = 0; i < 32; ++i) pairs += (i == 0 ? "" : ":") + std::string("AA");
  EXPECT_EQ(*NormalizeUserId(id), id);
  EXPECT_EQ(*NormalizeUserId(std::string(64, 'A')), id);
  EXPECT_EQ(*NormalizeUserId(pairs), id);
  EXPECT_FALSE(NormalizeUserId("alice").ok());
  EXPECT_FALSE(NormalizeUserId(std::string(63, 'a')).ok());
}

}  // namespace
}  // namespace cairn::node::rest
