// Keepalive of the connections between nodes, both ends: the pings a node's
// channel sends on an idle connection, and what a node's server accepts.
// gRPC's server defaults (a ping at most every 5 minutes, and none at all on
// a connection with no call in flight) answer a pinging peer with GOAWAY
// too_many_pings after two such "strikes", failing the calls on it.
#pragma once

namespace grpc {
class ChannelArguments;
class ServerBuilder;
}  // namespace grpc

namespace cairn::node {

// Pings every `keepalive_ms` on an idle connection (no call in flight
// included), and gives up on a peer that does not answer within 2 s.
void SetPeerKeepalive(grpc::ChannelArguments* args, int keepalive_ms);

// Accepts pings every `min_interval_ms` or less often, with or without a
// call in flight.
void AcceptPeerPings(grpc::ServerBuilder* builder, int min_interval_ms);

}  // namespace cairn::node
