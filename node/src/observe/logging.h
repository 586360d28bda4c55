// Process-wide logging setup for cairn-node: spdlog to stderr, one JSON object
// per line (ts, level, node, msg) or plain text.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace cairn::node {

// Installs the default logger. `level` and `format` were validated by the config parser.
void InitLogging(const std::string& level, const std::string& format, uint64_t node_id);

}  // namespace cairn::node
