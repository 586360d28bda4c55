// Data-plane request validation (see validation.h).
#include "validation.h"

#include "absl/strings/str_cat.h"
#include "cairn/ledger/encoding.h"

namespace cairn::node {

absl::Status ValidateAppend(const v1::AppendRequest& request, const NodeConfig& config) {
  const std::string& id = request.collection_id();
  if (id.size() > config.collection_id_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collection_id is ", id.size(),
        " bytes; the limit is collection_id_bytes_max=", config.collection_id_bytes_max));
  }
  if (absl::Status st = ledger::ValidateUserCollectionId(id); !st.ok()) return st;
  if (request.contents().empty()) return absl::InvalidArgumentError("contents is empty");
  if (request.contents().size() > config.entry_bytes_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("contents is ", request.contents().size(),
                     " bytes; the limit is entry_bytes_max=", config.entry_bytes_max));
  }
  if (absl::Status st = ledger::ValidateClaimsDigest(request.claims_digest()); !st.ok()) return st;
  if (request.idempotency_key().size() > config.idempotency_key_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key is ", request.idempotency_key().size(),
        " bytes; the limit is idempotency_key_bytes_max=", config.idempotency_key_bytes_max));
  }
  if (request.wait() != v1::APPEND_WAIT_COMMITTED && request.wait() != v1::APPEND_WAIT_NONE) {
    return absl::InvalidArgumentError(absl::StrCat("wait has unknown value ", request.wait()));
  }
  return absl::OkStatus();
}

absl::Status ValidatePageSize(uint32_t page_size, const NodeConfig& config) {
  if (page_size > config.page_size_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", page_size,
                     " is out of range; the limit is page_size_max=", config.page_size_max));
  }
  return absl::OkStatus();
}

}  // namespace cairn::node
