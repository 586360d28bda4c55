// limits: the physical floor under every Cairn figure, measured on this
// machine in one run, so a benchmark result can be read as a ratio to it.
//
//   fdatasync     4 KiB appends to a file in --dir, each followed by
//                 fdatasync: syncs per second and their latency. Use the disk
//                 that holds the nodes' data directories.
//   sha256        MB/s over 1 MiB buffers, and hashes/s of 65-byte inputs
//                 (one Merkle interior node: 0x01 || left || right).
//   ecdsa         P-256 sign/s and verify/s (ledger/identity.h, OpenSSL).
//   grpc          unary round trip over loopback to a trivial in-process
//                 server (it answers KV.Put at once), one call outstanding,
//                 plaintext and mutual TLS; and calls/s with 64 outstanding:
//                 what one gRPC server can do on this machine before any work
//                 is done. cpu_us_per_call is the CPU time of client and
//                 server together (both in this process) per call: the
//                 floor that does not move with the machine's load.
//
// The gRPC probes use the same closed-loop driver as cairn-bench, so they
// include the same client-side costs.
//
//   limits [--dir=DIR] [--seconds=S] [--json-out=FILE]
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "proto/etcd_kv_subset.grpc.pb.h"
#include "load/driver.h"
#include "load/histogram.h"
#include "load/sources.h"

namespace cairn::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

nlohmann::json ProbeFdatasync(const std::string& dir, double seconds) {
  const std::string path = absl::StrCat(dir, "/cairn-limits-", ::getpid(), ".probe");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  CAIRN_CHECK(fd >= 0) << "cannot create " << path;
  const std::string block(4096, 'f');
  LatencyHistogram latency;
  const Clock::time_point start = Clock::now();
  Clock::time_point now = start;
  while (Seconds(now - start) < seconds) {
    CAIRN_CHECK(::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size()))
        << "write " << path;
    CAIRN_CHECK(::fdatasync(fd) == 0) << "fdatasync " << path;
    const Clock::time_point after = Clock::now();
    latency.Record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(after - now).count()));
    now = after;
  }
  ::close(fd);
  std::filesystem::remove(path);
  return {{"dir", dir},
          {"syncs_per_s", static_cast<double>(latency.count()) / Seconds(now - start)},
          {"p50_us", Us(latency.ValueAtQuantile(0.5))},
          {"p99_us", Us(latency.ValueAtQuantile(0.99))},
          {"mean_us", Us(static_cast<uint64_t>(latency.mean_ns()))}};
}

// Runs `body` repeatedly for about `seconds`; returns calls per second.
template <typename Body>
double RatePerSecond(double seconds, Body body) {
  uint64_t calls = 0;
  const Clock::time_point start = Clock::now();
  Clock::time_point now = start;
  while (Seconds(now - start) < seconds) {
    for (int i = 0; i < 64; ++i) body();
    calls += 64;
    now = Clock::now();
  }
  return static_cast<double>(calls) / Seconds(now - start);
}

nlohmann::json ProbeSha256(double seconds) {
  const std::string mib(1 << 20, 's');
  const std::string node(65, 'n');
  ledger::Hash sink{};
  const double mib_per_s = RatePerSecond(seconds / 2, [&] { sink = ledger::Sha256(mib); });
  const double nodes_per_s = RatePerSecond(seconds / 2, [&] { sink = ledger::Sha256(node); });
  CAIRN_CHECK(sink[0] != 0 || sink[1] != 0 || sink[2] != 0) << "hash of a constant was zero";
  return {{"mb_per_s", mib_per_s * (1 << 20) / 1e6}, {"hashes_65b_per_s", nodes_per_s}};
}

nlohmann::json ProbeEcdsa(double seconds) {
  auto key = ledger::PrivateKey::Generate();
  CAIRN_CHECK_OK(key.status()) << "generating a key";
  ledger::ServiceCertificateOptions options;
  auto cert = ledger::CreateServiceCertificate(*key, options);
  CAIRN_CHECK_OK(cert.status()) << "self-signing";
  const std::string message(100, 'm');  // about a serialized checkpoint
  auto signature = key->Sign(message);
  CAIRN_CHECK_OK(signature.status()) << "signing";
  const double sign_per_s = RatePerSecond(seconds / 2, [&] {
    auto s = key->Sign(message);
    CAIRN_CHECK(s.ok()) << s.status();
  });
  const double verify_per_s = RatePerSecond(seconds / 2, [&] {
    CAIRN_CHECK_OK(cert->VerifySignature(message, *signature)) << "verifying";
  });
  return {{"sign_per_s", sign_per_s}, {"verify_per_s", verify_per_s}};
}

// A KV service that answers every Put at once, from the gRPC thread.
class EchoKv : public etcdserverpb::KV::CallbackService {
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const etcdserverpb::PutRequest* request,
                                etcdserverpb::PutResponse* response) override {
    response->mutable_header()->set_revision(1);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

// Certificates for the TLS probe, issued in memory, written to `dir`.
struct ProbePki {
  std::string server_cert, server_key, client_cert, client_key, ca_cert;
  TlsFilesPaths client_files;
};

ProbePki MakePki(const std::string& dir) {
  auto ca_key = ledger::PrivateKey::Generate();
  auto server_key = ledger::PrivateKey::Generate();
  auto client_key = ledger::PrivateKey::Generate();
  CAIRN_CHECK(ca_key.ok() && server_key.ok() && client_key.ok()) << "generating keys";
  auto ca = ledger::CreateServiceCertificate(*ca_key, {});
  CAIRN_CHECK_OK(ca.status()) << "CA";
  ledger::NodeCertificateOptions node;
  node.node_id = 1;
  auto server = ledger::IssueNodeCertificate(*ca, *ca_key, *server_key, node);
  CAIRN_CHECK_OK(server.status()) << "server certificate";
  ledger::UserCertificateOptions user;
  user.name = "limits";
  auto client = ledger::IssueUserCertificate(*ca, *ca_key, *client_key, user);
  CAIRN_CHECK_OK(client.status()) << "client certificate";
  ProbePki pki{server->ToPem(), server_key->ToPem(), client->ToPem(), client_key->ToPem(),
               ca->ToPem(), {}};
  const std::string base = absl::StrCat(dir, "/cairn-limits-", ::getpid());
  pki.client_files = {base + "-client.pem", base + "-client.key", base + "-ca.pem"};
  std::ofstream(pki.client_files.cert_file) << pki.client_cert;
  std::ofstream(pki.client_files.key_file) << pki.client_key;
  std::ofstream(pki.client_files.service_cert_file) << pki.ca_cert;
  return pki;
}

double ProcessCpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

nlohmann::json RunRtt(const std::string& address, const TlsFilesPaths* tls, int clients,
                      double seconds) {
  auto channels = OpenChannels(address, clients == 1 ? 1 : 8, tls);
  CAIRN_CHECK_OK(channels.status()) << "channels";
  auto source = NewEtcdSource(*channels, {});
  DriverOptions driver;
  driver.connections = clients == 1 ? 1 : 8;
  driver.inflight = clients / driver.connections;
  driver.warmup_s = std::min(0.5, seconds / 4);
  driver.duration_s = seconds;
  driver.mix = {{Op::kPut, 1}};
  const double cpu_before = ProcessCpuSeconds();
  const RunResult r = RunClosedLoop(driver, source.get());
  const double cpu_s = ProcessCpuSeconds() - cpu_before;
  CAIRN_CHECK(r.errors() == 0 && r.ok() > 0) << "loopback probe failed: " << r.first_error;
  const LatencyHistogram h = r.AllLatency();
  return {{"calls_per_s", static_cast<double>(r.ok()) / r.measured_s},
          {"p50_us", Us(h.ValueAtQuantile(0.5))},
          {"p99_us", Us(h.ValueAtQuantile(0.99))},
          // Client and server together: both run in this process.
          {"cpu_us_per_call", cpu_s * 1e6 / static_cast<double>(r.completed_total)},
          {"outstanding", clients}};
}

nlohmann::json ProbeGrpc(const std::string& dir, double seconds) {
  ProbePki pki = MakePki(dir);
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = pki.ca_cert;
  ssl.pem_key_cert_pairs.push_back({pki.server_key, pki.server_cert});
  EchoKv service;
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int plain_port = 0;
  int tls_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &plain_port);
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &tls_port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  CAIRN_CHECK(server != nullptr && plain_port > 0 && tls_port > 0) << "loopback server";
  nlohmann::json out;
  out["plaintext_1"] = RunRtt(absl::StrCat("127.0.0.1:", plain_port), nullptr, 1, seconds);
  out["tls_1"] = RunRtt(absl::StrCat("127.0.0.1:", tls_port), &pki.client_files, 1, seconds);
  out["plaintext_64"] = RunRtt(absl::StrCat("127.0.0.1:", plain_port), nullptr, 64, seconds);
  out["tls_64"] = RunRtt(absl::StrCat("127.0.0.1:", tls_port), &pki.client_files, 64, seconds);
  server->Shutdown();
  std::filesystem::remove(pki.client_files.cert_file);
  std::filesystem::remove(pki.client_files.key_file);
  std::filesystem::remove(pki.client_files.service_cert_file);
  return out;
}

void Print(const nlohmann::json& j) {
  const auto& f = j["fdatasync_4k"];
  const auto& g = j["grpc_loopback"];
  std::printf("limits (load average at start %s)\n", j["loadavg"].get<std::string>().c_str());
  std::printf("  fdatasync 4 KiB append  %9.0f /s   p50 %8.1f us   p99 %8.1f us   (%s)\n",
              f["syncs_per_s"].get<double>(), f["p50_us"].get<double>(),
              f["p99_us"].get<double>(), f["dir"].get<std::string>().c_str());
  std::printf("  sha256                  %9.0f MB/s  %9.0f 65-byte hashes/s\n",
              j["sha256"]["mb_per_s"].get<double>(),
              j["sha256"]["hashes_65b_per_s"].get<double>());
  std::printf("  ecdsa p-256             %9.0f sign/s  %9.0f verify/s\n",
              j["ecdsa_p256"]["sign_per_s"].get<double>(),
              j["ecdsa_p256"]["verify_per_s"].get<double>());
  for (const char* k : {"plaintext_1", "tls_1", "plaintext_64", "tls_64"}) {
    std::printf(
        "  grpc loopback %-12s %8.0f calls/s  p50 %8.1f us   p99 %8.1f us   %6.1f cpu us/call\n",
        k, g[k]["calls_per_s"].get<double>(), g[k]["p50_us"].get<double>(),
        g[k]["p99_us"].get<double>(), g[k]["cpu_us_per_call"].get<double>());
  }
  std::printf("  floor for one append: fdatasync p50 + tls rtt p50 = %.1f us\n",
              j["one_append_floor_us"].get<double>());
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int Main(int argc, char** argv) {
  CLI::App app("limits: physical floors (fdatasync, SHA-256, ECDSA, loopback gRPC)", "limits");
  std::string dir = std::getenv("CAIRN_BENCH_DIR") ? std::getenv("CAIRN_BENCH_DIR") : ".";
  double seconds = 2;
  std::string json_out;
  app.add_option("--dir", dir, "Directory on the disk to probe (the nodes' data disk)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--seconds", seconds, "Seconds per probe")
      ->check(CLI::Range(0.05, 600.0))
      ->capture_default_str();
  app.add_option("--json-out", json_out, "Write the figures as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json j;
  j["loadavg"] = LoadAverage();
  j["fdatasync_4k"] = ProbeFdatasync(dir, seconds);
  j["sha256"] = ProbeSha256(seconds);
  j["ecdsa_p256"] = ProbeEcdsa(seconds);
  j["grpc_loopback"] = ProbeGrpc(dir, seconds);
  j["one_append_floor_us"] = j["fdatasync_4k"]["p50_us"].get<double>() +
                             j["grpc_loopback"]["tls_1"]["p50_us"].get<double>();
  Print(j);
  if (!json_out.empty()) {
    std::ofstream out(json_out);
    out << j.dump(2) << "\n";
    if (!out) {
      std::cerr << "limits: cannot write " << json_out << "\n";
      return 2;
    }
  }
  return 0;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) { return cairn::bench::Main(argc, argv); }
