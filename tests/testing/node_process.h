// A real cairn-node process for integration tests: its own data directory,
// free loopback ports, mTLS certificates from a TestPki, and log file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "testing/pki.h"
#include "testing/process.h"

namespace cairn::testing {

// Reads a gauge from the /metrics of the node whose HTTP address is
// `http_address` ("host:port"); -1 if unreadable.
double ReadMetric(const std::string& http_address, const std::string& name);

// The first sanitizer report in `log` (ThreadSanitizer, AddressSanitizer,
// LeakSanitizer or UBSan), up to `max_lines` lines of it; empty if none.
std::string SanitizerReport(const std::string& log, size_t max_lines = 80);

class NodeProcess {
 public:
  // Picks ports; nothing starts until Start().
  NodeProcess(TestPki* pki, uint64_t node_id, std::string work_dir);
  // Stops the process; fails the running test if the node's log holds a
  // sanitizer report (under halt_on_error a report ends the node, which a
  // test that tolerates a lost node would otherwise never notice).
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts cairn-node with the standard flags plus `extra_args`.
  absl::Status Start(const std::vector<std::string>& extra_args = {});
  // Polls until the client port answers an authenticated call.
  absl::Status WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Kill() {
    process_.Signal(9);
    process_.Wait(std::chrono::seconds(10));
  }
  // Sends `signal` (e.g. SIGSTOP / SIGCONT to pause and resume the node).
  void Signal(int signal) { process_.Signal(signal); }
  pid_t pid() const { return process_.pid(); }
  // SIGTERM, then the exit code (or -1 if it did not exit within `timeout`).
  int Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool Running() { return process_.Running(); }
  int Wait(std::chrono::milliseconds timeout) { return process_.Wait(timeout); }

  // Points the node at another data directory (before Start).
  void set_data_dir(std::string dir) { data_dir_ = std::move(dir); }
  // Listens for clients on another address (before Start).
  void set_client_address(std::string address) { client_address_ = std::move(address); }
  // The --initial-cluster value (before Start); by default this node alone.
  void set_initial_cluster(std::string members) { initial_cluster_ = std::move(members); }
  // Starts with the product's Raft timing (100 ms ticks, 1-2 s elections)
  // instead of the tests' fast one (20 ms ticks), for measurements of
  // failover that an operator's deployment would see (cairn-drill).
  void set_product_timing(bool product) { product_timing_ = product; }
  // --log-format (before Start): "text" (the tests' default) or "json".
  void set_log_format(std::string format) { log_format_ = std::move(format); }
  // "ID@PEER/CLIENT" for --initial-cluster.
  std::string MemberSpec() const;
  // Reads a gauge from /metrics (e.g. "cairn_raft_is_leader"); -1 if unreadable.
  double Metric(const std::string& name) const;
  // HTTP status of GET `path` on the node's HTTP port (0 if unreachable).
  int HttpStatus(const std::string& path) const;

  uint64_t node_id() const { return node_id_; }
  const std::string& client_address() const { return client_address_; }
  const std::string& peer_address() const { return peer_address_; }
  const std::string& http_address() const { return http_address_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const { return ReadFileOrEmpty(log_path_); }

  // Runs cairnctl against this node as user `user` (issued on first use).
  CommandResult Cairnctl(const std::vector<std::string>& args, const std::string& user = "admin",
                         const std::string& stdin_data = "");

 private:
  TestPki* pki_;
  uint64_t node_id_;
  std::string data_dir_;
  std::string log_path_;
  std::string client_address_;
  std::string peer_address_;
  std::string http_address_;
  std::string initial_cluster_;
  bool product_timing_ = false;
  std::string log_format_ = "text";
  Subprocess process_;
};

}  // namespace cairn::testing
