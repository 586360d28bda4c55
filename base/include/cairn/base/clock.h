// The wall clock as the ledger records it: milliseconds since the Unix epoch,
// the unit of every timestamp_unix_ms field (transactions, governance,
// signatures, idempotency windows).
#pragma once

#include <chrono>
#include <cstdint>

namespace cairn::base {

// Now, by the system clock, in milliseconds since the Unix epoch.
inline int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace cairn::base
