// cairn-bench: a closed-loop load generator for Cairn (LedgerService over
// mutual TLS) and, for side-by-side runs, etcd (KV.Put, or KV.Txn with
// --batch, in plaintext or, given --cert/--key/--service-cert, over mutual
// TLS).
//
//   cairn-bench --endpoint=127.0.0.1:7100,127.0.0.1:7101 --cert=admin.pem --key=admin.key
//       --service-cert=service.pem --workload=append --clients=64 --duration-s=10
//   cairn-bench --target=etcd --endpoint=127.0.0.1:2379 --clients=64 --duration-s=10
//
// --clients C opens c connections with C / c requests outstanding on each
// (c the largest divisor of C not above sqrt(C): 64 -> 8 x 8, 256 -> 16 x 16);
// --connections and --inflight set them directly. Appends go to the leader
// (found with GetClusterStatus) unless --route=first. --batch N makes each
// append request carry N entries: one AppendBatch (Cairn) or one KV.Txn of N
// puts (etcd); latency stays per request, and the report adds entries/s
// (requests/s x N). Exit code 0 when the run completed with no errors, 1 when
// any request failed, 2 on a usage error, 3 when the service could not be
// reached during setup.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "load/driver.h"
#include "load/report.h"
#include "load/sources.h"

namespace cairn::bench {
namespace {

struct Flags {
  std::string target = "cairn";
  std::vector<std::string> endpoints{"127.0.0.1:7100"};
  TlsFilesPaths tls;
  std::string route = "leader";
  std::string workload = "append";
  std::string mix = "append=80,get=10,receipt=10";
  size_t value_bytes = 256;
  bool fresh_values = false;
  std::string append_wait = "committed";
  size_t batch = 1;
  int clients = 0;
  int connections = 1;
  int inflight = 1;
  double duration_s = 10;
  double warmup_s = 1;
  uint64_t requests = 0;
  int64_t timeout_ms = 10000;
  std::string collection = "bench";
  size_t pool = 1000;
  uint64_t key_space = 100000;
  std::string json_out;
  std::string label;
  double progress_s = 0;
  uint64_t seed = 1;
};

void AddFlags(CLI::App& app, Flags& f) {
  app.add_option("--target", f.target, "cairn or etcd")
      ->check(CLI::IsMember({"cairn", "etcd"}))
      ->capture_default_str();
  app.add_option("--endpoint", f.endpoints, "host:port of the nodes; repeat or comma-separate")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--cert", f.tls.cert_file, "Client certificate (PEM); for etcd, turns on TLS");
  app.add_option("--key", f.tls.key_file, "Client private key (PEM)");
  app.add_option("--service-cert", f.tls.service_cert_file,
                 "CA certificate (PEM) to trust: Cairn's service identity, or etcd's CA");
  app.add_option("--route", f.route,
                 "leader: send everything to the leader (cairn); first: to the first endpoint")
      ->check(CLI::IsMember({"leader", "first"}))
      ->capture_default_str();
  app.add_option("--workload", f.workload,
                 "append, get, receipt, append-receipt (append, then wait for its receipt), mix "
                 "(cairn); put (etcd)")
      ->check(CLI::IsMember({"append", "get", "receipt", "append-receipt", "mix", "put"}))
      ->capture_default_str();
  app.add_option("--mix", f.mix, "Weights for --workload=mix, op=weight,...")
      ->capture_default_str();
  app.add_option("--append-wait", f.append_wait,
                 "cairn appends: committed, or geo-durable (answered once a geo-replica "
                 "archived them: the latency shows the archive's lag)")
      ->check(CLI::IsMember({"committed", "geo-durable"}))
      ->capture_default_str();
  app.add_option("--batch", f.batch,
                 "Entries per request for --workload=append (cairn: one AppendBatch) or put "
                 "(etcd: one Txn of N puts); the report adds entries/s")
      ->check(CLI::Range(size_t{1}, size_t{10000}))
      ->capture_default_str();
  app.add_option("--value-bytes", f.value_bytes, "Bytes per appended value")
      ->check(CLI::Range(size_t{1}, size_t{64} << 20))
      ->capture_default_str();
  app.add_flag("--fresh-values", f.fresh_values,
               "New random bytes for every value (default: one random value per client with a "
               "distinct stamp in front, which compresses well on the server's disk)");
  app.add_option("--clients", f.clients,
                 "Requests outstanding in all (sets --connections and --inflight)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--connections", f.connections, "gRPC channels (TCP connections)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--inflight", f.inflight, "Requests outstanding per connection")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--duration-s", f.duration_s, "Measured seconds (after the warm-up)")
      ->check(CLI::Range(0.1, 1e6))
      ->capture_default_str();
  app.add_option("--warmup-s", f.warmup_s, "Unrecorded seconds before measuring")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  app.add_option("--requests", f.requests,
                 "Issue exactly this many requests (all recorded) instead of --duration-s");
  app.add_option("--timeout-ms", f.timeout_ms, "Deadline of each request")
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}))
      ->capture_default_str();
  app.add_option("--collection", f.collection, "Collection appended to and read from")
      ->capture_default_str();
  app.add_option("--pool", f.pool, "Txids sampled (or appended) for get and receipt")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  app.add_option("--key-space", f.key_space, "etcd: distinct keys put to")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--json-out", f.json_out, "Write the results as JSON to this file");
  app.add_option("--label", f.label, "Free text copied into the JSON");
  app.add_option("--progress-s", f.progress_s, "Print progress every this many seconds")
      ->capture_default_str();
  app.add_option("--seed", f.seed, "Random seed (values, keys, txid choice)")
      ->capture_default_str();
}

absl::StatusOr<std::vector<std::pair<Op, double>>> ParseMix(const Flags& f) {
  if (f.workload == "append") return std::vector<std::pair<Op, double>>{{Op::kAppend, 1}};
  if (f.workload == "get") return std::vector<std::pair<Op, double>>{{Op::kGet, 1}};
  if (f.workload == "receipt") return std::vector<std::pair<Op, double>>{{Op::kReceipt, 1}};
  if (f.workload == "append-receipt") {
    return std::vector<std::pair<Op, double>>{{Op::kAppendReceipt, 1}};
  }
  if (f.workload == "put") return std::vector<std::pair<Op, double>>{{Op::kPut, 1}};
  std::vector<std::pair<Op, double>> mix;
  for (absl::string_view part : absl::StrSplit(f.mix, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, '=');
    double weight = 0;
    if (!absl::SimpleAtod(kv.second, &weight) || weight < 0) {
      return absl::InvalidArgumentError(absl::StrCat("--mix: bad weight in '", part, "'"));
    }
    if (kv.first == "append") {
      mix.emplace_back(Op::kAppend, weight);
    } else if (kv.first == "get") {
      mix.emplace_back(Op::kGet, weight);
    } else if (kv.first == "receipt") {
      mix.emplace_back(Op::kReceipt, weight);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--mix: unknown op '", kv.first, "' (append, get, receipt)"));
    }
  }
  if (mix.empty()) return absl::InvalidArgumentError("--mix is empty");
  return mix;
}

bool NeedsTxids(const std::vector<std::pair<Op, double>>& mix) {
  for (const auto& [op, w] : mix) {
    if ((op == Op::kGet || op == Op::kReceipt) && w > 0) return true;
  }
  return false;
}

double ProcessCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int Usage(const std::string& message) {
  std::cerr << "cairn-bench: " << message << "\n";
  return 2;
}

int Unavailable(const absl::Status& st) {
  std::cerr << "cairn-bench: " << st.message() << "\n";
  return 3;
}

int Main(int argc, char** argv) {
  // As in cairn-node (node/src/main.cc): Debian's Abseil checks every Mutex
  // acquisition against a global lock graph, which the load generator would
  // pay for on every request, against Cairn and etcd alike.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app("cairn-bench: closed-loop load generator for Cairn and etcd.", "cairn-bench");
  Flags f;
  AddFlags(app, f);
  CLI11_PARSE(app, argc, argv);
  if (f.clients > 0) {
    f.connections = 1;
    for (int c = 1; c * c <= f.clients; ++c) {
      if (f.clients % c == 0) f.connections = c;
    }
    f.inflight = f.clients / f.connections;
  }
  auto mix = ParseMix(f);
  if (!mix.ok()) return Usage(std::string(mix.status().message()));
  const bool etcd = f.target == "etcd";
  if (etcd && f.workload != "put" && f.workload != "append") {
    return Usage("--target=etcd runs only --workload=put (or append, the same)");
  }
  if (!etcd && f.workload == "put") return Usage("--workload=put is for --target=etcd");
  if (f.batch > 1 && f.workload != "append" && f.workload != "put") {
    return Usage("--batch above 1 batches appends only: --workload=append (or put, for etcd)");
  }
  if (etcd && f.batch > f.key_space) {
    return Usage(
        "--key-space must be at least --batch: the puts of one transaction need "
        "distinct keys");
  }
  if (f.endpoints.empty()) return Usage("--endpoint is required");

  std::string endpoint = f.endpoints.front();
  if (!etcd && f.route == "leader") {
    auto leader = FindCairnLeader(f.endpoints, f.tls, 30000);
    if (!leader.ok()) return Unavailable(leader.status());
    endpoint = *leader;
  }
  const bool plaintext = etcd && f.tls.cert_file.empty();
  auto channels = OpenChannels(endpoint, f.connections, plaintext ? nullptr : &f.tls);
  if (!channels.ok()) return Usage(std::string(channels.status().message()));

  std::unique_ptr<RequestSource> source;
  if (etcd) {
    EtcdSourceOptions options;
    options.value_bytes = f.value_bytes;
    options.fresh_values = f.fresh_values;
    options.key_space = f.key_space;
    options.timeout_ms = f.timeout_ms;
    options.batch = f.batch;
    source = NewEtcdSource(*channels, options);
  } else {
    CairnSourceOptions options;
    options.collection = f.collection;
    options.value_bytes = f.value_bytes;
    options.fresh_values = f.fresh_values;
    options.timeout_ms = f.timeout_ms;
    options.geo_durable = f.append_wait == "geo-durable";
    options.batch = f.batch;
    if (NeedsTxids(*mix)) {
      auto txids =
          SampleSignedTxids(channels->front(), f.collection, f.pool, f.value_bytes, f.seed);
      if (!txids.ok()) return Unavailable(txids.status());
      options.txids = *std::move(txids);
      std::cerr << "cairn-bench: " << options.txids.size() << " txids to read\n";
    }
    source = NewCairnSource(*channels, std::move(options));
  }

  DriverOptions driver;
  driver.connections = f.connections;
  driver.inflight = f.inflight;
  driver.warmup_s = f.requests > 0 ? 0 : f.warmup_s;
  driver.duration_s = f.duration_s;
  driver.requests_total = f.requests;
  driver.mix = *mix;
  driver.progress_s = f.progress_s;
  driver.seed = f.seed;
  const double cpu_before = ProcessCpuSeconds();
  const RunResult result = RunClosedLoop(driver, source.get());
  const double cpu_used = ProcessCpuSeconds() - cpu_before;

  RunDescription run{f.target,      f.workload, endpoint,
                     f.connections, f.inflight, etcd || f.workload != "get" ? f.value_bytes : 0,
                     f.batch,       f.label,    cpu_used};
  PrintReport(run, result, std::cout);
  if (!f.json_out.empty()) {
    std::ofstream out(f.json_out);
    out << ReportJson(run, result);
    if (!out) return Usage("cannot write --json-out " + f.json_out);
  }
  return result.errors() == 0 && result.ok() > 0 ? 0 : 1;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) { return cairn::bench::Main(argc, argv); }
