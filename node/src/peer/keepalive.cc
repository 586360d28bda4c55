// Keepalive of node-to-node connections (see keepalive.h).
#include "peer/keepalive.h"

#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

namespace cairn::node {

void SetPeerKeepalive(grpc::ChannelArguments* args, int keepalive_ms) {
  args->SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_ms);
  args->SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
  args->SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args->SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
}

void AcceptPeerPings(grpc::ServerBuilder* builder, int min_interval_ms) {
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              min_interval_ms);
  // Without this, every ping on a connection with no call in flight (a
  // follower's idle channel to the leader's client port) is a strike.
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

}  // namespace cairn::node
