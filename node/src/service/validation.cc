// Data-plane request validation (see validation.h).
#include "service/validation.h"

#include "absl/container/flat_hash_map.h"
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

// The fields an Append and each AppendBatch entry share.
absl::Status ValidateEntry(const std::string& id, const std::string& contents,
                           const std::string& claims_digest, const std::string& key,
                           const NodeConfig& config) {
  if (id.size() > config.collection_id_bytes_max) {
    return OverLimit("collection_id", id.size(), "collection_id_bytes_max",
                     config.collection_id_bytes_max);
  }
  if (absl::Status st = ledger::ValidateUserCollectionId(id); !st.ok()) {
    return Invalid(st, "collection_id");
  }
  if (contents.empty()) {
    return Invalid(absl::InvalidArgumentError("contents is empty"), "contents");
  }
  if (contents.size() > config.entry_bytes_max) {
    return OverLimit("contents", contents.size(), "entry_bytes_max", config.entry_bytes_max);
  }
  if (absl::Status st = ledger::ValidateClaimsDigest(claims_digest); !st.ok()) {
    return Invalid(st, "claims_digest");
  }
  if (key.size() > config.idempotency_key_bytes_max) {
    return OverLimit("idempotency_key", key.size(), "idempotency_key_bytes_max",
                     config.idempotency_key_bytes_max);
  }
  return absl::OkStatus();
}

absl::Status ValidateWait(v1::AppendWait wait) {
  if (v1::AppendWait_IsValid(wait)) return absl::OkStatus();
  return Invalid(absl::InvalidArgumentError(absl::StrCat("wait has unknown value ", wait)), "wait");
}

}  // namespace

absl::Status ValidateAppend(const v1::AppendRequest& request, const NodeConfig& config) {
  if (absl::Status st = ValidateEntry(request.collection_id(), request.contents(),
                                      request.claims_digest(), request.idempotency_key(), config);
      !st.ok()) {
    return st;
  }
  return ValidateWait(request.wait());
}

absl::Status ValidateAppendBatch(const v1::AppendBatchRequest& request, const NodeConfig& config) {
  if (request.entries().empty()) {
    return Invalid(absl::InvalidArgumentError("entries is empty: a batch needs 1 entry or more"),
                   "entries");
  }
  if (static_cast<uint64_t>(request.entries_size()) > config.append_batch_entries_max) {
    return WithReason(
        absl::InvalidArgumentError(absl::StrCat(
            "entries holds ", request.entries_size(),
            " entries; the limit is append_batch_entries_max=", config.append_batch_entries_max)),
        v1::ERROR_REASON_LIMIT_EXCEEDED,
        {{"field", "entries"}, {"limit", "append_batch_entries_max"}});
  }
  const size_t bytes = request.ByteSizeLong();
  if (bytes > config.append_batch_bytes_max) {
    return OverLimit("request", bytes, "append_batch_bytes_max", config.append_batch_bytes_max);
  }
  absl::flat_hash_map<absl::string_view, size_t> keys;
  for (int i = 0; i < request.entries_size(); ++i) {
    const v1::AppendBatchEntry& e = request.entries(i);
    const auto index = static_cast<size_t>(i);
    if (absl::Status st = ValidateEntry(e.collection_id(), e.contents(), e.claims_digest(),
                                        e.idempotency_key(), config);
        !st.ok()) {
      return AboutEntry(std::move(st), index);
    }
    if (e.idempotency_key().empty()) continue;
    auto [it, inserted] = keys.emplace(e.idempotency_key(), index);
    if (!inserted) {
      return AboutEntry(Invalid(absl::InvalidArgumentError(absl::StrCat(
                                    "idempotency_key is also the key of entries[", it->second,
                                    "]; each entry of a batch needs a key of its own")),
                                "idempotency_key"),
                        index);
    }
  }
  return ValidateWait(request.wait());
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
