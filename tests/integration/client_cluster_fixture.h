// A real three-node cluster (testing/cluster.h) for the client SDK and
// cairnctl integration tests, and the few things those tests need from it:
// SDK options and cairnctl flags for a test user, and the current leader.
// Users: "admin" is the first Administrator (created with the service);
// tests add the others they need through the SDK.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cairn/base/check.h"
#include "cairn/client/client.h"
#include "testing/cluster.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cairn::testing {

// SDK options for `user` against `endpoints` (every node of `cluster` when
// empty): quick retries, and a minute before a call gives up.
inline client::ClientOptions ClusterClientOptions(TestCluster& cluster, const std::string& user,
                                                  std::vector<std::string> endpoints = {}) {
  if (endpoints.empty()) {
    for (size_t id = 1; id <= cluster.size(); ++id) {
      endpoints.push_back(cluster.node(id).client_address());
    }
  }
  client::ClientOptions o;
  o.endpoints = std::move(endpoints);
  const CertFiles creds = cluster.pki().User(user);
  o.credentials.cert_file = creds.cert;
  o.credentials.key_file = creds.key;
  o.credentials.service_cert_file = cluster.pki().service_cert();
  o.call_timeout_ms = 5000;
  o.retry.initial_backoff_ms = 20;
  o.retry.max_backoff_ms = 500;
  o.retry.total_timeout_ms = 60000;
  return o;
}

inline std::unique_ptr<client::Client> MakeClusterClient(const client::ClientOptions& options) {
  auto c = client::Client::Create(options);
  CAIRN_CHECK_OK(c.status());
  return *std::move(c);
}

class ClientClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<TestCluster>(tmp_.path(), 3, ClusterArgs());
    const absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started << "\n" << cluster_->node(1).Log();
  }

  // Arguments every node of the cluster gets (a fixture may add some).
  virtual std::vector<std::string> ClusterArgs() const { return {}; }

  void TearDown() override {
    if (HasFailure()) {
      for (size_t id = 1; id <= cluster_->size(); ++id) {
        std::cerr << "---- node " << id << " log (tail) ----\n";
        const std::string log = cluster_->node(id).Log();
        std::cerr << log.substr(log.size() > 8000 ? log.size() - 8000 : 0) << "\n";
      }
    }
  }

  std::vector<std::string> Addresses() const {
    std::vector<std::string> out;
    for (size_t id = 1; id <= cluster_->size(); ++id) {
      out.push_back(cluster_->node(id).client_address());
    }
    return out;
  }

  client::ClientOptions Options(const std::string& user = "admin") {
    return ClusterClientOptions(*cluster_, user, Addresses());
  }

  std::unique_ptr<client::Client> MakeClient(const client::ClientOptions& options) {
    return MakeClusterClient(options);
  }

  // Makes `user` known with `role` (through the first Administrator).
  void AddUser(const std::string& user, v1::Role role) {
    auto admin = MakeClient(Options("admin"));
    v1::User u;
    u.set_role(role);
    u.set_description(user);
    auto txid = admin->PutUser(u, ReadFileOrEmpty(cluster_->pki().User(user).cert));
    ASSERT_TRUE(txid.ok()) << txid.status();
  }

  // cairnctl `args` as `user` against every node.
  CommandResult Cairnctl(const std::vector<std::string>& args, const std::string& user = "admin",
                         const std::string& stdin_data = "") {
    std::vector<std::string> argv = {BinaryPath("client/cairnctl")};
    argv.insert(argv.end(), args.begin(), args.end());
    const CertFiles creds = cluster_->pki().User(user);
    for (const std::string& e : cluster_->Endpoints()) argv.push_back(e);
    argv.push_back("--cert=" + creds.cert);
    argv.push_back("--key=" + creds.key);
    argv.push_back("--service-cert=" + cluster_->pki().service_cert());
    return RunCommand(argv, stdin_data);
  }

  uint64_t Leader() {
    absl::StatusOr<uint64_t> id = cluster_->WaitForLeader();
    CAIRN_CHECK_OK(id.status());
    return *id;
  }

  TempDir tmp_;
  std::unique_ptr<TestCluster> cluster_;
};

}  // namespace cairn::testing
