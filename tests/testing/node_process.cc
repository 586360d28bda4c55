// Integration-test node processes (see node_process.h).
#include "testing/node_process.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cairn::testing {

NodeProcess::NodeProcess(TestPki* pki, uint64_t node_id, std::string work_dir)
    : pki_(pki),
      node_id_(node_id),
      data_dir_(work_dir + "/node" + std::to_string(node_id)),
      log_path_(work_dir + "/node" + std::to_string(node_id) + ".log"),
      client_address_(absl::StrCat("127.0.0.1:", PickFreePort())),
      peer_address_(absl::StrCat("127.0.0.1:", PickFreePort())),
      http_address_(absl::StrCat("127.0.0.1:", PickFreePort())) {
  std::filesystem::create_directories(work_dir);
}

NodeProcess::~NodeProcess() {
  // A node that ended by itself, not by a test's SIGKILL or SIGTERM: the end
  // of its log says why (for the test's output; a test that expects a crash
  // gets the same note).
  if (process_.pid() > 0 && !process_.Running()) {
    const int code = process_.Wait(std::chrono::milliseconds(0));
    if (code != 0 && code != 128 + SIGKILL && code != 128 + SIGTERM) {
      const std::string log = Log();
      size_t from = log.size();
      for (int lines = 0; lines <= 40 && from > 0 && from != std::string::npos; ++lines) {
        from = log.rfind('\n', from - 1);
      }
      std::fprintf(stderr, "node %llu exited by itself with code %d; the end of its log:\n%s\n",
                   static_cast<unsigned long long>(node_id_), code,
                   log.substr(from == std::string::npos ? 0 : from).c_str());
    }
  }
  process_.Signal(SIGKILL);
  process_.Wait(std::chrono::seconds(10));
  const std::string report = SanitizerReport(Log());
  if (!report.empty()) {
    ADD_FAILURE() << "node " << node_id_ << " (" << log_path_ << ") reported:\n" << report;
  }
}

std::string SanitizerReport(const std::string& log, size_t max_lines) {
  static constexpr const char* kMarkers[] = {
      "WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:", "ERROR: LeakSanitizer:",
      "runtime error: "};
  size_t first = std::string::npos;
  for (const char* marker : kMarkers) first = std::min(first, log.find(marker));
  if (first == std::string::npos) return "";
  const size_t line_start = log.rfind('\n', first);
  size_t begin = line_start == std::string::npos ? 0 : line_start + 1;
  size_t end = begin;
  for (size_t lines = 0; lines < max_lines && end < log.size(); ++lines) {
    const size_t nl = log.find('\n', end);
    end = nl == std::string::npos ? log.size() : nl + 1;
  }
  return log.substr(begin, end - begin);
}

absl::Status NodeProcess::Start(const std::vector<std::string>& extra_args) {
  const CertFiles node = pki_->Node(node_id_);
  std::vector<std::string> argv = {
      BinaryPath("node/cairn-node"),
      "--node-id=" + std::to_string(node_id_),
      "--data-dir=" + data_dir_,
      "--client-address=" + client_address_,
      "--peer-address=" + peer_address_,
      "--http-address=" + http_address_,
      "--tls-cert-file=" + node.cert,
      "--tls-key-file=" + node.key,
      "--service-cert-file=" + pki_->service_cert(),
      "--initial-cluster=" + (initial_cluster_.empty() ? MemberSpec() : initial_cluster_),
      "--initial-admin-cert-file=" + pki_->User("admin").cert,
      "--log-format=" + log_format_};
  if (!product_timing_) {
    argv.insert(argv.end(), {"--tick-ms=20", "--election-ticks=10"});
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return process_.Start(argv, log_path_);
}

absl::Status NodeProcess::WaitReady(std::chrono::milliseconds timeout) {
  const absl::Status st = PollUntil(
      [this] {
        if (!process_.Running()) return true;  // reported below
        // Any answer but UNAVAILABLE (exit code 3) means the node serves.
        const CommandResult r = Cairnctl({"get", "1.1", "--timeout-ms=500"});
        return r.exit_code == 0 || r.exit_code == 1;
      },
      timeout, "node " + std::to_string(node_id_) + " to serve on " + client_address_);
  if (!process_.Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("node ", node_id_, " exited while starting; log:\n", Log()));
  }
  return st;
}

std::string NodeProcess::MemberSpec() const {
  return absl::StrCat(node_id_, "@", peer_address_, "/", client_address_);
}

double ReadMetric(const std::string& http_address, const std::string& name) {
  const auto colon = http_address.rfind(':');
  httplib::Client client(http_address.substr(0, colon), std::stoi(http_address.substr(colon + 1)));
  client.set_connection_timeout(std::chrono::milliseconds(500));
  client.set_read_timeout(std::chrono::milliseconds(500));
  auto res = client.Get("/metrics");
  if (!res || res->status != 200) return -1;
  const std::string& body = res->body;
  size_t pos = 0;
  while ((pos = body.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || body[pos - 1] == '\n';
    const size_t after = pos + name.size();
    if (line_start && after < body.size() && body[after] == ' ') {
      return std::stod(body.substr(after + 1, body.find('\n', after) - after - 1));
    }
    pos = after;
  }
  return -1;
}

double NodeProcess::Metric(const std::string& name) const {
  return ReadMetric(http_address_, name);
}

int NodeProcess::HttpStatus(const std::string& path) const {
  const auto colon = http_address_.rfind(':');
  httplib::Client client(http_address_.substr(0, colon),
                         std::stoi(http_address_.substr(colon + 1)));
  client.set_connection_timeout(std::chrono::milliseconds(500));
  client.set_read_timeout(std::chrono::milliseconds(500));
  auto res = client.Get(path.c_str());
  return res ? res->status : 0;
}

int NodeProcess::Terminate(std::chrono::milliseconds timeout) {
  process_.Signal(SIGTERM);
  return process_.Wait(timeout);
}

CommandResult NodeProcess::Cairnctl(const std::vector<std::string>& args, const std::string& user,
                                    const std::string& stdin_data) {
  const CertFiles creds = pki_->User(user);
  std::vector<std::string> argv = {BinaryPath("client/cairnctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--endpoint=" + client_address_);
  argv.push_back("--cert=" + creds.cert);
  argv.push_back("--key=" + creds.key);
  argv.push_back("--service-cert=" + pki_->service_cert());
  return RunCommand(argv, stdin_data);
}

}  // namespace cairn::testing
