// A fault-injecting TCP proxy for one directed link between two nodes of a
// test cluster, on 127.0.0.1 only. Node A is started with
// --peer-route=B=127.0.0.1:<proxy port>, so everything A sends to B (its Raft
// stream, snapshots) passes here; B's traffic to A takes another proxy. The
// nemesis then cuts a link (a partition, symmetric or not: bytes stop moving
// both ways on A's connections to B, as when a network drops packets; TCP
// connections stay open, and new ones are held until the link heals) or
// delays it (each chunk waits before it is passed on). The proxy sees only
// TLS bytes; it never parses them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace cairn::robustness {

class LinkProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:target_port.
  static absl::StatusOr<std::unique_ptr<LinkProxy>> Start(int target_port);
  ~LinkProxy();
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  int port() const { return port_; }
  // Cut: nothing passes until the link heals (SetCut(false)).
  void SetCut(bool cut) { cut_ = cut; }
  // Each chunk waits this long before it is passed on (0: none).
  void SetDelay(std::chrono::milliseconds delay) { delay_ms_ = delay.count(); }

 private:
  LinkProxy(int listen_fd, int port, int target_port);
  void AcceptLoop();
  void Serve(int client_fd);
  // Copies bytes from `in` to `out` until either closes or the proxy stops.
  void Pump(int in, int out);
  bool WaitWhileCut();

  const int listen_fd_;
  const int port_;
  const int target_port_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> cut_{false};
  std::atomic<int64_t> delay_ms_{0};
  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  // Open sockets, shut down when the proxy stops so no pump stays blocked.
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::thread acceptor_;
};

}  // namespace cairn::robustness
