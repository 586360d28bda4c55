// Node-to-node keepalive (peer/keepalive.h): a channel that pings an idle
// connection as peers do is not cut off by a server that accepts peer pings.
// The intervals are scaled down from the product's (seconds) to keep the
// test short; the settings are the same functions the node uses. (Pings much
// closer than 500 ms are not struck by gRPC either way: no test there.)
#include "peer/keepalive.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cairn/v1/raft.grpc.pb.h"
#include "testing/process.h"

namespace cairn::node {
namespace {

// Whether a connection pinged every `ping_ms`, with no call in flight, is
// still up after `window` (GOAWAY too_many_pings drops it out of READY).
bool StaysConnected(bool accept_peer_pings, int ping_ms, std::chrono::milliseconds window) {
  const std::string address = absl::StrCat("127.0.0.1:", testing::PickFreePort());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  v1::RaftService::Service service;  // a service to serve; no call is made
  builder.RegisterService(&service);
  if (accept_peer_pings) AcceptPeerPings(&builder, ping_ms / 2);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  EXPECT_NE(server, nullptr);
  grpc::ChannelArguments args;
  SetPeerKeepalive(&args, ping_ms);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  const auto connected_by = std::chrono::system_clock::now() + std::chrono::seconds(10);
  EXPECT_TRUE(channel->WaitForConnected(connected_by));
  // Returns early only if the state changes, i.e. the server cut it off.
  const bool changed =
      channel->WaitForStateChange(GRPC_CHANNEL_READY, std::chrono::system_clock::now() + window);
  server->Shutdown(std::chrono::system_clock::now());
  return !changed;
}

// Pings every 500 ms for 4 s: without permitting pings on a connection with
// no call in flight, the server's third strike (about 3 s in) ends it; the
// client port's settings did that to forwarded calls.
TEST(PeerKeepaliveTest, AnIdleConnectionPingedAsPeersDoStaysUp) {
  EXPECT_TRUE(StaysConnected(/*accept_peer_pings=*/true, 500, std::chrono::milliseconds(4000)));
}

// gRPC's server defaults close the same connection with GOAWAY
// too_many_pings. (The client port had a 5 s minimum interval but not the
// permit for pings with no call in flight; with AcceptPeerPings' permit
// removed, the test above fails the same way.)
TEST(PeerKeepaliveTest, ServerDefaultsCutItOff) {
  EXPECT_FALSE(StaysConnected(/*accept_peer_pings=*/false, 500, std::chrono::milliseconds(5000)));
}

}  // namespace
}  // namespace cairn::node
