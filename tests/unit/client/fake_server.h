// A fake Cairn node for client tests: LedgerService and AdminService over
// gRPC with mutual TLS on 127.0.0.1, serving a FakeLedger, with faults the
// tests switch on: follower answers NOT_LEADER naming the leader, failures
// with a chosen status and error reason, appends applied but answered with an
// error (a lost answer) or held past the client's deadline, a rolled-back
// latest checkpoint, corrupted consistency proofs, a different (forked)
// ledger. Every error a node would make carries its reason encoded by the
// node's own code (node/src/errors/status.cc: WithReason, ToGrpcStatus), so the SDK
// is tested against exactly what a node sends; only the faults that stand
// for gRPC itself (a lost connection, Fault::bare) have no details.
#pragma once

#include <grpcpp/server.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "cairn/v1/errors.pb.h"
#include "fake_ledger.h"

namespace cairn::testing {

// A failure the fake answers with (see FakeServer::Fail).
struct Fault {
  grpc::StatusCode code = grpc::StatusCode::UNAVAILABLE;
  // UNSPECIFIED: the reason a node gives an error of `code` without one
  // (node::ReasonOrDefault, e.g. OUTCOME_UNKNOWN for UNAVAILABLE).
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  std::vector<std::pair<std::string, std::string>> metadata;  // at most 3
  // True: no status details at all, as gRPC itself (not a node) answers.
  bool bare = false;
  std::string method;   // "" = any
  std::string hint;     // a cairn-leader trailer
  std::string message;  // "" = "<method> failed (fake fault)"
};

class FakeServer {
 public:
  // Serves `ledger` (not owned; it must outlive the server or, if replaced,
  // the set_ledger call that replaces it) presenting the TLS
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
  // write as a node does: UNAVAILABLE, reason NOT_LEADER with metadata
  // leader_address, and that address in the cairn-leader trailer.
  void set_follower_of(std::string leader_address);
  // The next `n` calls of `fault.method` ("" = any) fail with `fault`.
  void Fail(int n, Fault fault);
  // The next `n` calls of `method` ("" = any) fail with `code`, the reason a
  // node gives that code and, when `hint` is set, a cairn-leader trailer.
  void FailNext(int n, grpc::StatusCode code, std::string method = "", std::string hint = "");
  // The next `n` appends are applied and then answered UNAVAILABLE without
  // details: the connection broke after the node had the append.
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
  // Serve another ledger from now on (e.g. a fork). Returns once no call
  // uses the ledger it replaces, so the caller may then destroy it. Without
  // the wait, a test that destroys it after its client has the answer is
  // ordered after the call's use only through gRPC's threads, the network and
  // perhaps a cairnctl process: nothing that says so, nothing TSan can see,
  // and no help against a call still running (a held append, a retry).
  void set_ledger(FakeLedger* ledger);

  // Held appends that have reached the ledger since the server started.
  int held_appends_done() const;
  // Calls received per method name (failed ones included).
  int calls(const std::string& method) const;

  // What the services call; public for them, not for tests.
  grpc::Status Intercept(grpc::ServerContext* context, const std::string& method, bool is_write);
  // The served ledger, pinned while the returned use lives (use it within
  // one expression: `server_->ledger()->Append(...)`).
  class LedgerUse {
   public:
    LedgerUse(const FakeServer* server, FakeLedger* ledger) : server_(server), ledger_(ledger) {}
    ~LedgerUse();
    LedgerUse(const LedgerUse&) = delete;
    LedgerUse& operator=(const LedgerUse&) = delete;
    FakeLedger* operator->() const { return ledger_; }

   private:
    const FakeServer* server_;
    FakeLedger* ledger_;
  };
  LedgerUse ledger() const;
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
    Fault fault;
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
  // Live LedgerUses. Invariant: a ledger set_ledger has replaced has none.
  mutable int ledger_uses_ ABSL_GUARDED_BY(mu_) = 0;
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
