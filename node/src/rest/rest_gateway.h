// The REST API: Azure Confidential Ledger's data-plane paths over HTTPS with
// mutual TLS (docs/api.md, "REST API"), on a port of its own, off unless
// --rest-address is set.
//
// Every request is answered by calling this node's own client port, as the
// node, on behalf of the user whose certificate the TLS handshake verified
// (the "cairn-on-behalf-of" header that forwarding uses): the gRPC services
// stay the one place where requests are validated and roles checked, so a
// request refused over gRPC is refused here the same way, and nothing is
// written. A call a follower answers NOT_LEADER (a write) is sent on to the
// leader it names; PATCH of a user reads it first, and /status asks the
// leader what a follower does not know yet.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "security/tls.h"
#include "service/leader_router.h"

namespace httplib {
class Server;
}

namespace cairn::node::rest {

struct GatewayOptions {
  std::string address;                 // "host:port" to listen on
  uint64_t node_id = 0;                // this node
  std::string client_address;          // this node's client port, which answers every request
  std::string service_id;              // the service certificate's fingerprint (the ledger id)
  uint64_t entry_bytes_max = 1 << 20;  // the node's limit; bodies are bounded by it
  int64_t call_timeout_ms = 30000;
};

class RestGateway {
 public:
  // `tls`, `channels` and `router` must outlive the gateway.
  RestGateway(GatewayOptions options, const TlsFiles* tls, PeerChannels* channels,
              const LeaderRouter* router);
  ~RestGateway();

  // Binds the address and serves on a thread of its own.
  absl::Status Start();
  // Cancels the calls in flight and stops serving. Idempotent.
  void Stop();

 private:
  class Handlers;

  const GatewayOptions options_;
  const TlsFiles* const tls_;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cairn::node::rest
