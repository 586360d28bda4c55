// Outcomes a client can act on, from real nodes over mTLS: every error
// carries its reason in the gRPC status details (errors.proto); a key reused
// for other contents is refused and writes nothing; a follower whose
// forwarded append breaks says OUTCOME_UNKNOWN, never a raw transport error;
// and a linearizable listing is one snapshot across pages and nodes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "cairn/v1/errors.pb.h"
#include "testing/cluster.h"
#include "testing/stubs.h"
#include "testing/temp_dir.h"

namespace cairn {
namespace {

using ::cairn::testing::Ctx;
using ::cairn::testing::TestCluster;
using ::testing::HasSubstr;

// The ErrorInfo a node sent with `status`; reason "" when there is none.
v1::ErrorInfo InfoOf(const grpc::Status& status) {
  v1::RpcStatus details;
  v1::ErrorInfo info;
  if (!details.ParseFromString(status.error_details())) return info;
  for (const auto& any : details.details()) {
    if (any.type_url() == "type.googleapis.com/google.rpc.ErrorInfo") {
      info.ParseFromString(any.value());
    }
  }
  return info;
}

class OutcomesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<TestCluster>(tmp_.path(), 3);
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    auto leader = cluster_->WaitForLeader();
    ASSERT_TRUE(leader.ok());
    leader_ = *leader;
    follower_ = leader_ % 3 + 1;
  }
  std::unique_ptr<v1::LedgerService::Stub> Ledger(uint64_t id) {
    return testing::Ledger(cluster_->pki(), "admin", cluster_->node(id).client_address());
  }
  grpc::Status Append(uint64_t node, const std::string& collection, const std::string& contents,
                      const std::string& key, v1::AppendResponse* resp,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    v1::AppendRequest req;
    req.set_collection_id(collection);
    req.set_contents(contents);
    req.set_idempotency_key(key);
    return Ledger(node)->Append(Ctx(timeout).get(), req, resp);
  }
  std::vector<std::string> List(uint64_t node, const std::string& collection) {
    v1::ListEntriesRequest req;
    req.set_collection_id(collection);
    req.set_include_contents(true);
    v1::ListEntriesResponse resp;
    const grpc::Status st = Ledger(node)->ListEntries(Ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << "node " << node << ": " << st.error_message();
    std::vector<std::string> out;
    for (const auto& e : resp.entries()) out.push_back(e.contents());
    return out;
  }

  testing::TempDir tmp_;
  std::unique_ptr<TestCluster> cluster_;
  uint64_t leader_ = 0;
  uint64_t follower_ = 0;
};

TEST_F(OutcomesTest, AKeyReusedForOtherContentsIsRefusedAndWritesNothing) {
  v1::AppendResponse first, retry, other;
  ASSERT_TRUE(Append(leader_, "docs", "A", "key-1", &first).ok());
  // The same key and contents: the first txid, as a duplicate.
  ASSERT_TRUE(Append(follower_, "docs", "A", "key-1", &retry).ok());
  EXPECT_EQ(retry.txid(), first.txid());
  EXPECT_TRUE(retry.duplicate());
  // The same key, other contents: refused, naming the holder.
  const grpc::Status st = Append(follower_, "docs", "B", "key-1", &other);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const v1::ErrorInfo info = InfoOf(st);
  EXPECT_EQ(info.reason(), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_EQ(info.domain(), "cairn.v1");
  EXPECT_EQ(info.metadata().at("txid"), first.txid());
  EXPECT_THAT(List(leader_, "docs"), ::testing::ElementsAre("A"));
}

TEST_F(OutcomesTest, RefusalsCarryTheirReasonAndTheLimitTheyBroke) {
  v1::AppendResponse resp;
  const grpc::Status big =
      Append(follower_, "docs", std::string((1 << 20) + 1, 'x'), "key-big", &resp);
  EXPECT_EQ(big.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(InfoOf(big).reason(), "LIMIT_EXCEEDED");
  EXPECT_EQ(InfoOf(big).metadata().at("limit"), "entry_bytes_max");
  const grpc::Status empty = Append(leader_, "", "x", "key-empty", &resp);
  EXPECT_EQ(InfoOf(empty).reason(), "INVALID_REQUEST");
  v1::GetEntryRequest get;
  get.set_txid("1.999999");
  get.set_no_wait(true);
  v1::GetEntryResponse entry;
  const grpc::Status missing = Ledger(leader_)->GetEntry(Ctx().get(), get, &entry);
  EXPECT_EQ(InfoOf(missing).reason(), "NOT_FOUND");
  EXPECT_TRUE(List(leader_, "docs").empty());
}

TEST_F(OutcomesTest, AForwardedAppendThatBreaksIsOutcomeUnknownNotATransportError) {
  // The leader is paused: the follower's forwarded call cannot finish.
  cluster_->node(leader_).Signal(SIGSTOP);
  v1::AppendResponse resp;
  const grpc::Status st =
      Append(follower_, "docs", "A", "key-paused", &resp, std::chrono::milliseconds(1500));
  cluster_->node(leader_).Signal(SIGCONT);
  ASSERT_FALSE(st.ok());
  const std::string reason = InfoOf(st).reason();
  // Forwarded before the follower noticed: unknown. After a new leader was
  // elected or while none is known: not written, said so.
  EXPECT_THAT(reason, ::testing::AnyOf("OUTCOME_UNKNOWN", "NOT_LEADER", "NO_LEADER"))
      << st.error_message();
  EXPECT_THAT(st.error_message(), ::testing::Not(HasSubstr("Socket closed")));
}

TEST_F(OutcomesTest, ALinearizableListingIsOneSnapshotAcrossPagesAndNodes) {
  v1::AppendResponse resp;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Append(leader_, "docs", absl::StrCat("v", i), absl::StrCat("k", i), &resp).ok());
  }
  v1::ListEntriesRequest req;
  req.set_collection_id("docs");
  req.set_include_contents(true);
  req.set_page_size(2);
  std::vector<std::string> seen;
  uint64_t node = follower_;
  for (int page = 0;; ++page) {
    v1::ListEntriesResponse out;
    const grpc::Status st = Ledger(node)->ListEntries(Ctx().get(), req, &out);
    ASSERT_TRUE(st.ok()) << st.error_message();
    for (const auto& e : out.entries()) seen.push_back(e.contents());
    if (page == 0) {
      // Written after the snapshot point: not in this listing.
      for (int i = 5; i < 8; ++i) {
        ASSERT_TRUE(
            Append(leader_, "docs", absl::StrCat("v", i), absl::StrCat("k", i), &resp).ok());
      }
    }
    if (out.next_page_token().empty()) break;
    req.set_page_token(out.next_page_token());
    node = node % 3 + 1;  // the next page from another node
  }
  EXPECT_THAT(seen, ::testing::ElementsAre("v0", "v1", "v2", "v3", "v4"));
  // A local read cannot continue a linearizable listing.
  v1::ListEntriesRequest local = req;
  local.set_consistency(v1::READ_CONSISTENCY_LOCAL);
  local.set_page_token("7:x");
  v1::ListEntriesResponse out;
  const grpc::Status st = Ledger(leader_)->ListEntries(Ctx().get(), local, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // A new listing sees all eight.
  EXPECT_EQ(List(follower_, "docs").size(), 8u);
}

}  // namespace
}  // namespace cairn
