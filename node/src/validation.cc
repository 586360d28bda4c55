// Data-plane request validation (see validation.h).
#include "validation.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cairn::node {

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

absl::Status ValidateCollectionId(absl::string_view id, const NodeConfig& config) {
  if (id.empty()) return absl::InvalidArgumentError("collection_id is empty");
  if (id.size() > config.collection_id_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "collection_id is ", id.size(),
        " bytes; the limit is collection_id_bytes_max=", config.collection_id_bytes_max));
  }
  if (!IsValidUtf8(id)) return absl::InvalidArgumentError("collection_id is not valid UTF-8");
  if (absl::StartsWith(id, "cairn.")) {
    return absl::InvalidArgumentError(
        absl::StrCat("collection_id '", id,
                     "' is reserved: names starting with 'cairn.' belong to the service"));
  }
  return absl::OkStatus();
}

absl::Status ValidateAppend(const v1::AppendRequest& request, const NodeConfig& config) {
  if (absl::Status st = ValidateCollectionId(request.collection_id(), config); !st.ok()) return st;
  if (request.contents().empty()) return absl::InvalidArgumentError("contents is empty");
  if (request.contents().size() > config.entry_bytes_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("contents is ", request.contents().size(),
                     " bytes; the limit is entry_bytes_max=", config.entry_bytes_max));
  }
  if (!request.claims_digest().empty() && request.claims_digest().size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat("claims_digest must be empty or 32 bytes, got ",
                                                   request.claims_digest().size()));
  }
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

}  // namespace cairn::node
