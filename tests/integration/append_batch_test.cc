// AppendBatch end to end against a real three-node cluster (mutual TLS):
// through the SDK (each entry its own txid, contents and verified receipt;
// retries write only what is missing; bad batches are refused whole and
// write nothing; a follower forwards) and through cairnctl append --batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cairn/client/verify.h"
#include "cairn/ledger/txid.h"
#include "client_cluster_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

class AppendBatchTest : public ClientClusterTest {
 protected:
  // Entries in `collection` of this ledger, by listing them.
  size_t CountEntries(client::Client& c, const std::string& collection) {
    size_t n = 0;
    client::EntryIterator it = c.ListEntries(collection);
    v1::Entry entry;
    while (it.Next(&entry)) ++n;
    CAIRN_CHECK_OK(it.status());
    return n;
  }

  static std::vector<client::BatchEntry> Entries(const std::string& collection, int n,
                                                 const std::string& tag) {
    std::vector<client::BatchEntry> out(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      out[static_cast<size_t>(i)].collection_id = collection;
      out[static_cast<size_t>(i)].contents = absl::StrCat(tag, "-", i);
    }
    return out;
  }

  // The entry just before `txid` is `previous`, or a service entry.
  void ExpectNoCopyBefore(const std::string& txid, const std::string& previous) {
    auto c = MakeClient(Options());
    const auto parsed = ledger::TxId::Parse(txid);
    ASSERT_TRUE(parsed.ok());
    // (No leader changes in these tests: the entry before is of the same term.)
    const std::string before = absl::StrCat(parsed->term, ".", parsed->index - 1);
    if (before == previous) return;
    auto entry = c->GetEntry(before);
    ASSERT_TRUE(entry.ok()) << before << ": " << entry.status();
    EXPECT_TRUE(absl::StartsWith(entry->collection_id(), "cairn."))
        << "entry " << before << " before " << txid << " is a copy in " << entry->collection_id()
        << ": " << entry->contents();
  }

  static std::string ReasonMetadata(const absl::Status& st, const std::string& key) {
    return client::ErrorMetadata(st, key).value_or("");
  }
};

TEST_F(AppendBatchTest, EachEntryGetsItsOwnTxidAndAVerifiedReceipt) {
  auto c = MakeClient(Options());
  std::vector<client::BatchEntry> entries = Entries("orders", 40, "order");
  for (int i = 0; i < 10; ++i) entries[static_cast<size_t>(i)].collection_id = "invoices";
  entries[5].claims_digest = client::ClaimsDigest("claims of entry 5");
  const std::vector<client::BatchEntry> sent = entries;
  auto results = c->AppendBatch(entries);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), sent.size());

  // New entries take consecutive indexes, in order, in one term.
  std::optional<ledger::TxId> previous;
  std::set<std::string> keys;
  for (size_t i = 0; i < sent.size(); ++i) {
    const client::AppendResult& r = (*results)[i];
    EXPECT_EQ(r.status, v1::TRANSACTION_STATUS_COMMITTED);
    EXPECT_FALSE(r.duplicate);
    keys.insert(r.idempotency_key);
    auto txid = ledger::TxId::Parse(r.txid);
    ASSERT_TRUE(txid.ok()) << r.txid;
    if (previous) {
      EXPECT_EQ(txid->index, previous->index + 1);
      EXPECT_EQ(txid->term, previous->term);
    }
    previous = *txid;
  }
  EXPECT_EQ(keys.size(), sent.size());  // each entry its own key

  for (size_t i = 0; i < sent.size(); ++i) {
    auto entry = c->GetEntry((*results)[i].txid);
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(entry->collection_id(), sent[i].collection_id);
    EXPECT_EQ(entry->contents(), sent[i].contents);
    EXPECT_EQ(entry->claims_digest(), sent[i].claims_digest);
    client::ReceiptOptions receipt_options;
    receipt_options.wait = true;
    receipt_options.expect.contents = sent[i].contents;
    receipt_options.expect.claims_digest = sent[i].claims_digest;
    auto receipt = c->GetReceipt((*results)[i].txid, receipt_options);
    ASSERT_TRUE(receipt.ok()) << i << ": " << receipt.status();
  }
  EXPECT_EQ(CountEntries(*c, "invoices"), 10u);
  EXPECT_EQ(CountEntries(*c, "orders"), 30u);

  // Asynchronously, and not waiting for commit: PENDING, then committed.
  client::AppendBatchOptions no_wait;
  no_wait.wait_for_commit = false;
  auto pending = c->AppendBatchAsync(Entries("orders", 3, "later"), no_wait).get();
  ASSERT_TRUE(pending.ok()) << pending.status();
  for (const auto& r : *pending) {
    EXPECT_EQ(r.status, v1::TRANSACTION_STATUS_PENDING);
    auto status = c->WaitForCommit(r.txid);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(*status, v1::TRANSACTION_STATUS_COMMITTED);
  }
}

TEST_F(AppendBatchTest, ARetriedBatchWritesOnlyWhatIsMissing) {
  auto c = MakeClient(Options());
  client::AppendBatchOptions options;
  options.idempotency_key = "batch-1";
  auto first = c->AppendBatch(Entries("retry", 5, "v"), options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)[2].idempotency_key, "batch-1/2");

  // The same batch again, two entries longer: five duplicates, two new.
  auto again = c->AppendBatch(Entries("retry", 7, "v"), options);
  ASSERT_TRUE(again.ok()) << again.status();
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE((*again)[i].duplicate) << i;
    EXPECT_EQ((*again)[i].txid, (*first)[i].txid) << i;
  }
  EXPECT_FALSE((*again)[5].duplicate);
  EXPECT_FALSE((*again)[6].duplicate);
  EXPECT_EQ(CountEntries(*c, "retry"), 7u);
  // The duplicates were answered from the ledger, not written again as
  // leaves: what precedes the first new entry is the first batch's last
  // entry, or a service entry (a signature), never a copy of a user entry.
  ExpectNoCopyBefore((*again)[5].txid, (*first)[4].txid);

  // The same for a single Append retried with its key.
  client::AppendOptions keyed;
  keyed.idempotency_key = "single-1";
  auto one = c->Append("retry", "single", keyed);
  ASSERT_TRUE(one.ok()) << one.status();
  auto retried = c->Append("retry", "single", keyed);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->duplicate);
  EXPECT_EQ(retried->txid, one->txid);
  auto next = c->Append("retry", "next");
  ASSERT_TRUE(next.ok()) << next.status();
  ExpectNoCopyBefore(next->txid, one->txid);
  auto after_single = CountEntries(*c, "retry");
  EXPECT_EQ(after_single, 9u);

  // A key reused for other contents: the whole batch is refused, naming
  // the entry, and the new entry before it is not written either.
  std::vector<client::BatchEntry> reused = Entries("retry", 2, "other");
  reused[0].idempotency_key = "fresh-key";
  reused[1].idempotency_key = "batch-1/3";
  auto refused = c->AppendBatch(reused, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(client::ReasonOf(refused.status()), client::ErrorReason::kIdempotencyKeyReused);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("entries[1]"));
  EXPECT_EQ(ReasonMetadata(refused.status(), "entry_index"), "1");
  EXPECT_EQ(CountEntries(*c, "retry"), after_single);
}

TEST_F(AppendBatchTest, BadBatchesAreRefusedWholeAndWriteNothing) {
  AddUser("reader", v1::ROLE_READER);
  auto c = MakeClient(Options());
  // A one-entry write first, so the collection exists and counts are exact.
  ASSERT_TRUE(c->Append("bad", "seed").ok());

  struct Case {
    std::string name;
    std::vector<client::BatchEntry> entries;
    std::string message;      // a part of the error message
    std::string entry_index;  // ErrorInfo metadata; empty when about the whole batch
  };
  std::vector<Case> cases;
  cases.push_back({"empty batch", {}, "entries is empty", ""});
  cases.push_back({"too many", Entries("bad", 1001, "x"), "append_batch_entries_max=1000", ""});
  {
    // 4 x 1 MiB: just over the default 4 MiB, within what the transport takes.
    std::vector<client::BatchEntry> big = Entries("bad", 4, "x");
    for (auto& e : big) e.contents = std::string(1 << 20, 'b');
    cases.push_back({"too many bytes", big, "append_batch_bytes_max=4194304", ""});
  }
  {
    std::vector<client::BatchEntry> e = Entries("bad", 5, "x");
    e[3].contents.clear();
    cases.push_back({"empty contents", e, "entries[3]: contents is empty", "3"});
  }
  {
    std::vector<client::BatchEntry> e = Entries("bad", 5, "x");
    e[4].collection_id = "cairn.governance";
    cases.push_back({"reserved collection", e, "entries[4]: ", "4"});
  }
  {
    std::vector<client::BatchEntry> e = Entries("bad", 5, "x");
    e[1].collection_id = "bad\xff";
    cases.push_back({"invalid UTF-8", e, "not valid UTF-8", "1"});
  }
  {
    std::vector<client::BatchEntry> e = Entries("bad", 5, "x");
    e[0].idempotency_key = "same";
    e[2].idempotency_key = "same";
    cases.push_back({"shared key", e, "also the key of entries[0]", "2"});
  }
  {
    std::vector<client::BatchEntry> e = Entries("bad", 5, "x");
    e[2].contents = std::string((1 << 20) + 1, 'c');
    cases.push_back({"oversized entry", e, "entries[2]: contents is", "2"});
  }
  for (const Case& k : cases) {
    auto r = c->AppendBatch(k.entries);
    ASSERT_FALSE(r.ok()) << k.name;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << k.name;
    EXPECT_TRUE(client::DefinitelyNotWritten(r.status())) << k.name;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(k.message)) << k.name;
    EXPECT_EQ(ReasonMetadata(r.status(), "entry_index"), k.entry_index) << k.name;
  }
  // The SDK's own check, before sending.
  std::vector<client::BatchEntry> short_claims = Entries("bad", 2, "x");
  short_claims[1].claims_digest = "short";
  auto r = c->AppendBatch(short_claims);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("entries[1].claims_digest"));
  // A batch key too long to leave room for "/<position>", refused by the SDK.
  client::AppendBatchOptions long_key;
  long_key.idempotency_key = std::string(101, 'k');
  r = c->AppendBatch(Entries("bad", 2, "x"), long_key);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("the limit is 100"));
  // A Reader may not append.
  auto reader = MakeClient(Options("reader"));
  r = reader->AppendBatch(Entries("bad", 2, "x"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();

  EXPECT_EQ(CountEntries(*c, "bad"), 1u);
}

TEST_F(AppendBatchTest, AFollowerForwardsTheBatchToTheLeader) {
  const uint64_t leader = Leader();
  const uint64_t follower = leader == 1 ? 2 : 1;
  client::ClientOptions options = Options();
  options.endpoints = {cluster_->node(follower).client_address()};
  auto c = MakeClient(options);
  auto results = c->AppendBatch(Entries("forwarded", 20, "f"));
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 20u);
  auto entry = c->GetEntry(results->back().txid);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->contents(), "f-19");
}

TEST_F(AppendBatchTest, CairnctlAppendsAJsonLinesFile) {
  const std::string file = tmp_.path() + "/batch.jsonl";
  std::ofstream(file) << R"({"contents": "one"})"
                      << "\n"
                      << R"({"contents_hex": "74776f", "collection_id": "other"})"
                      << "\n"
                      << "\n"
                      << R"({"contents": "three", "claims_digest": ")" << std::string(64, 'a')
                      << R"("})"
                      << "\n";
  CommandResult r =
      Cairnctl({"append", "lines", "--batch", file, "--batch-size", "2", "--idempotency-key", "K"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> out = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(out.size(), 3u) << r.out;
  for (const std::string& line : out) EXPECT_THAT(line, HasSubstr(" COMMITTED")) << line;
  const std::string second_txid = out[1].substr(0, out[1].find(' '));
  EXPECT_EQ(Cairnctl({"get", second_txid}).out, "two\n");

  // The same file and key again: written once, answered as duplicates, in JSON.
  r = Cairnctl({"append", "lines", "--batch", file, "--idempotency-key", "K", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  out = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(out.size(), 3u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(out[2])["line"], 4);
  EXPECT_EQ(nlohmann::json::parse(out[2])["duplicate"], true);
  EXPECT_EQ(nlohmann::json::parse(out[2])["idempotency_key"], "K/4");

  // A bad line anywhere: usage error naming it, and nothing sent.
  const std::string bad = tmp_.path() + "/bad.jsonl";
  std::ofstream(bad) << R"({"contents": "fine"})"
                     << "\n"
                     << R"({"contents": 3})"
                     << "\n";
  r = Cairnctl({"append", "lines", "--batch", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 2: \"contents\" must be a string"));
  std::ofstream(bad) << R"({"contents": "fine"})"
                     << "\n"
                     << "not json"
                     << "\n";
  r = Cairnctl({"append", "--batch", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 1: no collection_id"));
  r = Cairnctl({"append", "lines", "--batch", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("line 2: not a JSON object"));
  r = Cairnctl({"append", "lines", "extra", "--batch", file});
  EXPECT_EQ(r.exit_code, 2);
  r = Cairnctl({"collections", "--json"});
  for (const auto& c : nlohmann::json::parse(r.out)["collections"]) {
    if (c["collection_id"] == "lines") {
      EXPECT_EQ(c["entry_count"], 2u);
    }
  }
}

}  // namespace
}  // namespace cairn::testing
