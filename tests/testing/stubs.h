// gRPC stubs for integration tests: talk to a node as a test user over mTLS,
// with a deadline on every call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "cairn/v1/admin.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "cairn/v1/raft.grpc.pb.h"
#include "testing/pki.h"

namespace cairn::testing {

// A channel to `address` authenticated with `creds` (no client certificate
// when creds.cert is empty), trusting `service_cert_file`.
std::shared_ptr<grpc::Channel> Channel(const std::string& address, const CertFiles& creds,
                                       const std::string& service_cert_file);

inline std::unique_ptr<v1::LedgerService::Stub> Ledger(TestPki& pki, const std::string& user,
                                                       const std::string& address) {
  return v1::LedgerService::NewStub(Channel(address, pki.User(user), pki.service_cert()));
}
inline std::unique_ptr<v1::AdminService::Stub> Admin(TestPki& pki, const std::string& user,
                                                     const std::string& address) {
  return v1::AdminService::NewStub(Channel(address, pki.User(user), pki.service_cert()));
}

// A client context with a deadline.
inline std::unique_ptr<grpc::ClientContext> Ctx(
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  return ctx;
}

}  // namespace cairn::testing
