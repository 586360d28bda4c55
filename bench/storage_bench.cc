// Synced Raft log appends against the physical fsync limit of the same
// directory, measured in the same run.
//
//   BM_RawFdatasync         append 256 bytes to a file + fdatasync, in a loop:
//                           the most synced writes per second this disk gives.
//   BM_SyncedAppend/N       RaftLogStore::Save of N entries of 256 bytes plus
//                           the hard state: one synced RocksDB write each.
//
// Counters: entries_per_s, fsyncs_per_s (Saves per second; each is one WAL
// sync, checked by counting syncs through the FileSystem), and the ratios
// to the raw limit: fsync_ratio = fsyncs_per_s / raw fdatasync per second
// (how close one Save is to one bare fdatasync) and entries_per_raw_fsync =
// entries_per_s / raw fdatasync per second (what group commit buys).
//
// Run: storage_bench [--bench_dir=DIR] [Google Benchmark flags]
// DIR defaults to $CAIRN_BENCH_DIR, then $TMPDIR, then /tmp. Use the disk the
// node will use: the numbers mean nothing elsewhere.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cairn/base/check.h"
#include "cairn/storage/database.h"
#include "cairn/storage/raft_log_store.h"
#include "fault_fs.h"

namespace {

constexpr size_t kEntryBytes = 256;

std::string g_base_dir;
double g_raw_fsyncs_per_s = 0;

struct AppendResult {
  double entries_per_s = 0;
  double fsyncs_per_s = 0;
  double syncs_per_save = 0;
};
std::map<int64_t, AppendResult> g_append_results;

// A fresh directory under the base directory, removed afterwards.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    path_ = absl::StrCat(g_base_dir, "/cairn-storage-bench-", ::getpid(), "-", name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void BM_RawFdatasync(benchmark::State& state) {
  ScratchDir dir("raw");
  const std::string file = dir.path() + "/probe";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  CAIRN_CHECK(fd >= 0) << "open " << file;
  const std::string record(kEntryBytes, 'r');
  for (auto _ : state) {
    CAIRN_CHECK(::write(fd, record.data(), record.size()) == static_cast<ssize_t>(record.size()));
    CAIRN_CHECK(::fdatasync(fd) == 0) << "fdatasync";
  }
  ::close(fd);
  state.counters["fsyncs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Measures the raw rate outside the benchmark loop when BM_RawFdatasync was
// filtered out, so the ratios always have a reference.
double RawFsyncsPerSecond() {
  if (g_raw_fsyncs_per_s > 0) return g_raw_fsyncs_per_s;
  ScratchDir dir("raw-ref");
  const std::string file = dir.path() + "/probe";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  CAIRN_CHECK(fd >= 0) << "open " << file;
  const std::string record(kEntryBytes, 'r');
  const auto start = std::chrono::steady_clock::now();
  int n = 0;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
    CAIRN_CHECK(::write(fd, record.data(), record.size()) == static_cast<ssize_t>(record.size()));
    CAIRN_CHECK(::fdatasync(fd) == 0);
    ++n;
  }
  ::close(fd);
  g_raw_fsyncs_per_s =
      n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return g_raw_fsyncs_per_s;
}

void BM_SyncedAppend(benchmark::State& state) {
  const int64_t batch = state.range(0);
  ScratchDir dir(absl::StrCat("append-", batch));
  cairn::testing::FaultEnv counting;  // counts syncs; injects nothing
  cairn::storage::DatabaseOptions options;
  options.env_for_testing = counting.env.get();
  auto db = cairn::storage::Database::Open(dir.path() + "/db", options);
  CAIRN_CHECK(db.ok()) << db.status();
  cairn::storage::RaftLogStore& log = (*db)->raft_log();
  std::vector<cairn::consensus::Entry> entries(static_cast<size_t>(batch));
  for (auto& e : entries) {
    e.term = 1;
    e.data = std::string(kEntryBytes, 'e');
  }
  cairn::consensus::Index next = 1;
  const int syncs_before = counting.fs->syncs.load();
  for (auto _ : state) {
    for (auto& e : entries) e.index = next++;
    const cairn::consensus::HardState hs{1, 1, next - 1};
    absl::Status st = log.Save(hs, entries);
    CAIRN_CHECK(st.ok()) << st;
  }
  const double saves = static_cast<double>(state.iterations());
  const double syncs = counting.fs->syncs.load() - syncs_before;
  state.counters["entries_per_s"] = benchmark::Counter(saves * batch, benchmark::Counter::kIsRate);
  state.counters["fsyncs_per_s"] = benchmark::Counter(saves, benchmark::Counter::kIsRate);
  state.counters["syncs_per_save"] = syncs / saves;
  db->reset();
  // The rates need the elapsed time, which the reporter sees; this it cannot.
  g_append_results[batch].syncs_per_save = syncs / saves;
}

// Collects the final rates of each benchmark and prints the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal, so that captured output (docs/performance.md) stays plain.
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      const std::string name = run.benchmark_name();
      auto counter = [&](const char* key) {
        auto it = run.counters.find(key);
        return it == run.counters.end() ? 0.0 : static_cast<double>(it->second);
      };
      if (name.rfind("BM_RawFdatasync", 0) == 0) {
        g_raw_fsyncs_per_s = counter("fsyncs_per_s");
      } else if (name.rfind("BM_SyncedAppend/", 0) == 0) {
        const int64_t batch = run.run_name.args.empty() ? 0 : std::stoll(run.run_name.args);
        AppendResult& r = g_append_results[batch];
        r.entries_per_s = counter("entries_per_s");
        r.fsyncs_per_s = counter("fsyncs_per_s");
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

void PrintSummary() {
  const double raw = RawFsyncsPerSecond();
  std::printf("\nStorage append summary (directory %s)\n", g_base_dir.c_str());
  std::printf("  raw fdatasync (256 B append + fdatasync): %.0f fsyncs/s\n", raw);
  std::printf("  %-6s %14s %12s %12s %14s %22s\n", "batch", "entries/s", "fsyncs/s", "syncs/save",
              "fsync ratio", "entries per raw fsync");
  for (const auto& [batch, r] : g_append_results) {
    std::printf("  %-6ld %14.0f %12.0f %12.2f %14.2f %22.1f\n", static_cast<long>(batch),
                r.entries_per_s, r.fsyncs_per_s, r.syncs_per_save, r.fsyncs_per_s / raw,
                r.entries_per_s / raw);
  }
}

// Wall-clock time throughout: these benchmarks wait on the disk, and rate
// counters divide by the benchmark's time, which would otherwise be CPU time.
BENCHMARK(BM_RawFdatasync)->Unit(benchmark::kMicrosecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_SyncedAppend)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* env = std::getenv("CAIRN_BENCH_DIR");
  const char* tmp = std::getenv("TMPDIR");
  g_base_dir = env && *env ? env : (tmp && *tmp ? tmp : "/tmp");
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--bench_dir=")) {
      g_base_dir = std::string(arg);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintSummary();
  benchmark::Shutdown();
  return 0;
}
