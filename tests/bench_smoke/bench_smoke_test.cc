// bench-smoke: every benchmark runs for a few seconds against the real thing
// and must report real work, so the harness cannot rot unnoticed:
//   - the histogram keeps its precision promise (1.6 %);
//   - cairn-bench drives a three-node cluster through every workload with
//     more than zero successes and zero errors, and counts errors when every
//     request is refused (the check that the checker can fail); with
//     --batch 10 every request writes 10 distinct entries, and a batch over
//     the server's limit is counted as an error;
//   - limits reports positive floors;
//   - ledger_bench and storage_bench run with a tiny min_time;
//   - bench/scaling.sh --smoke and one-cell bench/compare-etcd.sh runs (one
//     with --batch 10: AppendBatch against etcd's Txn) run end to end and
//     print their tables.
// Each CTest entry runs one test suite of this binary (--gtest_filter).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>

#include "load/histogram.h"
#include "testing/cluster.h"
#include "testing/process.h"
#include "testing/stubs.h"
#include "testing/temp_dir.h"

namespace cairn::testing {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  const std::string text = ReadFileOrEmpty(path);
  if (text.empty()) return nlohmann::json();
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string SourcePath(const std::string& relative) {
  const char* dir = std::getenv("CAIRN_SOURCE_DIR");
  return std::string(dir ? dir : ".") + "/" + relative;
}

// A cairn-bench report of a --batch run without errors: it names the batch,
// and its entries/s is requests/s times the batch.
void ExpectCleanBatchReport(const nlohmann::json& j, int batch) {
  ASSERT_TRUE(j.is_object()) << "no JSON report";
  EXPECT_EQ(j["batch"].get<int>(), batch);
  EXPECT_GT(j["ok"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["errors"].get<uint64_t>(), 0u) << j.value("first_error", "");
  const double requests_per_s = j["throughput_per_s"].get<double>();
  EXPECT_GT(requests_per_s, 0);
  EXPECT_NEAR(j["entries_per_s"].get<double>(), batch * requests_per_s,
              1e-9 * batch * requests_per_s);
}

// ------------------------------------------------------------- histogram

TEST(Histogram, QuantilesAreWithinOneSlotOfTheTruth) {
  bench::LatencyHistogram h;
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(13.0, 1.5);  // ~0.4 ms median, long tail
  std::vector<uint64_t> values;
  for (int i = 0; i < 200000; ++i) {
    values.push_back(static_cast<uint64_t>(dist(rng)));
    h.Record(values.back());
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto rank = static_cast<size_t>(std::ceil(q * values.size())) - 1;
    const double truth = static_cast<double>(values[rank]);
    const double got = static_cast<double>(h.ValueAtQuantile(q));
    EXPECT_GE(got, truth) << "q=" << q;
    EXPECT_LE(got, truth * (1 + 1.0 / 64) + 1) << "q=" << q;
  }
  EXPECT_EQ(h.max_ns(), values.back());
  EXPECT_EQ(h.ValueAtQuantile(1.0), values.back());
  EXPECT_EQ(h.count(), values.size());
}

TEST(Histogram, SlotsTileTheRange) {
  using H = bench::LatencyHistogram;
  // Every slot starts right after the previous one ends, up to 2^64 - 1.
  for (size_t slot = 1; slot < H::kSlots; ++slot) {
    const uint64_t first = H::HighestInSlot(slot - 1) + 1;
    ASSERT_EQ(H::SlotOf(first), slot) << "slot " << slot;
    ASSERT_EQ(H::SlotOf(H::HighestInSlot(slot)), slot) << "slot " << slot;
  }
  EXPECT_EQ(H::HighestInSlot(H::kSlots - 1), ~uint64_t{0});
}

// ------------------------------------------------------------- cairn-bench

class CairnBench : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    cluster_ = new TestCluster(dir_->path(), 3);
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete dir_;
  }

  // Runs cairn-bench as `user`; returns its JSON report (null if none).
  static nlohmann::json Run(const std::vector<std::string>& args, int* exit_code,
                            const std::string& user = "admin") {
    const std::string json = dir_->path() + "/bench.json";
    std::remove(json.c_str());
    const CertFiles creds = cluster_->pki().User(user);
    std::vector<std::string> argv = {
        BinaryPath("bench/cairn-bench"), "--cert=" + creds.cert, "--key=" + creds.key,
        "--service-cert=" + cluster_->pki().service_cert(), "--json-out=" + json};
    for (const auto& e : cluster_->Endpoints()) argv.push_back(e);
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = RunCommand(argv, "", std::chrono::seconds(120));
    *exit_code = r.exit_code;
    std::cerr << r.out << r.err;
    return ReadJson(json);
  }

  static TempDir* dir_;
  static TestCluster* cluster_;
};
TempDir* CairnBench::dir_ = nullptr;
TestCluster* CairnBench::cluster_ = nullptr;

TEST_F(CairnBench, EveryWorkloadSucceedsWithoutErrors) {
  for (const std::string workload : {"append", "get", "receipt", "mix"}) {
    SCOPED_TRACE(workload);
    int code = -1;
    const nlohmann::json j = Run({"--workload=" + workload, "--clients=16", "--duration-s=1.5",
                                  "--warmup-s=0.3", "--pool=200"},
                                 &code);
    ASSERT_TRUE(j.is_object()) << "no JSON report";
    EXPECT_EQ(code, 0);
    EXPECT_GT(j["ok"].get<uint64_t>(), 0u);
    EXPECT_EQ(j["errors"].get<uint64_t>(), 0u) << j.value("first_error", "");
    EXPECT_EQ(j["concurrency"].get<int>(), 16);
    const auto& lat = j["latency_us"];
    EXPECT_GT(lat["p50"].get<double>(), 0);
    EXPECT_GE(lat["p99"].get<double>(), lat["p50"].get<double>());
    EXPECT_GE(lat["max"].get<double>(), lat["p99"].get<double>());
  }
}

TEST_F(CairnBench, BatchAppendReportsEntriesPerSecond) {
  int code = -1;
  const nlohmann::json j =
      Run({"--workload=append", "--batch=10", "--clients=16", "--duration-s=1", "--warmup-s=0.3"},
          &code);
  ExpectCleanBatchReport(j, 10);
  EXPECT_EQ(code, 0);
  EXPECT_GT(j["latency_us"]["p50"].get<double>(), 0);
}

// Each AppendBatch of --batch 10 writes 10 entries, all distinct: 40
// requests leave exactly 400 entries in a collection of their own.
TEST_F(CairnBench, BatchAppendWritesEveryEntryOnce) {
  int code = -1;
  const nlohmann::json j = Run({"--workload=append", "--batch=10", "--clients=4", "--requests=40",
                                "--collection=smoke-batch"},
                               &code);
  ExpectCleanBatchReport(j, 10);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(j["ok"].get<uint64_t>(), 40u);

  auto ledger = Ledger(cluster_->pki(), "admin", cluster_->node(1).client_address());
  v1::ListEntriesRequest list;
  list.set_collection_id("smoke-batch");
  list.set_page_size(1000);
  list.set_include_contents(true);
  size_t listed = 0;
  std::set<std::string> contents;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10);
    v1::ListEntriesResponse page;
    const grpc::Status st = ledger->ListEntries(Ctx().get(), list, &page);
    ASSERT_TRUE(st.ok()) << st.error_message();
    for (const auto& e : page.entries()) {
      ++listed;
      contents.insert(e.contents());
    }
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(listed, 400u);
  EXPECT_EQ(contents.size(), 400u) << "values repeat within or across batches";
}

// A batch over the server's append_batch_entries_max (default 1000) is
// refused whole, as INVALID_ARGUMENT, and every such request is an error.
TEST_F(CairnBench, BatchOverTheServerLimitIsCountedAsErrors) {
  int code = -1;
  const nlohmann::json j =
      Run({"--workload=append", "--batch=1001", "--clients=1", "--requests=2"}, &code);
  ASSERT_TRUE(j.is_object()) << "no JSON report";
  EXPECT_EQ(code, 1);
  EXPECT_EQ(j["ok"].get<uint64_t>(), 0u);
  EXPECT_EQ(j["errors"].get<uint64_t>(), 2u);
  EXPECT_EQ(j["ops"]["append"]["errors_by_code"].value("3", 0u), 2u) << j.dump();
}

TEST_F(CairnBench, RefusedRequestsAreCountedAsErrors) {
  // A certificate the service issued but no user record: every append is
  // refused, and the run must say so (the smoke checks above can fail).
  int code = -1;
  const nlohmann::json j =
      Run({"--workload=append", "--clients=4", "--duration-s=0.5", "--warmup-s=0", "--route=first"},
          &code, "stranger");
  ASSERT_TRUE(j.is_object()) << "no JSON report";
  EXPECT_EQ(code, 1);
  EXPECT_EQ(j["ok"].get<uint64_t>(), 0u);
  EXPECT_GT(j["errors"].get<uint64_t>(), 0u);
}

// ------------------------------------------------------------- limits

TEST(Limits, ReportsPositiveFloors) {
  TempDir dir;
  const std::string json = dir.path() + "/limits.json";
  const CommandResult r = RunCommand(
      {BinaryPath("bench/limits"), "--dir=" + dir.path(), "--seconds=0.3", "--json-out=" + json},
      "", std::chrono::seconds(120));
  std::cerr << r.out << r.err;
  ASSERT_EQ(r.exit_code, 0);
  const nlohmann::json j = ReadJson(json);
  ASSERT_TRUE(j.is_object());
  EXPECT_GT(j["fdatasync_4k"]["syncs_per_s"].get<double>(), 0);
  EXPECT_GE(j["fdatasync_4k"]["p99_us"].get<double>(), j["fdatasync_4k"]["p50_us"].get<double>());
  EXPECT_GT(j["sha256"]["mb_per_s"].get<double>(), 0);
  EXPECT_GT(j["ecdsa_p256"]["sign_per_s"].get<double>(), 0);
  EXPECT_GT(j["ecdsa_p256"]["verify_per_s"].get<double>(), 0);
  for (const char* probe : {"plaintext_1", "tls_1", "plaintext_64", "tls_64"}) {
    EXPECT_GT(j["grpc_loopback"][probe]["calls_per_s"].get<double>(), 0) << probe;
  }
}

// ------------------------------------------------------------- Google Benchmark binaries

// Runs a Google Benchmark binary with JSON output; every benchmark it ran
// must have iterated.
void ExpectBenchmarksRan(const std::vector<std::string>& argv, size_t expected_min) {
  TempDir dir;
  const std::string json = dir.path() + "/out.json";
  std::vector<std::string> full = argv;
  full.push_back("--benchmark_out=" + json);
  full.push_back("--benchmark_out_format=json");
  const CommandResult r = RunCommand(full, "", std::chrono::seconds(240));
  std::cerr << r.out << r.err;
  ASSERT_EQ(r.exit_code, 0);
  const nlohmann::json j = ReadJson(json);
  ASSERT_TRUE(j.is_object() && j["benchmarks"].is_array());
  EXPECT_GE(j["benchmarks"].size(), expected_min);
  for (const auto& b : j["benchmarks"]) {
    EXPECT_GT(b["iterations"].get<int64_t>(), 0) << b["name"];
  }
}

TEST(LedgerBench, RunsWithTinyMinTime) {
  // The 1M and 10M leaf trees take long to build; the small benchmarks keep
  // the binary and its fixtures working.
  ExpectBenchmarksRan({BinaryPath("bench/ledger_bench"),
                       "--benchmark_filter=BM_(Sha256|MerkleAppend|EcdsaSign|EcdsaVerify|"
                       "VerifyReceipt)",
                       "--benchmark_min_time=0.01"},
                      6);
}

TEST(StorageBench, RunsWithTinyMinTime) {
  TempDir dir;
  // The synced-append benchmarks fix their own min_time (2 s), so only the
  // smallest batch runs here; the raw fdatasync reference runs for 1 s.
  ExpectBenchmarksRan({BinaryPath("bench/storage_bench"), "--bench_dir=" + dir.path(),
                       "--benchmark_filter=BM_SyncedAppend/256", "--benchmark_min_time=0.01"},
                      1);
}

// ------------------------------------------------------------- scripts

TEST(Scripts, ScalingSmokePrintsItsTable) {
  const CommandResult r = RunCommand({"/bin/bash", SourcePath("bench/scaling.sh"), "--smoke"}, "",
                                     std::chrono::seconds(170));
  std::cerr << r.out << r.err;
  ASSERT_EQ(r.exit_code, 0);
  // Two rows (0 and 3000 entries) with positive append and receipt rates.
  const std::regex row(R"(\n\| (\d+) \| ([1-9]\d*) \| [\d.]+ \| ([1-9]\d*) \|)");
  int rows = 0;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), row), end; it != end; ++it) ++rows;
  EXPECT_EQ(rows, 2) << r.out;
}

// One round of one-second cells of bench/compare-etcd.sh, its output echoed.
CommandResult RunCompareEtcdOneCell(const std::string& clients, bool etcd_tls,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"/bin/bash", SourcePath("bench/compare-etcd.sh")};
  if (etcd_tls) argv.push_back("--etcd-tls");
  argv.insert(argv.end(),
              {"--clients", clients, "--duration-s", "1", "--warmup-s", "0.3", "--rounds", "1"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  CommandResult r = RunCommand(argv, "", std::chrono::seconds(100));
  std::cerr << r.out << r.err;
  return r;
}

TEST(Scripts, CompareEtcdOneCellPrintsTheRatio) {
  const CommandResult r = RunCompareEtcdOneCell("64", /*etcd_tls=*/false);
  ASSERT_EQ(r.exit_code, 0);
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(r.out, m, std::regex(R"(append_throughput_ratio_vs_etcd=(\d+\.\d\d)\n$)")))
      << r.out;
  EXPECT_GT(std::stod(m[1].str()), 0);
}

// etcd with mutual TLS on both its URLs (certificates from cairnctl) serves
// the same workload: its column is filled, not zero from refused handshakes.
TEST(Scripts, CompareEtcdWithTlsServesBothColumns) {
  const CommandResult r = RunCompareEtcdOneCell("16", /*etcd_tls=*/true);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("mutual TLS on client and peer URLs"), std::string::npos) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"(\n\s+16 \|\s+(\d+)\s+[\d.]+\s+[\d.]+\s+\d+ \|\s+(\d+)\s)")))
      << r.out;
  EXPECT_GT(std::stoi(m[1].str()), 0) << "cairn";
  EXPECT_GT(std::stoi(m[2].str()), 0) << "etcd over TLS";
}

// --batch 10: Cairn's AppendBatch against etcd's Txn of 10 puts. Both runs
// are clean and count 10 entries per request, and the table ends on the
// entries ratio.
TEST(Scripts, CompareEtcdBatchPrintsTheEntriesRatio) {
  TempDir out;
  const CommandResult r =
      RunCompareEtcdOneCell("16", /*etcd_tls=*/false, {"--batch", "10", "--out-dir", out.path()});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("256-byte appends in batches of 10 per request"), std::string::npos)
      << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"(\n\s+16 \|\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+ \|\s+(\d+)\s)")))
      << r.out;
  EXPECT_GT(std::stoi(m[1].str()), 0) << "cairn";
  EXPECT_GT(std::stoi(m[2].str()), 0) << "etcd";
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex(R"(batch_append_entries_ratio_vs_etcd=(\d+\.\d\d)\n$)")))
      << r.out;
  EXPECT_GT(std::stod(m[1].str()), 0);
  for (const char* system : {"cairn", "etcd"}) {
    SCOPED_TRACE(system);
    ExpectCleanBatchReport(ReadJson(out.path() + "/" + system + "-c16-r1.json"), 10);
  }
}

TEST(Scripts, ClusterLatencyPrintsAppendAndReceiptRows) {
  const CommandResult r = RunCommand(
      {"/bin/bash", SourcePath("bench/cluster-latency.sh"), "--duration-s", "1", "--clients", "1"},
      "", std::chrono::seconds(100));
  std::cerr << r.out << r.err;
  ASSERT_EQ(r.exit_code, 0);
  // A receipt needs a signature, so its latency is at least one interval.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(append-receipt +1 +(\d+) +([\d.]+))")))
      << r.out;
  EXPECT_GT(std::stoi(m[1].str()), 0);
  EXPECT_GE(std::stod(m[2].str()), 50.0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\nappend +1 +[1-9]\d*)"))) << r.out;
}

}  // namespace
}  // namespace cairn::testing
