// A running cairn-node: its data directory, storage, append pipeline and gRPC
// servers. Start() returns once the node serves; Shutdown() stops serving,
// finishes in-flight calls and releases the data directory.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "cairn/node/config.h"

namespace cairn::node {

class Node {
 public:
  // Opens (or creates) the data directory, loads TLS material and starts
  // serving. Errors name what could not be done (e.g. the directory is in use).
  static absl::StatusOr<std::unique_ptr<Node>> Start(const NodeConfig& config);
  virtual ~Node() = default;

  // Stops accepting calls, waits for in-flight ones, stops the pipeline.
  virtual void Shutdown() = 0;
};

}  // namespace cairn::node
