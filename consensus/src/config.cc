// Validation of the core's configuration (see config.h).
#include "cairn/consensus/config.h"

#include "absl/strings/str_cat.h"

namespace cairn::consensus {

absl::Status Config::Validate() const {
  if (id == kNoNode) return absl::InvalidArgumentError("id must not be 0");
  if (heartbeat_tick < 1) return absl::InvalidArgumentError("heartbeat_tick must be >= 1");
  if (election_tick <= heartbeat_tick) {
    return absl::InvalidArgumentError(absl::StrCat(
        "election_tick (", election_tick, ") must exceed heartbeat_tick (", heartbeat_tick, ")"));
  }
  if (inflight_messages_max < 1) {
    return absl::InvalidArgumentError("inflight_messages_max must be >= 1");
  }
  if (message_bytes_max < 1) return absl::InvalidArgumentError("message_bytes_max must be >= 1");
  if (uncommitted_bytes_max < 1) {
    return absl::InvalidArgumentError("uncommitted_bytes_max must be >= 1");
  }
  if (committed_entries_bytes_max < 1) {
    return absl::InvalidArgumentError("committed_entries_bytes_max must be >= 1");
  }
  if (read_index_pending_max < 1) {
    return absl::InvalidArgumentError("read_index_pending_max must be >= 1");
  }
  return absl::OkStatus();
}

}  // namespace cairn::consensus
