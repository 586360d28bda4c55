// Request validation for the data plane, on top of the ledger's own rules for
// what can become a leaf (ledger/encoding.h). Each check returns
// InvalidArgument naming the field and, for a limit, the config setting that
// sets it; a rejected request writes nothing.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "cairn/node/config.h"
#include "cairn/v1/ledger.pb.h"

namespace cairn::node {

// Collection id, contents size, claims digest, idempotency key, wait mode.
absl::Status ValidateAppend(const v1::AppendRequest& request, const NodeConfig& config);

// 1..append_batch_entries_max entries, at most append_batch_bytes_max bytes,
// each entry as ValidateAppend, no two sharing an idempotency key. An error
// about one entry names it: "entries[i]: ..." and metadata "entry_index".
absl::Status ValidateAppendBatch(const v1::AppendBatchRequest& request, const NodeConfig& config);

// 0 (the default page) or 1..page_size_max.
absl::Status ValidatePageSize(uint32_t page_size, const NodeConfig& config);

}  // namespace cairn::node
