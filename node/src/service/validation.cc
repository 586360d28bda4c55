// Data-plane request validation (see validation.h).
#include "service/validation.h"

#include "absl/strings/str_cat.h"
#include "cairn/ledger/encoding.h"
#include "errors/status.h"

namespace cairn::node {
namespace {

// A request over a configured limit: LIMIT_EXCEEDED naming the setting.
absl::Status OverLimit(absl::string_view field, size_t size, absl::string_view limit,
                       uint64_t max) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(
                        field, " is ", size, " bytes; the limit is ", limit, "=", max)),
                    v1::ERROR_REASON_LIMIT_EXCEEDED,
                    {{"field", std::string(field)}, {"limit", std::string(limit)}});
}

absl::Status Invalid(absl::Status st, absl::string_view field) {
  return WithReason(std::move(st), v1::ERROR_REASON_INVALID_REQUEST,
                    {{"field", std::string(field)}});
}

}  // namespace

absl::Status ValidateAppend(const v1::AppendRequest& request, const NodeConfig& config) {
  const std::string& id = request.collection_id();
  if (id.size() > config.collection_id_bytes_max) {
    return OverLimit("collection_id", id.size(), "collection_id_bytes_max",
                     config.collection_id_bytes_max);
  }
  if (absl::Status st = ledger::ValidateUserCollectionId(id); !st.ok()) {
    return Invalid(st, "collection_id");
  }
  if (request.contents().empty()) {
    return Invalid(absl::InvalidArgumentError("contents is empty"), "contents");
  }
  if (request.contents().size() > config.entry_bytes_max) {
    return OverLimit("contents", request.contents().size(), "entry_bytes_max",
                     config.entry_bytes_max);
  }
  if (absl::Status st = ledger::ValidateClaimsDigest(request.claims_digest()); !st.ok()) {
    return Invalid(st, "claims_digest");
  }
  if (request.idempotency_key().size() > config.idempotency_key_bytes_max) {
    return OverLimit("idempotency_key", request.idempotency_key().size(),
                     "idempotency_key_bytes_max", config.idempotency_key_bytes_max);
  }
  if (!v1::AppendWait_IsValid(request.wait())) {
    return Invalid(
        absl::InvalidArgumentError(absl::StrCat("wait has unknown value ", request.wait())),
        "wait");
  }
  return absl::OkStatus();
}

absl::Status ValidatePageSize(uint32_t page_size, const NodeConfig& config) {
  if (page_size > config.page_size_max) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(
                          "page_size ", page_size,
                          " is out of range; the limit is page_size_max=", config.page_size_max)),
                      v1::ERROR_REASON_LIMIT_EXCEEDED,
                      {{"field", "page_size"}, {"limit", "page_size_max"}});
  }
  return absl::OkStatus();
}

}  // namespace cairn::node
