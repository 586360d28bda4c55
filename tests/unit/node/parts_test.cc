// Smaller node parts: the wire codec of Raft messages, request validation,
// index waiters, the command line and config file, --initial-cluster.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cairn/node/config.h"
#include "errors/status.h"
#include "peer/raft_codec.h"
#include "raft/index_waiters.h"
#include "service/node_cache.h"
#include "service/validation.h"
#include "setup/bootstrap.h"
#include "testing/temp_dir.h"

namespace cairn::node {
namespace {

using ::testing::HasSubstr;

TEST(RaftCodecTest, EveryMessageFieldRoundTrips) {
  consensus::Message m;
  m.type = consensus::MessageType::kSnapshot;
  m.from = 3;
  m.to = 1;
  m.term = 9;
  m.log_term = 8;
  m.index = 77;
  m.commit = 70;
  m.reject = true;
  m.reject_hint = 12;
  m.reject_hint_term = 4;
  m.context = std::string("ctx\0x", 5);
  m.entries.push_back({9, 78, "payload", std::nullopt});
  m.entries.push_back(
      {9, 79, "gov", consensus::ConfChange{consensus::ConfChange::Kind::kPromoteLearner, 4}});
  m.snapshot = {76, 8, {{1, 2, 3}, {4}}};
  v1::RaftMessage wire;
  ToProto(m, &wire);
  v1::RaftMessage reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(wire.SerializeAsString()));
  auto back = FromProto(reparsed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(RaftCodecTest, UnknownEnumValuesAreRejected) {
  v1::RaftMessage wire;
  wire.set_type(static_cast<v1::RaftMessageType>(99));
  EXPECT_EQ(FromProto(wire).status().code(), absl::StatusCode::kInvalidArgument);
  v1::RaftEntry entry;
  entry.set_type(v1::RAFT_ENTRY_TYPE_CONF_CHANGE);
  EXPECT_EQ(FromProto(entry).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidationTest, AppendLimitsNameTheSetting) {
  NodeConfig config;
  config.entry_bytes_max = 4;
  v1::AppendRequest req;
  req.set_collection_id("c");
  req.set_contents("12345");
  EXPECT_THAT(std::string(ValidateAppend(req, config).message()), HasSubstr("entry_bytes_max=4"));
  req.set_contents("1234");
  EXPECT_TRUE(ValidateAppend(req, config).ok());
  req.set_claims_digest("short");
  EXPECT_THAT(std::string(ValidateAppend(req, config).message()), HasSubstr("claims_digest"));
  req.set_claims_digest("");
  req.set_idempotency_key(std::string(129, 'k'));
  EXPECT_THAT(std::string(ValidateAppend(req, config).message()),
              HasSubstr("idempotency_key_bytes_max=128"));
  EXPECT_THAT(std::string(ValidatePageSize(1001, config).message()), HasSubstr("page_size_max"));
  EXPECT_TRUE(ValidatePageSize(0, config).ok());
}

TEST(ValidationTest, BatchErrorsNameTheEntryAndTheLimit) {
  NodeConfig config;
  config.append_batch_entries_max = 3;
  config.append_batch_bytes_max = 1024;
  v1::AppendBatchRequest req;
  auto reason_of = [](const absl::Status& st) { return ErrorInfoOf(st).value_or(v1::ErrorInfo{}); };
  absl::Status st = ValidateAppendBatch(req, config);
  EXPECT_THAT(std::string(st.message()), HasSubstr("entries is empty"));
  for (int i = 0; i < 3; ++i) {
    v1::AppendBatchEntry* e = req.add_entries();
    e->set_collection_id("c");
    e->set_contents("x");
    e->set_idempotency_key(absl::StrCat("k", i));
  }
  EXPECT_TRUE(ValidateAppendBatch(req, config).ok());

  req.mutable_entries(1)->set_contents("");
  st = ValidateAppendBatch(req, config);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "entries[1]: contents is empty");
  EXPECT_EQ(reason_of(st).reason(), "INVALID_REQUEST");
  EXPECT_EQ(reason_of(st).metadata().at("entry_index"), "1");
  EXPECT_EQ(reason_of(st).metadata().at("field"), "entries[1].contents");
  req.mutable_entries(1)->set_contents("x");

  req.mutable_entries(2)->set_collection_id("cairn.governance");
  st = ValidateAppendBatch(req, config);
  EXPECT_THAT(std::string(st.message()), HasSubstr("entries[2]: "));
  EXPECT_THAT(std::string(st.message()), HasSubstr("reserved"));
  req.mutable_entries(2)->set_collection_id("c");

  req.mutable_entries(2)->set_idempotency_key("k0");
  st = ValidateAppendBatch(req, config);
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("entries[2]: idempotency_key is also the key of entries[0]"));
  req.mutable_entries(2)->set_idempotency_key("k2");

  req.mutable_entries(0)->set_claims_digest("short");
  EXPECT_EQ(reason_of(ValidateAppendBatch(req, config)).metadata().at("field"),
            "entries[0].claims_digest");
  req.mutable_entries(0)->set_claims_digest("");

  req.add_entries()->CopyFrom(req.entries(0));
  req.mutable_entries(3)->set_idempotency_key("k3");
  st = ValidateAppendBatch(req, config);
  EXPECT_THAT(std::string(st.message()), HasSubstr("append_batch_entries_max=3"));
  EXPECT_EQ(reason_of(st).reason(), "LIMIT_EXCEEDED");
  req.mutable_entries()->RemoveLast();

  req.mutable_entries(0)->set_contents(std::string(1100, 'x'));
  st = ValidateAppendBatch(req, config);
  EXPECT_THAT(std::string(st.message()), HasSubstr("append_batch_bytes_max=1024"));
  req.mutable_entries(0)->set_contents("x");

  req.set_wait(static_cast<v1::AppendWait>(7));
  EXPECT_THAT(std::string(ValidateAppendBatch(req, config).message()), HasSubstr("wait"));
}

TEST(IndexWaitersTest, RunsOnReachDeadlineOrFailureAndIsBounded) {
  IndexWaiters waiters(2);
  const auto now = IndexWaiters::Clock::now();
  std::vector<std::string> events;
  auto record = [&](std::string name) {
    return [&events, name](absl::Status s) {
      events.push_back(name + ":" +
                       (s.ok() ? "ok" : std::string(absl::StatusCodeToString(s.code()))));
    };
  };
  ASSERT_TRUE(waiters.Wait(5, now + std::chrono::hours(1), record("five")).ok());
  ASSERT_TRUE(waiters.Wait(9, now + std::chrono::milliseconds(1), record("nine")).ok());
  EXPECT_EQ(waiters.Wait(7, now, record("full")).code(), absl::StatusCode::kResourceExhausted);
  waiters.Advance(6);
  waiters.Expire(now + std::chrono::seconds(1));
  ASSERT_TRUE(waiters.Wait(3, now, record("past")).ok());  // already reached: at once
  waiters.Advance(4);                                      // never backwards
  EXPECT_EQ(waiters.reached(), 6u);
  EXPECT_THAT(events, ::testing::ElementsAre("five:ok", "nine:DEADLINE_EXCEEDED", "past:ok"));
}

// The pump answers waiters on its own thread (not the applying one), never
// moves an index backwards, and delivers what was posted before it stops.
TEST(WaiterPumpTest, AnswersOnItsOwnThreadAndDeliversBeforeStopping) {
  IndexWaiters applied(8), signed_waiters(8);
  std::atomic<int> signed_moves{0};
  WaiterPump pump(&applied, &signed_waiters, [&] { signed_moves++; });
  pump.Start();
  const auto later = IndexWaiters::Clock::now() + std::chrono::hours(1);
  absl::Notification answered;
  std::thread::id answered_on;
  ASSERT_TRUE(applied
                  .Wait(3, later,
                        [&](absl::Status s) {
                          EXPECT_TRUE(s.ok()) << s;
                          answered_on = std::this_thread::get_id();
                          answered.Notify();
                        })
                  .ok());
  pump.Post(3, 0);
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_NE(answered_on, std::this_thread::get_id());
  EXPECT_EQ(signed_moves.load(), 0) << "the signed index has not moved";

  bool receipt = false;
  ASSERT_TRUE(signed_waiters.Wait(2, later, [&](absl::Status s) { receipt = s.ok(); }).ok());
  pump.Post(1, 2);  // an older applied index is ignored
  pump.Stop();
  EXPECT_TRUE(receipt);
  EXPECT_EQ(signed_moves.load(), 1);
  EXPECT_EQ(applied.reached(), 3u);
  EXPECT_EQ(signed_waiters.reached(), 2u);
}

int Parse(const std::vector<std::string>& args, NodeConfig* config, std::string* err) {
  std::vector<const char*> argv = {"cairn-node"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, errs;
  const int rc =
      ParseNodeCommandLine(static_cast<int>(argv.size()), argv.data(), config, out, errs);
  *err = errs.str();
  return rc;
}

TEST(NodeConfigTest, FlagsOverrideYamlAndErrorsNameTheField) {
  testing::TempDir tmp;
  for (const char* f : {"/c.pem", "/k.pem", "/s.pem"}) std::ofstream(tmp.path() + f) << "x";
  const std::vector<std::string> tls = {"--tls-cert-file=" + tmp.path() + "/c.pem",
                                        "--tls-key-file=" + tmp.path() + "/k.pem",
                                        "--service-cert-file=" + tmp.path() + "/s.pem",
                                        "--initial-cluster=1@127.0.0.1:1/127.0.0.1:2"};
  const std::string file = tmp.path() + "/node.yaml";
  std::ofstream(file) << "node_id: 7\nsignature_interval_ms: 250\ntick_ms: 20\n";
  NodeConfig config;
  std::string err;
  auto args = tls;
  args.push_back("--config=" + file);
  args.push_back("--tick-ms=40");
  ASSERT_EQ(Parse(args, &config, &err), -1) << err;
  EXPECT_EQ(config.node_id, 7u);
  EXPECT_EQ(config.signature_interval_ms, 250u);
  EXPECT_EQ(config.tick_ms, 40u);  // the flag wins

  args = tls;
  args.push_back("--initial-cluster=1@nohost/127.0.0.1:2");
  EXPECT_EQ(Parse(args, &config, &err), 2);
  args = tls;
  args.push_back("--heartbeat-ticks=20");
  EXPECT_EQ(Parse(args, &config, &err), 2);
  EXPECT_THAT(err, HasSubstr("--heartbeat-ticks"));
  args = tls;
  args.push_back("--proof-cache-nodes-max=" + std::to_string((uint64_t{1} << 26) + 1));
  EXPECT_EQ(Parse(args, &config, &err), 2);
  EXPECT_THAT(err, HasSubstr("--proof-cache-nodes-max"));

  // Peer routes: ID=HOST:PORT, repeated or comma-separated.
  args = tls;
  args.push_back("--peer-route=2=127.0.0.1:9002,3=127.0.0.1:9003");
  NodeConfig routed;
  ASSERT_EQ(Parse(args, &routed, &err), -1) << err;
  EXPECT_THAT(routed.peer_routes, ::testing::ElementsAre("2=127.0.0.1:9002", "3=127.0.0.1:9003"));
  for (const char* bad : {"--peer-route=0=127.0.0.1:9", "--peer-route=x=127.0.0.1:9",
                          "--peer-route=2", "--peer-route=2=nohost"}) {
    args = tls;
    args.push_back(bad);
    err.clear();
    EXPECT_EQ(Parse(args, &config, &err), 2) << bad;
    EXPECT_THAT(err, HasSubstr("--peer-route")) << bad;
  }
  // The test-only bug switch takes only the name it knows, and no help shows it.
  args = tls;
  args.push_back("--test-inject-bug=something-else");
  EXPECT_EQ(Parse(args, &config, &err), 2);
}

// A malformed config file is a usage error (exit 2) that names the problem,
// never a crash, whatever shape the YAML takes.
TEST(NodeConfigTest, MalformedConfigFilesAreUsageErrorsNamingTheProblem) {
  testing::TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no_such_field: 1\n", "no_such_field"},
      {"node_id: [1, [2]]\n", "node_id"},
      {"node_id:\n  nested: 1\n", "node_id"},
      {"? [a, b]\n: 1\n", "plain field name"},
      {"node_id: 1\n  bad indent: 2\n", "line"},
      {"- just\n- a list\n", "mapping"},
      {"node_id: many\n", "node"},
  };
  for (const auto& [yaml, expected] : cases) {
    const std::string file = tmp.path() + "/bad.yaml";
    std::ofstream(file, std::ios::trunc) << yaml;
    NodeConfig config;
    std::string err;
    EXPECT_EQ(Parse({"--config=" + file}, &config, &err), 2) << yaml;
    EXPECT_THAT(err, HasSubstr(expected)) << yaml;
  }
}

// Counts reads that reach the store behind the cache.
class CountingReader final : public ledger::MerkleNodeReader {
 public:
  absl::StatusOr<ledger::Hash> ReadNode(uint32_t level, uint64_t index) const override {
    ++reads;
    if (index >= 100) return absl::NotFoundError("no such node");
    ledger::Hash h{};
    h[0] = static_cast<uint8_t>(level);
    h[1] = static_cast<uint8_t>(index);
    return h;
  }
  mutable int reads = 0;
};

TEST(CachedNodeReaderTest, UpperLevelsAreReadOnceAndTheCacheIsBounded) {
  CountingReader store;
  CachedNodeReader cache(&store, /*levels_min=*/6, /*entries_max=*/16 * 2);
  for (int round = 0; round < 3; ++round) {
    auto h = cache.ReadNode(7, 3);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ((*h)[0], 7);
    EXPECT_EQ((*h)[1], 3);
  }
  EXPECT_EQ(store.reads, 1);  // cached after the first read
  for (int round = 0; round < 3; ++round) ASSERT_TRUE(cache.ReadNode(2, 3).ok());
  EXPECT_EQ(store.reads, 4);  // below levels_min: always read through
  EXPECT_TRUE(absl::IsNotFound(cache.ReadNode(9, 500).status()));
  EXPECT_TRUE(absl::IsNotFound(cache.ReadNode(9, 500).status()));  // misses are not cached
  EXPECT_EQ(store.reads, 6);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_TRUE(cache.ReadNode(8, i).ok());
  EXPECT_LE(cache.size(), 32u);
}

TEST(BootstrapTest, InitialClusterParsesAndRefusesRepeats) {
  auto members = ParseInitialCluster({"1@127.0.0.1:7201/127.0.0.1:7101", "2@h:2/h:3"});
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].peer_address(), "127.0.0.1:7201");
  EXPECT_EQ((*members)[0].client_address(), "127.0.0.1:7101");
  EXPECT_EQ((*members)[1].membership(), v1::MEMBERSHIP_VOTER);
  EXPECT_THAT(std::string(ParseInitialCluster({"1@a:1/b:2", "1@c:3/d:4"}).status().message()),
              HasSubstr("appears twice"));
}

TEST(BootstrapTest, InitialClusterRegions) {
  auto members = ParseInitialCluster({"1@h:1/h:2/eu-west", "2@h:3/h:4"});
  ASSERT_TRUE(members.ok()) << members.status();
  EXPECT_EQ((*members)[0].client_address(), "h:2");
  EXPECT_EQ((*members)[0].region(), "eu-west");
  EXPECT_EQ((*members)[1].region(), "");
  EXPECT_THAT(std::string(ParseInitialCluster({"1@h:1/h:2/bad region"}).status().message()),
              HasSubstr("--initial-cluster region"));
}

}  // namespace
}  // namespace cairn::node
