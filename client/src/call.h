// One logical call with retries, on gRPC's callback API: each attempt is an
// asynchronous unary RPC to one node; a failed attempt is retried (see
// retry.h) at the node the answer pointed to, or the next one, after a
// backoff timer on the Core's scheduler. No thread waits while a call is in
// flight, so one client can keep thousands of appends going.
//
// Lifetime: the call object is owned by the Core's registry of calls in
// flight and by whichever callback is pending (an RPC completion or a
// scheduled retry); exactly one is pending at a time. `done` runs exactly
// once, then the call leaves the registry. The call does not own the Core:
// Core::Shutdown waits until every call object is destroyed (LiveCalls), and
// a call releases its channel references before it says it is gone, so the
// Core's channels are never released last on a gRPC thread.
#pragma once

#include <grpcpp/client_context.h>

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cairn/client/errors.h"
#include "core.h"
#include "error_info.h"
#include "retry.h"

namespace cairn::client::internal {

struct CallSpec {
  const char* method = "";  // for error messages, e.g. "Append"
  Repeatable repeatable = Repeatable::kYes;
  // A write (Append, a governance change): once an attempt may have reached
  // a node, a failure of the call is reported as OUTCOME_UNKNOWN, whatever
  // later attempts were told (see Outcome).
  bool write = false;
  // An Append's idempotency key, named in an OUTCOME_UNKNOWN error's metadata
  // so that the caller can retry with it.
  std::string idempotency_key;
  // Non-empty: every attempt goes to this node (no redirects).
  std::string pinned_endpoint;
  // Deadline of each attempt; 0 means options().call_timeout_ms.
  int64_t attempt_timeout_ms = 0;
  // Bound on the call with its retries; 0 means options().retry.total_timeout_ms.
  int64_t total_timeout_ms = 0;
  // A success proves the node leads (it accepted a write).
  bool records_leader = false;
  // When set, receives the address of the node that answered successfully.
  std::shared_ptr<std::string> answered_by;
};

template <typename Request, typename Response>
using RpcStarter = std::function<void(Endpoint&, grpc::ClientContext*, const Request*, Response*,
                                      std::function<void(grpc::Status)>)>;

// A starter for `service`'s `Method` (service: ledger or admin).
#define CAIRN_RPC(service, Method)                                                          \
  [](::cairn::client::internal::Endpoint& e, ::grpc::ClientContext* c, const auto* request, \
     auto* response, std::function<void(::grpc::Status)> f) {                               \
    e.service->async()->Method(c, request, response, std::move(f));                         \
  }

template <typename Request, typename Response>
class RetryingCall final : public Operation,
                           public std::enable_shared_from_this<RetryingCall<Request, Response>> {
 public:
  using Done = std::function<void(absl::StatusOr<Response>)>;

  static void Start(Core* core, CallSpec spec, Request request,
                    RpcStarter<Request, Response> starter, Done done) {
    auto call = std::shared_ptr<RetryingCall>(new RetryingCall(
        core, std::move(spec), std::move(request), std::move(starter), std::move(done)));
    if (absl::Status s = core->Register(call); !s.ok()) {
      call->done_(s);
      return;
    }
    std::shared_ptr<Endpoint> first = call->spec_.pinned_endpoint.empty()
                                          ? core->FirstEndpoint()
                                          : core->EndpointAt(call->spec_.pinned_endpoint);
    if (first == nullptr) {
      call->Finish(
          WithReason(absl::ResourceExhaustedError(absl::StrCat(
                         "channels_max=", core->options().channels_max, " channels are open")),
                     ErrorReason::kLimitExceeded, {{std::string(kLimitKey), "channels_max"}}));
      return;
    }
    call->Attempt(std::move(first));
  }

  ~RetryingCall() override {
    context_.reset();  // holds the channel too
    endpoint_.reset();
    live_->Remove();
  }

  void Cancel() override {
    grpc::ClientContext* context = nullptr;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      context = context_.get();  // not replaced once cancelled_ is set
    }
    if (context != nullptr) context->TryCancel();
  }

 private:
  RetryingCall(Core* core, CallSpec spec, Request request, RpcStarter<Request, Response> starter,
               Done done)
      : core_(core),
        live_(core->live_calls()),
        spec_(std::move(spec)),
        request_(std::move(request)),
        request_bytes_(request_.ByteSizeLong()),
        starter_(std::move(starter)),
        done_(std::move(done)),
        started_(absl::Now()),
        deadline_(started_ + absl::Milliseconds(spec_.total_timeout_ms > 0
                                                    ? spec_.total_timeout_ms
                                                    : core_->options().retry.total_timeout_ms)) {
    live_->Add();
  }

  void Attempt(std::shared_ptr<Endpoint> endpoint) {
    // A retry that comes due late (a busy timer thread) is not started past
    // the deadline: the call ends now, on what it knows.
    if (attempts_ > 0 && absl::Now() >= deadline_) {
      Finish(Outcome(last_error_, /*out_of_time=*/true));
      return;
    }
    grpc::ClientContext* context = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        const int64_t timeout_ms = spec_.attempt_timeout_ms > 0 ? spec_.attempt_timeout_ms
                                                                : core_->options().call_timeout_ms;
        // Invariant: no attempt outlives the call's deadline.
        const absl::Time attempt_deadline =
            std::min(absl::Now() + absl::Milliseconds(timeout_ms), deadline_);
        context_ = std::make_unique<grpc::ClientContext>();
        context_->set_deadline(absl::ToChronoTime(attempt_deadline));
        context = context_.get();
        endpoint_ = std::move(endpoint);
        response_ = Response();
        ++attempts_;
      }
    }
    if (context == nullptr) {
      last_from_.clear();
      // Not sent: this attempt changed nothing (earlier ones may have).
      Finish(Outcome(WithReason(absl::CancelledError(
                                    absl::StrCat(spec_.method, ": the client is shutting down")),
                                ErrorReason::kShuttingDown),
                     /*out_of_time=*/false));
      return;
    }
    // No lock across the call: its callback may run on this thread.
    starter_(*endpoint_, context, &request_, &response_,
             [self = this->shared_from_this()](grpc::Status status) {
               self->OnAttemptDone(std::move(status));
             });
  }

  // The leader the answer names (its leader_address metadata, else the
  // cairn-leader trailer), when it is another plausible node.
  std::string LeaderHint(const absl::Status& status) const {
    std::string hint = ErrorMetadata(status, kLeaderAddressKey).value_or("");
    if (hint.empty()) {
      const auto& trailers = context_->GetServerTrailingMetadata();
      auto it = trailers.find(std::string(kLeaderTrailer));
      if (it != trailers.end()) hint.assign(it->second.data(), it->second.size());
    }
    return PlausibleAddress(hint) && hint != endpoint_->address ? hint : "";
  }

  void OnAttemptDone(grpc::Status answer) {
    if (answer.ok()) {
      if (spec_.records_leader) core_->RecordLeader(endpoint_->address);
      if (spec_.answered_by != nullptr) *spec_.answered_by = endpoint_->address;
      Finish(std::move(response_));
      return;
    }
    absl::Status status = FromGrpc(answer);
    if (std::optional<absl::Status> too_large =
            MessageSizeError(status, spec_.method, request_bytes_)) {
      status = *std::move(too_large);
    } else if (std::optional<absl::Status> not_ours =
                   ServerCertificateError(status, endpoint_->address)) {
      status = *std::move(not_ours);
    }
    if (spec_.write && MayHaveBeenActedOn(status)) {
      maybe_acted_on_ = true;
      if (ReasonOf(status) == ErrorReason::kOutcomeUnknown) {
        if (auto txid = ErrorMetadata(status, kTxidKey)) unknown_txid_ = *txid;
      }
    }
    last_error_ = status;
    last_from_ = endpoint_->address;
    const std::string hint = LeaderHint(status);
    RetryVerdict verdict = Classify(status, spec_.repeatable, !hint.empty());
    if (verdict == RetryVerdict::kGiveUp) {
      Finish(Outcome(status, /*out_of_time=*/false));
      return;
    }
    if (core_->closing()) {
      // It would have been retried: the client's shutdown ends it, as it
      // ends a call waiting for its next attempt (an answer that raced with
      // the cancellation is not what the call comes to).
      Finish(Outcome(WithReason(absl::CancelledError(absl::StrCat(
                                    spec_.method, ": the client is shutting down (last answer: ",
                                    status.message(), ")")),
                                ErrorReason::kShuttingDown),
                     /*out_of_time=*/false));
      return;
    }
    std::shared_ptr<Endpoint> next = endpoint_;
    if (spec_.pinned_endpoint.empty() && verdict != RetryVerdict::kBackOffHere) {
      next = core_->NextAfterFailure(endpoint_->address, hint);
    }
    int64_t delay_ms = 0;
    if (verdict == RetryVerdict::kRedirect && !spec_.pinned_endpoint.empty()) {
      verdict = RetryVerdict::kBackOff;
    }
    if (verdict == RetryVerdict::kRedirect &&
        redirects_in_a_row_ < core_->options().retry.redirects_without_backoff_max) {
      ++redirects_in_a_row_;
    } else {
      redirects_in_a_row_ = 0;
      const RetryPolicy& policy = core_->options().retry;
      delay_ms = JitteredMs(policy, BackoffMs(policy, backoffs_++), core_->RandomUnit());
    }
    // Never a backoff that ends at or past the deadline: the call fails now
    // rather than sleep out its budget for an attempt it could not make.
    const absl::Time retry_at = absl::Now() + absl::Milliseconds(delay_ms);
    if (retry_at >= deadline_) {
      Finish(Outcome(status, /*out_of_time=*/true));
      return;
    }
    if (delay_ms == 0) {
      Attempt(std::move(next));
      return;
    }
    core_->scheduler().RunAt(retry_at,
                             [self = this->shared_from_this(), next] { self->Attempt(next); });
  }

  // What the call as a whole reports, given its last answer. `out_of_time`:
  // it stops because its deadline leaves no room for another attempt.
  absl::Status Outcome(const absl::Status& last, bool out_of_time) const {
    const std::string gave_up =
        out_of_time ? absl::StrCat("gave up after ", attempts_, " attempts in ",
                                   absl::ToInt64Milliseconds(absl::Now() - started_), " ms (limit ",
                                   absl::ToInt64Milliseconds(deadline_ - started_), " ms); ")
                    : "";
    if (spec_.write && maybe_acted_on_) {
      if (!out_of_time && ErrorInfoOf(last) && MayHaveBeenWritten(last)) {
        // The node's own answer already says the write may have been made
        // (OUTCOME_UNKNOWN, INTERNAL, ...): its reason stands.
        return WithOutcomeMetadata(last);
      }
      // The last answer may well say "not written", but an earlier attempt
      // may have been acted on: "unknown" is all that is true of the call.
      absl::Status out = WithReason(
          absl::Status(
              out_of_time ? absl::StatusCode::kDeadlineExceeded : last.code(),
              absl::StrCat(spec_.method, ": ", gave_up,
                           "the outcome is unknown: an attempt may have reached the "
                           "leader, so it may or may not have been written",
                           unknown_txid_.empty() ? "" : " as txid " + unknown_txid_, " (",
                           RetryAdvice(), "); last answer", LastFrom(), ": ", last.message())),
          ErrorReason::kOutcomeUnknown);
      return WithOutcomeMetadata(out);
    }
    if (!out_of_time) return last;
    return Rewrap(
        last, last.code(),
        absl::StrCat(spec_.method, ": ", gave_up, "last answer", LastFrom(), ": ", last.message()));
  }

  std::string LastFrom() const { return last_from_.empty() ? "" : ", from " + last_from_; }

  // `status` with the txid an attempt reported (unless it names one) and the
  // append's idempotency key: what the caller needs to settle the outcome.
  absl::Status WithOutcomeMetadata(absl::Status status) const {
    if (!unknown_txid_.empty() && !ErrorMetadata(status, kTxidKey)) {
      status = WithMetadata(std::move(status), kTxidKey, unknown_txid_);
    }
    if (!spec_.idempotency_key.empty()) {
      status = WithMetadata(std::move(status), kIdempotencyKeyKey, spec_.idempotency_key);
    }
    return status;
  }

  std::string RetryAdvice() const {
    std::string advice = spec_.idempotency_key.empty() ? "" : "retry with the same idempotency key";
    if (!unknown_txid_.empty()) {
      absl::StrAppend(&advice, advice.empty() ? "" : ", or ", "GetTransactionStatus(",
                      unknown_txid_, ") tells");
    }
    return advice.empty() ? "check before repeating it" : advice;
  }

  void Finish(absl::StatusOr<Response> result) {
    done_(std::move(result));
    core_->Unregister(this);
  }

  Core* const core_;  // outlives the call (see above)
  const std::shared_ptr<LiveCalls> live_;
  const CallSpec spec_;
  const Request request_;  // the same for every attempt (and its idempotency key)
  const size_t request_bytes_;
  const RpcStarter<Request, Response> starter_;
  const Done done_;
  const absl::Time started_;
  const absl::Time deadline_;  // no attempt runs past it

  absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  // The current attempt's context; replaced only by Attempt, under mu_.
  std::unique_ptr<grpc::ClientContext> context_;
  // Touched only by the one pending callback at a time.
  std::shared_ptr<Endpoint> endpoint_;
  Response response_;
  absl::Status last_error_;
  std::string last_from_;  // the node that gave last_error_ ("" when none did)
  // Some attempt of this write may have been acted on by a node.
  bool maybe_acted_on_ = false;
  // The txid an OUTCOME_UNKNOWN answer named (the latest one).
  std::string unknown_txid_;
  int attempts_ = 0;
  int backoffs_ = 0;
  int redirects_in_a_row_ = 0;
};

// Starts a call; `done` gets the result.
template <typename Request, typename Response>
void StartCall(const std::shared_ptr<Core>& core, CallSpec spec, Request request,
               RpcStarter<Request, Response> starter,
               std::function<void(absl::StatusOr<Response>)> done) {
  RetryingCall<Request, Response>::Start(core.get(), std::move(spec), std::move(request),
                                         std::move(starter), std::move(done));
}

// Runs a call and waits for its result.
template <typename Response, typename Request, typename Starter>
absl::StatusOr<Response> CallSync(const std::shared_ptr<Core>& core, CallSpec spec, Request request,
                                  Starter starter) {
  std::promise<absl::StatusOr<Response>> promise;
  std::future<absl::StatusOr<Response>> result = promise.get_future();
  StartCall<Request, Response>(
      core, std::move(spec), std::move(request), RpcStarter<Request, Response>(std::move(starter)),
      [&promise](absl::StatusOr<Response> r) { promise.set_value(std::move(r)); });
  return result.get();
}

}  // namespace cairn::client::internal
