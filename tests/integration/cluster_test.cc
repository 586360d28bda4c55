// A real three-node cluster over mTLS: appends through leader and followers,
// receipts from every node verified offline, consistency between successive
// checkpoints, failover under load, catch-up by snapshot, and membership
// changes (Raft §5, §6, §7; thesis §4).
#include "testing/cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/segment.h"
#include "testing/stubs.h"
#include "testing/temp_dir.h"

namespace cairn {
namespace {

using ::cairn::testing::Ctx;
using ::cairn::testing::TestCluster;
using ::testing::HasSubstr;
using ::testing::Not;

// True when the segment files in `dir` reach log index `index`.
bool SegmentsReach(const std::string& dir, uint64_t index) {
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    if (f.path().extension() != ".cseg") continue;  // e.g. a file being written
    auto range = ledger::ReadSegmentRange(f.path().string());
    if (range.ok() && range->second >= index) return true;
  }
  return false;
}

class ClusterTest : public ::testing::Test {
 protected:
  void StartCluster(size_t size, std::vector<std::string> args = {}) {
    cluster_ = std::make_unique<TestCluster>(tmp_.path(), size, std::move(args));
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    auto cert = ledger::ReadCertificateFile(cluster_->pki().service_cert());
    ASSERT_TRUE(cert.ok());
    service_cert_ = *cert;
  }

  std::unique_ptr<v1::LedgerService::Stub> Ledger(uint64_t id, const std::string& user = "admin") {
    return testing::Ledger(cluster_->pki(), user, cluster_->node(id).client_address());
  }
  std::unique_ptr<v1::AdminService::Stub> Admin(uint64_t id, const std::string& user = "admin") {
    return testing::Admin(cluster_->pki(), user, cluster_->node(id).client_address());
  }

  // Sends `req` to node `id` as a client would: with an idempotency key,
  // retrying while the cluster is electing (UNAVAILABLE) for up to 20 s.
  grpc::Status AppendRetrying(uint64_t id, v1::AppendRequest req, v1::AppendResponse* resp) {
    if (req.idempotency_key().empty()) req.set_idempotency_key(absl::StrCat("k", ++next_key_));
    grpc::Status st;
    const absl::Status polled = testing::PollUntil(
        [&] {
          st = Ledger(id)->Append(Ctx().get(), req, resp);
          return st.error_code() != grpc::StatusCode::UNAVAILABLE &&
                 st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
        },
        std::chrono::seconds(20), "an append to be answered");
    return polled.ok() ? st : grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, polled.ToString());
  }

  // Appends through node `id`; returns the txid (fails the test on error).
  std::string Append(uint64_t id, const std::string& collection, const std::string& contents) {
    v1::AppendRequest req;
    req.set_collection_id(collection);
    req.set_contents(contents);
    v1::AppendResponse resp;
    const grpc::Status st = AppendRetrying(id, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.txid();
  }

  v1::Receipt Receipt(uint64_t id, const std::string& txid) {
    v1::GetReceiptRequest req;
    req.set_txid(txid);
    req.set_wait(true);
    v1::GetReceiptResponse resp;
    const grpc::Status st = Ledger(id)->GetReceipt(Ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << "receipt of " << txid << " from node " << id << ": "
                         << st.error_message();
    return resp.receipt();
  }

  testing::TempDir tmp_;
  std::unique_ptr<TestCluster> cluster_;
  int next_key_ = 0;
  std::optional<ledger::Certificate> service_cert_;
};

TEST_F(ClusterTest, AppendsThroughAnyNodeAndEveryReceiptVerifiesFromEveryNode) {
  StartCluster(3);
  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  std::map<std::string, std::string> written;  // txid -> contents
  for (uint64_t id = 1; id <= 3; ++id) {       // leader and followers alike
    for (int i = 0; i < 5; ++i) {
      const std::string contents = absl::StrCat("via node ", id, " #", i);
      written[Append(id, "invoices", contents)] = contents;
    }
  }
  ASSERT_EQ(written.size(), 15u);
  for (const auto& [txid, contents] : written) {
    for (uint64_t id = 1; id <= 3; ++id) {
      const v1::Receipt receipt = Receipt(id, txid);
      EXPECT_EQ(receipt.leaf().txid(), txid);
      const absl::Status ok = ledger::VerifyReceipt(receipt, *service_cert_, {contents});
      EXPECT_TRUE(ok.ok()) << txid << " from node " << id << ": " << ok;
      // The same receipt with other contents must not verify.
      EXPECT_FALSE(ledger::VerifyReceipt(receipt, *service_cert_, {contents + "!"}).ok());
    }
  }
}

TEST_F(ClusterTest, SuccessiveCheckpointsAreConsistent) {
  StartCluster(3);
  std::vector<v1::SignedCheckpoint> seen;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3; ++i) Append(1 + round % 3, "c", absl::StrCat(round, "/", i));
    const std::string last = Append(1, "c", absl::StrCat("last ", round));
    Receipt(1, last);  // waits until a signature covers it
    v1::GetLatestCheckpointResponse cp;
    ASSERT_TRUE(Ledger(2)->GetLatestCheckpoint(Ctx().get(), {}, &cp).ok());
    auto node_cert = ledger::Certificate::FromPem(cp.node_certificate_pem());
    ASSERT_TRUE(node_cert.ok());
    ASSERT_TRUE(ledger::VerifySignedCheckpoint(cp.checkpoint(), *node_cert, *service_cert_).ok());
    seen.push_back(cp.checkpoint());
  }
  for (size_t i = 1; i < seen.size(); ++i) {
    const v1::Checkpoint& a = seen[i - 1].checkpoint();
    const v1::Checkpoint& b = seen[i].checkpoint();
    ASSERT_LT(a.tree_size(), b.tree_size());
    v1::GetConsistencyProofRequest req;
    req.set_from_tree_size(a.tree_size());
    req.set_to_tree_size(b.tree_size());
    v1::GetConsistencyProofResponse resp;
    ASSERT_TRUE(Ledger(3)->GetConsistencyProof(Ctx().get(), req, &resp).ok());
    EXPECT_TRUE(ledger::VerifyCheckpointExtends(a, b, resp.proof()).ok());
    // A proof for other sizes does not make the pair consistent.
    if (i >= 2) {
      v1::ConsistencyProof wrong = resp.proof();
      wrong.set_from_tree_size(seen[i - 2].checkpoint().tree_size());
      EXPECT_FALSE(ledger::VerifyCheckpointExtends(a, b, wrong).ok());
    }
  }
}

// Appends with idempotency keys from several threads, retrying on any node
// until each is acknowledged, while the leader is killed and later restarted.
TEST_F(ClusterTest, LeaderKilledDuringAppendsLosesNothingAndDuplicatesNothing) {
  StartCluster(3);
  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::AppendRequest req;
        req.set_collection_id("stream");
        req.set_contents(absl::StrCat("t", t, "-", i));
        req.set_idempotency_key(absl::StrCat("key-t", t, "-", i));
        for (int attempt = 0;; ++attempt) {
          ASSERT_LT(attempt, 400) << "append " << req.contents() << " never acknowledged";
          v1::AppendResponse resp;
          const uint64_t node = 1 + (t + attempt) % 3;
          if (!cluster_->node(node).Running()) continue;
          const grpc::Status st =
              Ledger(node)->Append(Ctx(std::chrono::seconds(3)).get(), req, &resp);
          if (st.ok()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // retry back-off
        }
        acknowledged.fetch_add(1);
      }
    });
  }
  ASSERT_TRUE(testing::PollUntil([&] { return acknowledged.load() >= 30; },
                                 std::chrono::seconds(30), "30 appends")
                  .ok());
  const auto killed_at = std::chrono::steady_clock::now();
  cluster_->node(*leader).Kill();
  auto next = cluster_->WaitForLeader(std::chrono::seconds(10), *leader);
  ASSERT_TRUE(next.ok()) << next.status();
  const auto failover = std::chrono::steady_clock::now() - killed_at;
  // Election timeout is 10 ticks of 20 ms (200-400 ms randomized).
  EXPECT_LT(failover, std::chrono::seconds(3));
  ASSERT_TRUE(cluster_->StartNode(*leader).ok());
  for (auto& w : writers) w.join();
  ASSERT_EQ(acknowledged.load(), kThreads * kPerThread);

  const std::string last = Append(*next, "stream-end", "done");
  const uint64_t last_index = std::stoull(last.substr(last.find('.') + 1));
  ASSERT_TRUE(cluster_->WaitForApplied(static_cast<double>(last_index)).ok());
  std::set<std::string> roots;
  for (uint64_t id = 1; id <= 3; ++id) {
    std::multiset<std::string> contents;
    v1::ListEntriesRequest req;
    req.set_collection_id("stream");
    req.set_page_size(1000);
    req.set_include_contents(true);
    v1::ListEntriesResponse resp;
    ASSERT_TRUE(Ledger(id)->ListEntries(Ctx().get(), req, &resp).ok());
    for (const auto& e : resp.entries()) contents.insert(e.contents());
    EXPECT_EQ(contents.size(), static_cast<size_t>(kThreads * kPerThread)) << "node " << id;
    for (int t = 0; t < kThreads; ++t) {
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_EQ(contents.count(absl::StrCat("t", t, "-", i)), 1u) << "node " << id;
      }
    }
    // Every node's receipt for the last entry is against the same tree.
    const v1::Receipt receipt = Receipt(id, last);
    EXPECT_TRUE(ledger::VerifyReceipt(receipt, *service_cert_, {"done"}).ok());
    roots.insert(receipt.checkpoint().checkpoint().root_hash());
  }
  EXPECT_EQ(roots.size(), 1u);
}

TEST_F(ClusterTest, NodeStoppedPastCompactionRejoinsThroughSnapshot) {
  StartCluster(3, {"--snapshot-retain-entries=0"});
  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok());
  const uint64_t lagging = *leader == 3 ? 2 : 3;
  std::string early = Append(*leader, "early", "before the stop");
  cluster_->node(lagging).Kill();
  std::string last;
  for (int i = 0; i < 50; ++i) last = Append(*leader, "during", absl::StrCat("entry ", i));
  for (uint64_t id = 1; id <= 3; ++id) {
    if (id == lagging) continue;
    v1::TriggerSnapshotResponse resp;
    ASSERT_TRUE(Admin(id)->TriggerSnapshot(Ctx().get(), {}, &resp).ok());
    EXPECT_GT(resp.snapshot_index(), std::stoull(early.substr(early.find('.') + 1)));
  }
  ASSERT_TRUE(cluster_->StartNode(lagging).ok());
  const uint64_t last_index = std::stoull(last.substr(last.find('.') + 1));
  ASSERT_TRUE(cluster_->WaitForApplied(static_cast<double>(last_index)).ok());
  EXPECT_THAT(cluster_->node(lagging).Log(), HasSubstr("installed snapshot"));
  // State that arrived by snapshot reads back, with a receipt that verifies.
  v1::GetEntryRequest get;
  get.set_txid(early);
  v1::GetEntryResponse entry;
  ASSERT_TRUE(Ledger(lagging)->GetEntry(Ctx().get(), get, &entry).ok());
  EXPECT_EQ(entry.entry().contents(), "before the stop");
  EXPECT_TRUE(
      ledger::VerifyReceipt(Receipt(lagging, early), *service_cert_, {"before the stop"}).ok());
  // And it keeps up afterwards.
  const std::string after = Append(lagging, "after", "rejoined");
  EXPECT_TRUE(ledger::VerifyReceipt(Receipt(lagging, after), *service_cert_, {"rejoined"}).ok());
}

TEST_F(ClusterTest, LearnerJoinsIsPromotedAndAnOldMemberIsRemoved) {
  StartCluster(3);
  Append(1, "m", "before");
  testing::NodeProcess& fourth = cluster_->AddNodeObject();
  v1::AddLearnerRequest add;
  add.mutable_node()->set_node_id(4);
  add.mutable_node()->set_peer_address(fourth.peer_address());
  add.mutable_node()->set_client_address(fourth.client_address());
  add.mutable_node()->set_certificate_pem(testing::ReadFileOrEmpty(cluster_->pki().Node(4).cert));
  v1::GovernanceResponse added;
  grpc::Status st = Admin(2)->AddLearner(Ctx().get(), add, &added);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(cluster_->StartNode(4, {"--join"}).ok());
  ASSERT_TRUE(fourth.WaitReady().ok()) << fourth.Log();
  const std::string mid = Append(1, "m", "with a learner");
  ASSERT_TRUE(cluster_->WaitForApplied(std::stod(mid.substr(mid.find('.') + 1))).ok());

  v1::PromoteLearnerRequest promote;
  promote.set_node_id(4);
  v1::GovernanceResponse promoted;
  // Refused (FAILED_PRECONDITION) until the leader sees the learner caught up.
  ASSERT_TRUE(testing::PollUntil(
                  [&] {
                    st = Admin(1)->PromoteLearner(Ctx().get(), promote, &promoted);
                    return st.ok();
                  },
                  std::chrono::seconds(20), "the learner's promotion")
                  .ok())
      << st.error_message();
  Append(4, "m", "through the new voter");

  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok());
  const uint64_t removed = *leader == 1 ? 2 : 1;
  v1::RemoveNodeRequest remove;
  remove.set_node_id(removed);
  v1::GovernanceResponse gone;
  st = Admin(*leader)->RemoveNode(Ctx().get(), remove, &gone);
  ASSERT_TRUE(st.ok()) << st.error_message();
  cluster_->node(removed).Kill();
  // Three voters remain (of them the new one): the cluster keeps committing.
  const std::string last = Append(*leader, "m", "after removal");
  EXPECT_TRUE(ledger::VerifyReceipt(Receipt(4, last), *service_cert_, {"after removal"}).ok());
  v1::ClusterStatus status;
  ASSERT_TRUE(Admin(*leader)->GetClusterStatus(Ctx().get(), {}, &status).ok());
  std::set<uint64_t> members;
  for (const auto& n : status.nodes()) members.insert(n.node().node_id());
  EXPECT_EQ(members.count(removed), 0u);
  EXPECT_EQ(members.count(4), 1u);
}

TEST_F(ClusterTest, DataPlaneQueriesAndIdempotentRetries) {
  StartCluster(3);
  // The same idempotency key through two different nodes: one entry.
  v1::AppendRequest req;
  req.set_collection_id("orders");
  req.set_contents("order 1");
  req.set_idempotency_key("order-1");
  v1::AppendResponse first, second;
  ASSERT_TRUE(AppendRetrying(1, req, &first).ok());
  ASSERT_TRUE(AppendRetrying(2, req, &second).ok());
  EXPECT_TRUE(second.duplicate());
  EXPECT_EQ(first.txid(), second.txid());
  for (int i = 2; i <= 7; ++i) Append(1 + i % 3, "orders", absl::StrCat("order ", i));
  Append(1, "refunds", "refund 1");

  v1::GetCurrentEntryRequest current;
  current.set_collection_id("orders");
  v1::GetCurrentEntryResponse latest;
  ASSERT_TRUE(Ledger(3)->GetCurrentEntry(Ctx().get(), current, &latest).ok());
  EXPECT_EQ(latest.entry().contents(), "order 7");

  std::vector<std::string> listed;
  v1::ListEntriesRequest list;
  list.set_collection_id("orders");
  list.set_page_size(3);
  list.set_include_contents(true);
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    v1::ListEntriesResponse page;
    ASSERT_TRUE(Ledger(2)->ListEntries(Ctx().get(), list, &page).ok());
    EXPECT_LE(page.entries_size(), 3);
    for (const auto& e : page.entries()) listed.push_back(e.contents());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_THAT(listed, ::testing::ElementsAre("order 1", "order 2", "order 3", "order 4", "order 5",
                                             "order 6", "order 7"));

  v1::ListCollectionsResponse collections;
  ASSERT_TRUE(Ledger(1)->ListCollections(Ctx().get(), {}, &collections).ok());
  std::map<std::string, uint64_t> counts;
  for (const auto& c : collections.collections()) counts[c.collection_id()] = c.entry_count();
  EXPECT_EQ(counts["orders"], 7u);
  EXPECT_EQ(counts["refunds"], 1u);

  v1::GetTransactionStatusRequest status_req;
  v1::GetTransactionStatusResponse status;
  status_req.set_txid(first.txid());
  ASSERT_TRUE(Ledger(3)->GetTransactionStatus(Ctx().get(), status_req, &status).ok());
  EXPECT_EQ(status.status(), v1::TRANSACTION_STATUS_COMMITTED);
  const uint64_t index = std::stoull(first.txid().substr(first.txid().find('.') + 1));
  status_req.set_txid(absl::StrCat(1000, ".", index));  // a term that never held it
  ASSERT_TRUE(Ledger(3)->GetTransactionStatus(Ctx().get(), status_req, &status).ok());
  EXPECT_EQ(status.status(), v1::TRANSACTION_STATUS_INVALID);
  status_req.set_txid("1.999999");
  ASSERT_TRUE(Ledger(3)->GetTransactionStatus(Ctx().get(), status_req, &status).ok());
  EXPECT_EQ(status.status(), v1::TRANSACTION_STATUS_UNKNOWN);

  req.set_idempotency_key("order-pending");
  req.set_contents("order 8");
  req.set_wait(v1::APPEND_WAIT_NONE);
  v1::AppendResponse pending;
  ASSERT_TRUE(AppendRetrying(1, req, &pending).ok());
  EXPECT_EQ(pending.status(), v1::TRANSACTION_STATUS_PENDING);
  status_req.set_txid(pending.txid());
  EXPECT_TRUE(testing::PollUntil(
                  [&] {
                    return Ledger(2)->GetTransactionStatus(Ctx().get(), status_req, &status).ok() &&
                           status.status() == v1::TRANSACTION_STATUS_COMMITTED;
                  },
                  std::chrono::seconds(10), "the pending append to commit")
                  .ok());
}

// Every node writes its committed history as segment files that an auditor
// checks offline, from scratch, against nothing but the service certificate.
TEST_F(ClusterTest, SegmentsFromEveryNodePassTheAuditAndAFlippedByteIsCaught) {
  StartCluster(3, {"--segment-entries-target=8", "--segment-max-age-s=0"});
  std::string last;
  for (int i = 0; i < 30; ++i) last = Append(1 + i % 3, "audited", absl::StrCat("record ", i));
  const uint64_t last_index = std::stoull(last.substr(last.find('.') + 1));
  Receipt(1, last);  // a signature covers it, so a segment can end after it
  const std::string service = cluster_->pki().service_cert();
  for (uint64_t id = 1; id <= 3; ++id) {
    const std::string dir = cluster_->node(id).data_dir() + "/segments";
    testing::CommandResult audit;
    ASSERT_TRUE(testing::PollUntil(
                    [&] {
                      if (!SegmentsReach(dir, last_index)) return false;
                      audit = testing::RunCommand({testing::BinaryPath("client/cairnctl"), "audit",
                                                   "--segments", dir, "--service-cert", service});
                      return audit.exit_code == 0;
                    },
                    std::chrono::seconds(20), "segments covering the appends")
                    .ok())
        << "node " << id << ": " << audit.out << audit.err;
    EXPECT_THAT(audit.out, HasSubstr("valid"));
  }
  // A copy with one byte flipped in the middle of a record fails, naming it.
  const std::string copy = tmp_.path() + "/tampered";
  std::filesystem::copy(cluster_->node(2).data_dir() + "/segments", copy);
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(copy)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  const std::filesystem::path victim = files[files.size() / 2];
  std::filesystem::permissions(victim, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  std::string bytes = testing::ReadFileOrEmpty(victim.string());
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes;
  const testing::CommandResult bad =
      testing::RunCommand({testing::BinaryPath("client/cairnctl"), "audit", "--segments", copy,
                           "--service-cert", service});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  // The first bad record is named by its txid.
  EXPECT_THAT(bad.out + bad.err, ::testing::ContainsRegex("txid [0-9]+\\.[0-9]+"));
}

TEST_F(ClusterTest, SigtermedLeaderHandsOffLeadershipAndExitsCleanly) {
  StartCluster(3);
  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok());
  Append(*leader, "c", "before");
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(cluster_->node(*leader).Terminate(), 0);
  auto next = cluster_->WaitForLeader(std::chrono::seconds(10), *leader);
  ASSERT_TRUE(next.ok()) << next.status();
  // A hand-off needs no election timeout to pass: the new leader is elected
  // by the time the old one has exited.
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, std::chrono::seconds(5));
  EXPECT_THAT(cluster_->node(*leader).Log(), HasSubstr("handed leadership to node"));
  Append(*next, "c", "after");
  // The rest stopped one at a time, as scripts/run.sh stops a local service:
  // the last leader finds no voter reachable and stops without waiting out
  // a hand-off to a node that is gone.
  const uint64_t follower = 6 - *leader - *next;
  EXPECT_EQ(cluster_->node(follower).Terminate(), 0);
  EXPECT_EQ(cluster_->node(*next).Terminate(), 0);
  // (It may also have stepped down first, having lost its majority: then
  // it has nothing to hand over.)
  EXPECT_THAT(cluster_->node(*next).Log(), Not(HasSubstr("before the deadline")));
}

TEST_F(ClusterTest, MetricsHealthAndReadinessAreServed) {
  StartCluster(3);
  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok());
  const std::string txid = Append(*leader, "c", "x");
  Receipt(*leader, txid);
  for (uint64_t id = 1; id <= 3; ++id) {
    const testing::NodeProcess& n = cluster_->node(id);
    EXPECT_GE(n.Metric("cairn_raft_term"), 1) << id;
    EXPECT_GE(n.Metric("cairn_raft_commit_index"), 3) << id;
    EXPECT_GE(n.Metric("cairn_raft_applied_index"), 3) << id;
    EXPECT_EQ(n.Metric("cairn_raft_leader_id"), static_cast<double>(*leader)) << id;
    EXPECT_GE(n.Metric("cairn_signature_lag_entries"), 0) << id;
    EXPECT_GE(n.Metric("cairn_fsync_latency_seconds_count"), 1) << id;
  }
  const testing::NodeProcess& l = cluster_->node(*leader);
  EXPECT_GE(l.Metric("cairn_append_latency_seconds_count"), 1);
  EXPECT_GE(l.Metric("cairn_appends_committed_total"), 1);
  EXPECT_EQ(l.HttpStatus("/healthz"), 200);
  EXPECT_EQ(l.HttpStatus("/readyz"), 200);
  // A follower whose leader is gone is alive but not ready.
  const uint64_t follower = *leader == 1 ? 2 : 1;
  const uint64_t other = 6 - *leader - follower;
  cluster_->node(*leader).Kill();
  cluster_->node(other).Kill();
  EXPECT_TRUE(
      testing::PollUntil([&] { return cluster_->node(follower).HttpStatus("/readyz") == 503; },
                         std::chrono::seconds(10), "/readyz to report 503")
          .ok());
  EXPECT_EQ(cluster_->node(follower).HttpStatus("/healthz"), 200);
}

}  // namespace
}  // namespace cairn
