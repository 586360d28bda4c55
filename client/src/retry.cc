// Retry policy arithmetic and status classification (see retry.h).
#include "retry.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace cairn::client::internal {

RetryVerdict Classify(grpc::StatusCode code, Repeatable repeatable, bool hinted) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      return hinted ? RetryVerdict::kRedirect : RetryVerdict::kBackOff;
    case grpc::StatusCode::FAILED_PRECONDITION:
      // Not the leader, said with a hint: the request itself was fine.
      return hinted ? RetryVerdict::kRedirect : RetryVerdict::kGiveUp;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return RetryVerdict::kBackOff;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // One attempt ran out of time (the caller checks the call's own
      // deadline); a governance change may have been applied regardless.
      return repeatable == Repeatable::kYes ? RetryVerdict::kBackOff : RetryVerdict::kGiveUp;
    default:
      return RetryVerdict::kGiveUp;
  }
}

int64_t BackoffMs(const RetryPolicy& policy, int retry) {
  double delay = static_cast<double>(policy.initial_backoff_ms);
  for (int i = 0; i < retry && delay < static_cast<double>(policy.max_backoff_ms); ++i) {
    delay *= policy.backoff_multiplier;
  }
  return std::min(policy.max_backoff_ms, static_cast<int64_t>(std::llround(delay)));
}

int64_t JitteredMs(const RetryPolicy& policy, int64_t backoff_ms, double unit) {
  const double factor = 1.0 - policy.jitter * std::clamp(unit, 0.0, 1.0);
  return std::max<int64_t>(0, static_cast<int64_t>(std::llround(backoff_ms * factor)));
}

absl::Status ValidatePolicy(const RetryPolicy& p) {
  auto bad = [](absl::string_view field, auto value, absl::string_view rule) {
    return absl::InvalidArgumentError(absl::StrCat("retry.", field, " is ", value, "; ", rule));
  };
  if (p.initial_backoff_ms < 0 || p.initial_backoff_ms > 60000) {
    return bad("initial_backoff_ms", p.initial_backoff_ms, "must be 0 to 60000");
  }
  if (p.max_backoff_ms < p.initial_backoff_ms || p.max_backoff_ms > 600000) {
    return bad("max_backoff_ms", p.max_backoff_ms,
               "must be at least initial_backoff_ms and at most 600000");
  }
  if (!(p.backoff_multiplier >= 1.0 && p.backoff_multiplier <= 10.0)) {
    return bad("backoff_multiplier", p.backoff_multiplier, "must be 1 to 10");
  }
  if (!(p.jitter >= 0.0 && p.jitter <= 1.0)) return bad("jitter", p.jitter, "must be 0 to 1");
  if (p.total_timeout_ms < 1 || p.total_timeout_ms > 86400000) {
    return bad("total_timeout_ms", p.total_timeout_ms, "must be 1 to 86400000");
  }
  if (p.redirects_without_backoff_max < 0 || p.redirects_without_backoff_max > 100) {
    return bad("redirects_without_backoff_max", p.redirects_without_backoff_max,
               "must be 0 to 100");
  }
  return absl::OkStatus();
}

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

bool PlausibleAddress(absl::string_view address) {
  if (address.empty() || address.size() > 256) return false;
  if (address.find(':') == absl::string_view::npos) return false;
  return std::all_of(address.begin(), address.end(), [](char c) { return c > ' ' && c < 127; });
}

}  // namespace cairn::client::internal
