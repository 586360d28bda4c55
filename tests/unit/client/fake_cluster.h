// Test fixture pieces: a throwaway PKI, one FakeLedger signed as node 1, and
// `n` FakeServers serving it (the first is the leader, the others followers
// that point to it). Users "admin" (Administrator), "writer" (Contributor) and
// "reader" (Reader) are known; "stranger" has a certificate but no role.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cairn/base/check.h"
#include "cairn/client/options.h"
#include "fake_ledger.h"
#include "fake_server.h"
#include "testing/pki.h"
#include "testing/temp_dir.h"

namespace cairn::testing {

class FakeCluster {
 public:
  explicit FakeCluster(int n = 1) : pki_(tmp_.path()) {
    const CertFiles node = pki_.Node(1);
    ledger_ = std::make_unique<FakeLedger>(pki_.service_cert(), node.cert, node.key, 1);
    ledger_->PutUser(pki_.UserId("admin"), v1::ROLE_ADMINISTRATOR);
    ledger_->PutUser(pki_.UserId("writer"), v1::ROLE_CONTRIBUTOR);
    ledger_->PutUser(pki_.UserId("reader"), v1::ROLE_READER);
    for (int i = 0; i < n; ++i) {
      const CertFiles tls = pki_.Node(i + 1);
      servers_.push_back(
          std::make_unique<FakeServer>(ledger_.get(), tls.cert, tls.key, pki_.service_cert()));
      CAIRN_CHECK_OK(servers_.back()->Start());
    }
    for (int i = 1; i < n; ++i) servers_[i]->set_follower_of(servers_[0]->address());
  }

  FakeServer& server(int i) { return *servers_[i]; }
  FakeLedger& ledger() { return *ledger_; }
  TestPki& pki() { return pki_; }
  const std::string& dir() const { return tmp_.path(); }

  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (const auto& s : servers_) out.push_back(s->address());
    return out;
  }

  // Options for a client of user `user` that knows `endpoints` (default: all
  // servers, leader first), with short retry bounds so failures are quick.
  client::ClientOptions Options(const std::string& user = "admin",
                                std::vector<std::string> endpoints = {}) {
    client::ClientOptions o;
    o.endpoints = endpoints.empty() ? addresses() : std::move(endpoints);
    const CertFiles creds = pki_.User(user);
    o.credentials.cert_file = creds.cert;
    o.credentials.key_file = creds.key;
    o.credentials.service_cert_file = pki_.service_cert();
    o.call_timeout_ms = 5000;
    o.retry.initial_backoff_ms = 10;
    o.retry.max_backoff_ms = 100;
    o.retry.total_timeout_ms = 5000;
    return o;
  }

  // cairnctl flags for user `user` against `endpoints` (default: all servers).
  std::vector<std::string> CairnctlFlags(const std::string& user = "admin",
                                         std::vector<std::string> endpoints = {}) {
    const CertFiles creds = pki_.User(user);
    std::string joined;
    for (const std::string& e : endpoints.empty() ? addresses() : endpoints) {
      joined += (joined.empty() ? "" : ",") + e;
    }
    return {"--endpoint=" + joined, "--cert=" + creds.cert, "--key=" + creds.key,
            "--service-cert=" + pki_.service_cert()};
  }

 private:
  TempDir tmp_;
  TestPki pki_;
  std::unique_ptr<FakeLedger> ledger_;
  std::vector<std::unique_ptr<FakeServer>> servers_;
};

}  // namespace cairn::testing
