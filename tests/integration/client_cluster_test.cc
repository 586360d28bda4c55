// The SDK against a real three-node cluster while its leader is killed
// (SIGKILL) and restarted twice: 1,000 appends from 8 threads sharing one
// client each get exactly one txid, the ledger holds each exactly once (under
// that txid), and every receipt verifies against the service certificate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cairn/client/verify.h"
#include "cairn/ledger/txid.h"
#include "client_cluster_fixture.h"

namespace cairn::testing {
namespace {

constexpr int kThreads = 8;
constexpr int kAppendsPerThread = 125;
constexpr int kAppends = kThreads * kAppendsPerThread;

struct Outcome {
  std::string contents;
  absl::StatusOr<client::AppendResult> result = absl::UnknownError("not run");
};

TEST_F(ClientClusterTest, ThousandAppendsAcrossTwoLeaderKillsCommitExactlyOnce) {
  client::ClientOptions options = Options();
  options.call_timeout_ms = 3000;
  auto c = MakeClient(options);
  std::vector<Outcome> outcomes(kAppends);
  std::atomic<int> done{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        Outcome& o = outcomes[t * kAppendsPerThread + i];
        o.contents = absl::StrCat("append-", t, "-", i);
        o.result = c->Append("failover", o.contents);
        ++done;
      }
    });
  }
  // Kill the leader twice, mid-stream, and bring it back each time. (On a
  // failure, stop the chaos but still join the writers.)
  absl::Status chaos = absl::OkStatus();
  for (int kill_at : {kAppends / 4, kAppends * 3 / 5}) {
    chaos = PollUntil([&] { return done >= kill_at; }, std::chrono::minutes(3),
                      absl::StrCat(kill_at, " appends"));
    if (!chaos.ok()) break;
    const absl::StatusOr<uint64_t> old_leader = cluster_->WaitForLeader();
    chaos = old_leader.status();
    if (!chaos.ok()) break;
    cluster_->node(*old_leader).Kill();
    std::cerr << "killed the leader, node " << *old_leader << ", after " << done.load()
              << " appends\n";
    chaos = cluster_->WaitForLeader(std::chrono::seconds(30), *old_leader).status();
    if (chaos.ok()) chaos = cluster_->StartNode(*old_leader);
    if (chaos.ok()) chaos = cluster_->node(*old_leader).WaitReady();
    if (!chaos.ok()) break;
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(chaos.ok()) << chaos;

  // Every append answered once, with its own txid.
  std::set<std::string> txids;
  for (const Outcome& o : outcomes) {
    ASSERT_TRUE(o.result.ok()) << o.contents << ": " << o.result.status();
    EXPECT_EQ(o.result->status, v1::TRANSACTION_STATUS_COMMITTED);
    txids.insert(o.result->txid);
  }
  EXPECT_EQ(txids.size(), static_cast<size_t>(kAppends));
  const auto duplicates = std::count_if(outcomes.begin(), outcomes.end(),
                                        [](const Outcome& o) { return o.result->duplicate; });
  std::cerr << duplicates << " appends were answered as retries of a committed append\n";

  // The ledger holds each exactly once, under the txid the client was given.
  // (An append is acknowledged once committed; wait until every node has
  // applied the last one before reading.)
  uint64_t last_index = 0;
  for (const Outcome& o : outcomes) {
    last_index = std::max(last_index, ledger::TxId::Parse(o.result->txid)->index);
  }
  ASSERT_TRUE(cluster_->WaitForApplied(static_cast<double>(last_index)).ok());
  std::map<std::string, std::string> ledger;  // contents -> txid
  int listed = 0;
  client::ListOptions list;
  list.page_size = 500;
  client::EntryIterator it = c->ListEntries("failover", list);
  v1::Entry e;
  while (it.Next(&e)) {
    ++listed;
    EXPECT_TRUE(ledger.emplace(e.contents(), e.txid()).second) << "twice: " << e.contents();
  }
  ASSERT_TRUE(it.status().ok()) << it.status();
  EXPECT_EQ(listed, kAppends);
  for (const Outcome& o : outcomes) EXPECT_EQ(ledger[o.contents], o.result->txid) << o.contents;

  // Every receipt verifies (in the SDK, and again offline).
  const std::string service_pem = c->service_certificate_pem();
  std::atomic<int> verified{0};
  std::vector<std::thread> verifiers;
  for (int t = 0; t < kThreads; ++t) {
    verifiers.emplace_back([&, t] {
      for (int i = t; i < kAppends; i += kThreads) {
        client::ReceiptOptions ro;
        ro.wait = true;
        ro.expect.contents = outcomes[i].contents;
        auto receipt = c->GetReceipt(outcomes[i].result->txid, ro);
        EXPECT_TRUE(receipt.ok()) << outcomes[i].result->txid << ": " << receipt.status();
        if (!receipt.ok()) continue;
        client::ReceiptExpectations expect;
        expect.contents = outcomes[i].contents;
        EXPECT_TRUE(client::VerifyReceipt(*receipt, service_pem, expect).ok());
        ++verified;
      }
    });
  }
  for (auto& v : verifiers) v.join();
  EXPECT_EQ(verified.load(), kAppends);
  // The client's verified state followed the ledger forward throughout.
  ASSERT_TRUE(c->TrustedCheckpoint().has_value());
  EXPECT_GE(c->TrustedCheckpoint()->checkpoint().checkpoint().tree_size(),
            static_cast<uint64_t>(kAppends));
}

}  // namespace
}  // namespace cairn::testing
