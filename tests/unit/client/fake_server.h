// A fake Cairn node for client tests: LedgerService and AdminService over
// gRPC with mutual TLS on 127.0.0.1, serving a FakeLedger, with faults the
// tests switch on: follower answers with a "cairn-leader" hint, failures
// with a chosen status, appends applied but answered with an error (a lost
// answer) or held past the client's deadline, a rolled-back latest
// checkpoint, corrupted consistency proofs, a different (forked) ledger.
#pragma once

#include <grpcpp/server.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "fake_ledger.h"

namespace cairn::testing {

class FakeServer {
 public:
  // Serves `ledger` (not owned, must outlive the server) presenting the TLS
  // certificate and key in the given files; clients must present a
  // certificate issued by `service_cert_file`.
  FakeServer(FakeLedger* ledger, std::string tls_cert_file, std::string tls_key_file,
             std::string service_cert_file);
  ~FakeServer();

  // Listens on 127.0.0.1:`port` (0: any free port).
  absl::Status Start(int port = 0);
  void Stop();
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  // ---- Faults ----
  // Non-empty: this node is a follower of `leader_address` and answers every
  // write UNAVAILABLE with that address in the cairn-leader trailer.
  void set_follower_of(std::string leader_address);
  // The next `n` calls of `method` ("" = any) fail with `code` and, when
  // `hint` is set, a cairn-leader trailer.
  void FailNext(int n, grpc::StatusCode code, std::string method = "", std::string hint = "");
  // The next `n` appends are applied and then answered UNAVAILABLE.
  void LoseNextAppendAnswers(int n);
  // The next `n` appends wait until the client gives up on them (the call is
  // cancelled or its deadline passes), then are applied anyway.
  void HoldNextAppends(int n);
  // GetLatestCheckpoint answers with the checkpoint of this size (0: latest).
  void set_latest_size(uint64_t size);
  // GetLatestCheckpoint answers with exactly this (e.g. a genuine checkpoint
  // captured earlier from a real cluster); nullopt: from the ledger.
  void set_fixed_checkpoint(std::optional<v1::GetLatestCheckpointResponse> checkpoint);
  std::optional<v1::GetLatestCheckpointResponse> fixed_checkpoint() const;
  // Receipts come under the checkpoint of this size (0: the latest).
  void set_receipt_size(uint64_t size);
  // Every consistency proof has one byte flipped.
  void set_corrupt_proofs(bool corrupt);
  // Serve another ledger from now on (e.g. a fork).
  void set_ledger(FakeLedger* ledger);

  // Held appends that have reached the ledger since the server started.
  int held_appends_done() const;
  // Calls received per method name (failed ones included).
  int calls(const std::string& method) const;

  // What the services call; public for them, not for tests.
  absl::Status Intercept(grpc::ServerContext* context, const std::string& method, bool is_write);
  FakeLedger* ledger() const;
  std::string CallerId(grpc::ServerContext* context) const;
  absl::Status RequireRole(grpc::ServerContext* context, v1::Role role) const;
  bool TakeLostAnswer();
  bool TakeHold();
  void HoldDone();
  uint64_t latest_size() const;
  uint64_t receipt_size() const;
  bool corrupt_proofs() const;

 private:
  struct Failure {
    int remaining = 0;
    grpc::StatusCode code = grpc::StatusCode::OK;
    std::string method;
    std::string hint;
  };
  class Ledger;
  class Admin;

  const std::string tls_cert_file_;
  const std::string tls_key_file_;
  const std::string service_cert_file_;
  std::unique_ptr<Ledger> ledger_service_;
  std::unique_ptr<Admin> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  FakeLedger* ledger_ ABSL_GUARDED_BY(mu_);
  std::string follower_of_ ABSL_GUARDED_BY(mu_);
  Failure failure_ ABSL_GUARDED_BY(mu_);
  int lost_answers_ ABSL_GUARDED_BY(mu_) = 0;
  int holds_ ABSL_GUARDED_BY(mu_) = 0;
  int holds_done_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t latest_size_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t receipt_size_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<v1::GetLatestCheckpointResponse> fixed_checkpoint_ ABSL_GUARDED_BY(mu_);
  bool corrupt_proofs_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cairn::testing
