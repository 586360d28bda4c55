// The SDK against fake nodes: appends and reads, leader redirects through the
// cairn-leader trailer, retries bounded in time, idempotency keys reused
// across retries (exactly one entry per logical append), asynchronous appends,
// pagination, WaitForCommit, receipts verified for real, and shutdown.
#include "cairn/client/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "fake_cluster.h"
#include "testing/process.h"

namespace cairn {
namespace {

using client::Client;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::unique_ptr<Client> MakeClient(client::ClientOptions options) {
  auto c = Client::Create(std::move(options));
  CAIRN_CHECK_OK(c.status());
  return *std::move(c);
}

int64_t MsSince(absl::Time start) { return absl::ToInt64Milliseconds(absl::Now() - start); }

// Option structs for the cases below (designated initializers would trip
// -Wmissing-field-initializers).
client::AppendOptions WithClaims(std::string digest) {
  client::AppendOptions o;
  o.claims_digest = std::move(digest);
  return o;
}
client::AppendOptions WithKey(std::string key) {
  client::AppendOptions o;
  o.idempotency_key = std::move(key);
  return o;
}
client::AppendOptions NoWait() {
  client::AppendOptions o;
  o.wait_for_commit = false;
  return o;
}
client::ListOptions Pages(uint32_t page_size, bool contents = true, uint64_t entries_max = 0) {
  client::ListOptions o;
  o.page_size = page_size;
  o.include_contents = contents;
  o.entries_max = entries_max;
  return o;
}
client::ReceiptExpectations Expect(std::optional<std::string> contents,
                                   std::optional<std::string> claims_digest) {
  client::ReceiptExpectations e;
  e.contents = std::move(contents);
  e.claims_digest = std::move(claims_digest);
  return e;
}
client::ReceiptOptions Expecting(client::ReceiptExpectations expect) {
  client::ReceiptOptions o;
  o.expect = std::move(expect);
  return o;
}

TEST(ClientTest, AppendsAndReadsBack) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  auto r = c->Append("orders", "first");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->txid, "1.1");
  EXPECT_EQ(r->status, v1::TRANSACTION_STATUS_COMMITTED);
  EXPECT_FALSE(r->duplicate);
  EXPECT_THAT(r->idempotency_key, SizeIs(32));  // 128 random bits in hex
  ASSERT_TRUE(c->Append("orders", "second").ok());

  auto e = c->GetEntry("1.1");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->contents(), "first");
  EXPECT_EQ(e->user_id(), cluster.pki().UserId("writer"));
  auto current = c->GetCurrentEntry("orders");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->txid(), "1.2");
  auto status = c->GetTransactionStatus("1.2");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->status(), v1::TRANSACTION_STATUS_COMMITTED);
  EXPECT_EQ(c->LeaderHint(), cluster.server(0).address());
}

TEST(ClientTest, ErrorsThatRetryingCannotFixAreReturnedAtOnce) {
  testing::FakeCluster cluster;
  auto writer = MakeClient(cluster.Options("writer"));
  auto r = writer->Append("", "x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("collection_id"));
  EXPECT_EQ(writer->Append("c", "x", WithClaims("short")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(writer->GetEntry("1.9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(cluster.server(0).calls("Append"), 1);  // the bad digest never left the client
  EXPECT_EQ(cluster.server(0).calls("GetEntry"), 1);

  auto reader = MakeClient(cluster.Options("reader"));
  EXPECT_EQ(reader->Append("c", "x").status().code(), absl::StatusCode::kPermissionDenied);
  auto stranger = MakeClient(cluster.Options("stranger"));
  EXPECT_EQ(stranger->GetEntry("1.1").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(cluster.ledger().size(), 0u);
}

TEST(ClientTest, FollowsTheLeaderHintAndRemembersTheLeader) {
  testing::FakeCluster cluster(3);
  // The client knows only the followers; the leader is learned from the trailer.
  auto c = MakeClient(
      cluster.Options("writer", {cluster.server(1).address(), cluster.server(2).address()}));
  auto r = c->Append("c", "one");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(c->LeaderHint(), cluster.server(0).address());
  EXPECT_EQ(cluster.server(0).calls("Append"), 1);
  const int follower_calls = cluster.server(1).calls("Append") + cluster.server(2).calls("Append");
  EXPECT_GE(follower_calls, 1);  // normally server 1 alone: a follower named the leader
  ASSERT_TRUE(c->Append("c", "two").ok());
  EXPECT_EQ(cluster.server(0).calls("Append"), 2);  // straight to the leader now
  EXPECT_EQ(cluster.server(1).calls("Append") + cluster.server(2).calls("Append"), follower_calls);
}

TEST(ClientTest, LeaderChangeMovesTheClientToTheNewLeader) {
  testing::FakeCluster cluster(3);
  auto c = MakeClient(cluster.Options("writer"));
  ASSERT_TRUE(c->Append("c", "one").ok());
  // Node 0 steps down in favour of node 2.
  cluster.server(0).set_follower_of(cluster.server(2).address());
  cluster.server(1).set_follower_of(cluster.server(2).address());
  cluster.server(2).set_follower_of("");
  auto r = c->Append("c", "two");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(c->LeaderHint(), cluster.server(2).address());
  EXPECT_EQ(cluster.ledger().size(), 2u);
}

TEST(ClientTest, UnreachableEndpointIsSkipped) {
  testing::FakeCluster cluster;
  const std::string dead = "127.0.0.1:" + std::to_string(testing::PickFreePort());
  auto c = MakeClient(cluster.Options("writer", {dead, cluster.server(0).address()}));
  auto r = c->Append("c", "x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(c->LeaderHint(), cluster.server(0).address());
}

TEST(ClientTest, RetriesUnavailableWithGrowingBackoff) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.retry.initial_backoff_ms = 20;
  options.retry.backoff_multiplier = 2.0;
  options.retry.max_backoff_ms = 1000;
  options.retry.jitter = 0.0;
  auto c = MakeClient(options);
  cluster.server(0).FailNext(3, grpc::StatusCode::UNAVAILABLE, "Append");
  const absl::Time start = absl::Now();
  auto r = c->Append("c", "x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GE(MsSince(start), 20 + 40 + 80);
  EXPECT_EQ(cluster.server(0).calls("Append"), 4);
  EXPECT_EQ(cluster.ledger().size(), 1u);
}

TEST(ClientTest, GivesUpWhenTheTotalRetryTimeIsSpent) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.retry.total_timeout_ms = 1000;
  auto c = MakeClient(options);
  testing::Fault no_leader;  // a refusal: the append was not written
  no_leader.reason = v1::ERROR_REASON_NO_LEADER;
  cluster.server(0).Fail(1000000, no_leader);
  const absl::Time start = absl::Now();
  auto r = c->Append("c", "x");
  const int64_t elapsed = MsSince(start);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client::ReasonOf(r.status()), client::ErrorReason::kNoLeader);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("Append: gave up after"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("limit 1000 ms"));
  EXPECT_GE(cluster.server(0).calls("Append"), 3);
  EXPECT_LT(elapsed, 1000 + 1000);  // bounded: no attempt runs past the limit (+ scheduling)
  cluster.server(0).Fail(0, no_leader);
  // RESOURCE_EXHAUSTED (backpressure) is retried the same way.
  cluster.server(0).FailNext(2, grpc::StatusCode::RESOURCE_EXHAUSTED, "Append");
  EXPECT_TRUE(c->Append("c", "x").ok());
}

TEST(ClientTest, OneAttemptTimingOutIsRetriedWithTheSameKey) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.call_timeout_ms = 300;
  auto c = MakeClient(options);
  // The first attempt is held past its deadline and then committed anyway.
  cluster.server(0).HoldNextAppends(1);
  auto r = c->Append("c", "slow");
  ASSERT_TRUE(r.ok()) << r.status();
  // The held attempt, after the client's retry, finds the key taken; or the
  // retry finds the held attempt's entry. Either way: one entry, one txid.
  ASSERT_TRUE(testing::PollUntil([&] { return cluster.server(0).held_appends_done() == 1; },
                                 std::chrono::seconds(10), "the held attempt to reach the ledger")
                  .ok());
  EXPECT_EQ(cluster.ledger().size(), 1u);
  const auto keys = cluster.ledger().SeenKeys();
  ASSERT_GE(keys.size(), 2u);
  for (const std::string& key : keys) EXPECT_EQ(key, r->idempotency_key);
}

TEST(ClientTest, LostAnswersAreRetriedAndCommitExactlyOnce) {
  testing::FakeCluster cluster(2);
  auto c = MakeClient(cluster.Options("writer"));
  cluster.server(0).LoseNextAppendAnswers(2);  // applied, answer lost, twice
  auto r = c->Append("c", "once");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->txid, "1.1");
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(cluster.ledger().size(), 1u);
  const std::vector<std::string> keys = cluster.ledger().SeenKeys();
  ASSERT_THAT(keys, SizeIs(3));
  EXPECT_EQ(keys[0], keys[1]);
  EXPECT_EQ(keys[1], keys[2]);
  // A different logical append gets a different key.
  auto next = c->Append("c", "twice");
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->idempotency_key, r->idempotency_key);
}

TEST(ClientTest, CallerChosenKeyMakesARepeatAppendADuplicate) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  const client::AppendOptions options = WithKey("invoice-2026-0042");
  auto first = c->Append("invoices", "42", options);
  auto again = c->Append("invoices", "42", options);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->txid, again->txid);
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(cluster.ledger().size(), 1u);
}

TEST(ClientTest, ManyAsynchronousAppendsInFlight) {
  testing::FakeCluster cluster(2);
  auto c = MakeClient(cluster.Options("writer", {cluster.server(1).address()}));
  constexpr int kFutures = 200;
  std::vector<std::future<absl::StatusOr<client::AppendResult>>> futures;
  for (int i = 0; i < kFutures; ++i) {
    futures.push_back(c->AppendAsync("c", "f" + std::to_string(i)));
  }
  constexpr int kCallbacks = 100;
  absl::BlockingCounter callbacks(kCallbacks);
  absl::Mutex mu;
  std::set<std::string> txids;
  for (int i = 0; i < kCallbacks; ++i) {
    c->AppendAsync("c", "cb" + std::to_string(i), {}, [&](absl::StatusOr<client::AppendResult> r) {
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) {
        absl::MutexLock lock(&mu);
        txids.insert(r->txid);
      }
      callbacks.DecrementCount();
    });
  }
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status();
    absl::MutexLock lock(&mu);
    txids.insert(r->txid);
  }
  callbacks.Wait();
  EXPECT_THAT(txids, SizeIs(kFutures + kCallbacks));  // every append its own txid
  EXPECT_EQ(cluster.ledger().size(), static_cast<uint64_t>(kFutures + kCallbacks));
}

TEST(ClientTest, AppendsFromManyThreadsShareOneClient) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(c->Append("c", absl::StrCat(t, "-", i)).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cluster.ledger().size(), 200u);
}

TEST(ClientTest, InflightLimitRefusesCallsBeyondIt) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.inflight_calls_max = 1;
  options.call_timeout_ms = 500;
  auto c = MakeClient(options);
  cluster.server(0).HoldNextAppends(1);
  auto held = c->AppendAsync("c", "held");
  auto refused = c->Append("c", "refused");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("inflight_calls_max=1"));
  EXPECT_TRUE(held.get().ok());
}

TEST(ClientTest, DestroyingTheClientCancelsCallsInFlight) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.call_timeout_ms = 60000;
  options.retry.total_timeout_ms = 60000;
  options.retry.initial_backoff_ms = 10;
  options.retry.backoff_multiplier = 10;
  options.retry.max_backoff_ms = 60000;
  auto c = MakeClient(options);
  cluster.server(0).HoldNextAppends(1);
  auto held = c->AppendAsync("c", "held");  // waits in the node
  ASSERT_TRUE(testing::PollUntil([&] { return cluster.server(0).calls("Append") == 1; },
                                 std::chrono::seconds(10), "the first append to arrive")
                  .ok());
  // The next append is refused and backs off: 10, 100, 1000, then 10000 ms.
  cluster.server(0).FailNext(1000, grpc::StatusCode::UNAVAILABLE, "Append");
  auto backing_off = c->AppendAsync("c", "backing off");
  ASSERT_TRUE(testing::PollUntil([&] { return cluster.server(0).calls("Append") >= 5; },
                                 std::chrono::seconds(10), "the second append to back off")
                  .ok());
  const absl::Time start = absl::Now();
  c.reset();
  EXPECT_LT(MsSince(start), 5000);
  EXPECT_EQ(held.get().status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(backing_off.get().status().code(), absl::StatusCode::kCancelled);
}

TEST(ClientTest, ListEntriesIteratesAcrossPages) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(c->Append("c", "c" + std::to_string(i)).ok());
    if (i % 5 == 0) {
      ASSERT_TRUE(c->Append("d", "d" + std::to_string(i)).ok());
    }
  }
  ASSERT_TRUE(c->Append("e", "e").ok());
  client::EntryIterator it = c->ListEntries("c", Pages(7));
  std::vector<std::string> contents;
  v1::Entry e;
  while (it.Next(&e)) contents.push_back(e.contents());
  ASSERT_TRUE(it.status().ok()) << it.status();
  ASSERT_THAT(contents, SizeIs(25));
  for (int i = 0; i < 25; ++i) EXPECT_EQ(contents[i], "c" + std::to_string(i));
  EXPECT_EQ(it.pages(), 4u);

  client::EntryIterator limited = c->ListEntries("c", Pages(4, false, 10));
  int n = 0;
  while (limited.Next(&e)) {
    EXPECT_TRUE(e.contents().empty());
    ++n;
  }
  EXPECT_EQ(n, 10);
  EXPECT_EQ(limited.pages(), 3u);

  auto collections = c->ListCollections();  // the fake pages collections two at a time
  ASSERT_TRUE(collections.ok());
  ASSERT_THAT(*collections, SizeIs(3));
  EXPECT_EQ((*collections)[0].collection_id(), "c");
  EXPECT_EQ((*collections)[0].entry_count(), 25u);
  EXPECT_EQ((*collections)[1].entry_count(), 5u);
  EXPECT_EQ((*collections)[2].collection_id(), "e");
  EXPECT_EQ(cluster.server(0).calls("ListCollections"), 2);
}

TEST(ClientTest, ListEntriesReportsAFailedPage) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Append("c", "x").ok());
  client::EntryIterator it = c->ListEntries("c", Pages(2));
  v1::Entry e;
  ASSERT_TRUE(it.Next(&e));
  cluster.server(0).FailNext(1, grpc::StatusCode::PERMISSION_DENIED, "ListEntries");
  ASSERT_TRUE(it.Next(&e));
  EXPECT_FALSE(it.Next(&e));
  EXPECT_EQ(it.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(ClientTest, WaitForCommitPollsUntilFinal) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  cluster.ledger().set_pending_polls(3);
  auto r = c->Append("c", "later", NoWait());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, v1::TRANSACTION_STATUS_PENDING);
  auto final_status = c->WaitForCommit(r->txid, 5000);
  ASSERT_TRUE(final_status.ok()) << final_status.status();
  EXPECT_EQ(*final_status, v1::TRANSACTION_STATUS_COMMITTED);
  EXPECT_EQ(cluster.server(0).calls("GetTransactionStatus"), 4);

  EXPECT_EQ(*c->WaitForCommit("2.1", 5000), v1::TRANSACTION_STATUS_INVALID);
  const absl::Time start = absl::Now();
  auto unknown = c->WaitForCommit("1.99", 300);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("TRANSACTION_STATUS_UNKNOWN"));
  EXPECT_LT(MsSince(start), 300 + 1000);
}

TEST(ClientTest, ReceiptsAreVerifiedAndProveClaims) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  const std::string claims = R"({"document":"contract.pdf","sha256":"ab12"})";
  auto r = c->Append("notary", "contract.pdf", WithClaims(client::ClaimsDigest(claims)));
  ASSERT_TRUE(r.ok());
  auto receipt =
      c->GetReceipt(r->txid, Expecting(Expect("contract.pdf", client::ClaimsDigest(claims))));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->leaf().txid(), r->txid);

  // Offline, with only the service certificate.
  const std::string service_pem = c->service_certificate_pem();
  EXPECT_TRUE(client::VerifyReceipt(*receipt, service_pem).ok());
  EXPECT_TRUE(client::VerifyReceipt(*receipt, service_pem,
                                    Expect(std::nullopt, client::ClaimsDigest(claims)))
                  .ok());
  absl::Status wrong =
      client::VerifyReceipt(*receipt, service_pem, Expect(std::nullopt, client::ClaimsDigest("x")));
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("leaf: "));
  // Through JSON and back.
  auto parsed = client::ParseReceipt(client::ReceiptToJson(*receipt));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(
      client::VerifyReceipt(*parsed, service_pem, Expect("contract.pdf", std::nullopt)).ok());
  // A tampered receipt fails, naming the check.
  v1::Receipt tampered = *receipt;
  tampered.mutable_leaf()->set_collection_id("elsewhere");
  EXPECT_THAT(std::string(client::VerifyReceipt(tampered, service_pem).message()),
              HasSubstr("inclusion proof"));
  // A receipt against another service's certificate fails.
  const std::string foreign = testing::ReadFileOrEmpty(cluster.pki().ForeignUser().cert);
  EXPECT_FALSE(client::VerifyReceipt(*receipt, foreign).ok());

  // GetReceipt refuses a receipt that does not prove what the caller expects.
  auto mismatch = c->GetReceipt(r->txid, Expecting(Expect("other.pdf", std::nullopt)));
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Receipt files are replaced whole, through a temporary file of their own
// (the fixed "<file>.tmp" of old is taken here by a directory).
TEST(ClientTest, ReceiptFilesAreWrittenAtomically) {
  testing::FakeCluster cluster;
  auto c = MakeClient(cluster.Options("writer"));
  auto r = c->Append("notary", "contract.pdf");
  ASSERT_TRUE(r.ok());
  auto receipt = c->GetReceipt(r->txid);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  const std::string dir = cluster.dir() + "/receipts";
  std::filesystem::create_directories(dir + "/r.json.tmp");
  ASSERT_TRUE(client::WriteReceiptFile(dir + "/r.json", *receipt).ok());
  ASSERT_TRUE(client::WriteReceiptFile(dir + "/r.json", *receipt).ok());  // replaces
  auto read = client::ReadReceiptFile(dir + "/r.json");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->leaf().txid(), r->txid);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("r.json", "r.json.tmp"));
  absl::Status missing = client::WriteReceiptFile(dir + "/none/r.json", *receipt);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("/none"));
}

TEST(ClientTest, CreateRejectsBadOptions) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.endpoints.clear();
  EXPECT_THAT(std::string(Client::Create(options).status().message()), HasSubstr("endpoints"));
  options = cluster.Options("writer");
  options.credentials.cert_file = cluster.dir() + "/missing.pem";
  EXPECT_EQ(Client::Create(options).status().code(), absl::StatusCode::kNotFound);
  options = cluster.Options("writer");
  options.retry.backoff_multiplier = 0.5;
  EXPECT_THAT(std::string(Client::Create(options).status().message()),
              HasSubstr("retry.backoff_multiplier"));
  options = cluster.Options("writer");
  options.credentials.service_cert_pem = "-----BEGIN CERTIFICATE-----\nnope\n";
  EXPECT_THAT(std::string(Client::Create(options).status().message()),
              HasSubstr("service certificate"));
}

TEST(ClientTest, CredentialsMayBeGivenAsPemText) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.credentials.cert_pem = testing::ReadFileOrEmpty(options.credentials.cert_file);
  options.credentials.key_pem = testing::ReadFileOrEmpty(options.credentials.key_file);
  options.credentials.service_cert_pem =
      testing::ReadFileOrEmpty(options.credentials.service_cert_file);
  options.credentials.cert_file = options.credentials.key_file = "/nonexistent";
  auto c = MakeClient(options);
  EXPECT_TRUE(c->Append("c", "x").ok());
}

TEST(ClientTest, ServerCertificateMustBeIssuedByThePinnedService) {
  testing::FakeCluster cluster;
  client::ClientOptions options = cluster.Options("writer");
  options.credentials.service_cert_file = cluster.pki().ForeignUser().cert;  // wrong pin
  options.retry.total_timeout_ms = 500;
  auto c = MakeClient(options);
  // Final at once (not retried until the deadline), naming the problem.
  const absl::Status st = c->Append("c", "x").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
  EXPECT_THAT(std::string(st.message()),
              ::testing::HasSubstr("presented a certificate the pinned service certificate did "
                                   "not issue"));
  EXPECT_EQ(cluster.ledger().size(), 0u);
}

}  // namespace
}  // namespace cairn
