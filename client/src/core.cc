// Client internals: routing, randomness and calls in flight (see core.h).
#include "core.h"

#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/client/errors.h"
#include "error_info.h"
#include "retry.h"

namespace cairn::client::internal {
namespace {

absl::Status ValidateOptions(const ClientOptions& o) {
  if (o.endpoints.empty()) return absl::InvalidArgumentError("endpoints: give at least one");
  for (const std::string& e : o.endpoints) {
    if (!PlausibleAddress(e)) {
      return absl::InvalidArgumentError(
          absl::StrCat("endpoints: '", e.substr(0, 64), "' is not host:port"));
    }
  }
  if (o.call_timeout_ms < 1 || o.call_timeout_ms > 3600000) {
    return absl::InvalidArgumentError(
        absl::StrCat("call_timeout_ms is ", o.call_timeout_ms, "; must be 1 to 3600000"));
  }
  if (absl::Status s = ValidatePolicy(o.retry); !s.ok()) return s;
  if (o.channels_max < static_cast<int64_t>(o.endpoints.size()) || o.channels_max > 1024) {
    return absl::InvalidArgumentError(absl::StrCat("channels_max is ", o.channels_max,
                                                   "; must be at least the number of endpoints (",
                                                   o.endpoints.size(), ") and at most 1024"));
  }
  if (o.inflight_calls_max < 1 || o.inflight_calls_max > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("inflight_calls_max is ", o.inflight_calls_max, "; must be 1 to 1000000"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<Core>> Core::Create(ClientOptions options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  absl::StatusOr<LoadedCredentials> credentials = LoadCredentials(options.credentials);
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<ledger::Certificate> service_cert =
      ledger::Certificate::FromPem(credentials->service_cert_pem);
  if (!service_cert.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service certificate: ", service_cert.status().message()));
  }
  std::shared_ptr<Core> core(
      new Core(std::move(options), *std::move(credentials), *std::move(service_cert)));
  if (core->options_.verified_state.enabled) {
    core->verified_state_ = std::make_unique<VerifiedState>(
        core->service_cert_, core->options_.verified_state.state_file);
    if (absl::Status s = core->verified_state_->Load(); !s.ok()) return s;
  }
  return core;
}

Core::Core(ClientOptions options, LoadedCredentials credentials, ledger::Certificate service_cert)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      service_cert_(std::move(service_cert)) {}

Core::~Core() { Shutdown(); }

std::shared_ptr<Endpoint> Core::EndpointAtLocked(const std::string& address) {
  auto it = endpoints_.find(address);
  if (it != endpoints_.end()) return it->second;
  if (static_cast<int64_t>(endpoints_.size()) >= options_.channels_max) return nullptr;
  auto endpoint = std::make_shared<Endpoint>();
  endpoint->address = address;
  endpoint->channel = OpenChannel(address, credentials_);
  endpoint->ledger = v1::LedgerService::NewStub(endpoint->channel);
  endpoint->admin = v1::AdminService::NewStub(endpoint->channel);
  endpoints_.emplace(address, endpoint);
  return endpoint;
}

std::shared_ptr<Endpoint> Core::EndpointAt(const std::string& address) {
  absl::MutexLock lock(&mu_);
  return EndpointAtLocked(address);
}

std::shared_ptr<Endpoint> Core::FirstEndpoint() {
  absl::MutexLock lock(&mu_);
  if (!leader_.empty()) {
    if (std::shared_ptr<Endpoint> e = EndpointAtLocked(leader_)) return e;
  }
  std::shared_ptr<Endpoint> e = EndpointAtLocked(options_.endpoints[cursor_]);
  CAIRN_CHECK(e != nullptr) << "configured endpoints always fit in channels_max";
  return e;
}

std::shared_ptr<Endpoint> Core::NextAfterFailure(const std::string& failed,
                                                 const std::string& hint) {
  absl::MutexLock lock(&mu_);
  if (!hint.empty() && hint != failed) {
    if (std::shared_ptr<Endpoint> e = EndpointAtLocked(hint)) {
      leader_ = hint;
      return e;
    }
  }
  if (leader_ == failed) leader_.clear();
  const std::vector<std::string>& configured = options_.endpoints;
  for (size_t i = 0; i < configured.size(); ++i) {
    // Advance from where `failed` is, not by one per failure, so that many
    // calls failing on one node at once do not skip the next one.
    if (configured[i] == failed) {
      cursor_ = (i + 1) % configured.size();
      break;
    }
  }
  std::shared_ptr<Endpoint> e = EndpointAtLocked(configured[cursor_]);
  CAIRN_CHECK(e != nullptr) << "configured endpoints always fit in channels_max";
  return e;
}

void Core::RecordLeader(const std::string& address) {
  absl::MutexLock lock(&mu_);
  leader_ = address;
}

std::string Core::leader() const {
  absl::MutexLock lock(&mu_);
  return leader_;
}

double Core::RandomUnit() {
  absl::MutexLock lock(&mu_);
  return absl::Uniform<double>(rng_, 0.0, 1.0);
}

std::string Core::NewIdempotencyKey() {
  unsigned char bytes[16];
  CAIRN_CHECK(RAND_bytes(bytes, sizeof(bytes)) == 1) << "OpenSSL RAND_bytes failed";
  return base::HexEncode(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

absl::Status Core::Register(std::shared_ptr<Operation> op) {
  absl::MutexLock lock(&mu_);
  // Refused before anything is sent: reasons that say "not written".
  if (closing_) {
    return WithReason(absl::CancelledError("the client is shutting down"),
                      ErrorReason::kShuttingDown);
  }
  if (static_cast<int64_t>(inflight_.size()) >= options_.inflight_calls_max) {
    return WithReason(
        absl::ResourceExhaustedError(absl::StrCat(
            "inflight_calls_max=", options_.inflight_calls_max, " calls are already in flight")),
        ErrorReason::kBackpressure, {{std::string(kLimitKey), "inflight_calls_max"}});
  }
  inflight_.emplace(op.get(), std::move(op));
  return absl::OkStatus();
}

void Core::Unregister(const Operation* op) {
  std::shared_ptr<Operation> last;  // released outside the lock
  absl::MutexLock lock(&mu_);
  auto it = inflight_.find(op);
  if (it == inflight_.end()) return;
  last = std::move(it->second);
  inflight_.erase(it);
}

bool Core::closing() const {
  absl::MutexLock lock(&mu_);
  return closing_;
}

void LiveCalls::Add() {
  absl::MutexLock lock(&mu_);
  ++count_;
}

void LiveCalls::Remove() {
  absl::MutexLock lock(&mu_);
  --count_;
}

void LiveCalls::WaitForNone() {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ == 0; };
  mu_.Await(absl::Condition(&none));
}

void Core::Shutdown() {
  std::vector<std::shared_ptr<Operation>> ops;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    for (auto& [ptr, op] : inflight_) ops.push_back(op);
  }
  // Without the lock: a cancelled call may finish on this thread.
  for (const auto& op : ops) op->Cancel();
  ops.clear();
  scheduler_.Drain();
  {
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return inflight_.empty(); };
    mu_.Await(absl::Condition(&idle));
  }
  live_calls_->WaitForNone();
}

}  // namespace cairn::client::internal
