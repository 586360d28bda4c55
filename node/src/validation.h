// Request validation for the data plane. Each check returns InvalidArgument
// naming the field and, for a limit, the config setting that sets it; a
// rejected request writes nothing.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cairn/node/config.h"
#include "cairn/v1/ledger.pb.h"

namespace cairn::node {

// UTF-8 as RFC 3629 defines it: no overlongs, surrogates or values past U+10FFFF.
bool IsValidUtf8(absl::string_view s);

// 1..collection_id_bytes_max bytes of UTF-8, not in the reserved "cairn." namespace.
absl::Status ValidateCollectionId(absl::string_view id, const NodeConfig& config);

// Collection id, contents size, claims digest length, idempotency key length.
absl::Status ValidateAppend(const v1::AppendRequest& request, const NodeConfig& config);

}  // namespace cairn::node
