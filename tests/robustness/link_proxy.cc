// Fault-injecting TCP proxy (see link_proxy.h). Blocking sockets, one thread
// per direction of each connection; every wait is a poll() of at most 50 ms
// so the proxy notices a cut, a heal or its own shutdown promptly.
#include "robustness/link_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cairn::robustness {
namespace {

constexpr int kPollMs = 50;

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// True when `fd` is readable (or closed) within kPollMs.
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, kPollMs) > 0;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LinkProxy>> LinkProxy::Start(int target_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return absl::InternalError(absl::StrCat("proxy listen on 127.0.0.1: ", error));
  }
  return std::unique_ptr<LinkProxy>(new LinkProxy(fd, ntohs(addr.sin_port), target_port));
}

LinkProxy::LinkProxy(int listen_fd, int port, int target_port)
    : listen_fd_(listen_fd), port_(port), target_port_(target_port) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

LinkProxy::~LinkProxy() {
  stopping_ = true;
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads.swap(threads_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);  // a pump blocked in send() returns
  }
  for (auto& t : threads) t.join();
  close(listen_fd_);
}

void LinkProxy::AcceptLoop() {
  while (!stopping_) {
    if (!Readable(listen_fd_)) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, client] { Serve(client); });
  }
}

bool LinkProxy::WaitWhileCut() {
  while (cut_ && !stopping_) {
    pollfd none{-1, 0, 0};
    poll(&none, 0, kPollMs);
  }
  return !stopping_;
}

void LinkProxy::Serve(int client) {
  // A connection opened across a cut link waits, as a SYN would be lost.
  int upstream = -1;
  if (WaitWhileCut()) {
    upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(target_port_);
    if (upstream >= 0 && connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(upstream);
      upstream = -1;
    }
  }
  if (upstream < 0) {
    close(client);
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(client);
      close(upstream);
      return;
    }
    fds_.push_back(client);
    fds_.push_back(upstream);
  }
  const int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::thread back([this, upstream, client] { Pump(upstream, client); });
  Pump(client, upstream);
  back.join();
  absl::MutexLock lock(&mu_);
  std::erase_if(fds_, [&](int fd) { return fd == client || fd == upstream; });
  close(client);
  close(upstream);
}

void LinkProxy::Pump(int in, int out) {
  char buf[64 * 1024];
  while (!stopping_) {
    if (cut_) {  // bytes wait in the kernel's buffers, as in a network that drops them
      WaitWhileCut();
      continue;
    }
    if (!Readable(in)) continue;
    const ssize_t n = recv(in, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (const int64_t delay = delay_ms_; delay > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));  // the injected latency
    }
    if (!WaitWhileCut() || !WriteAll(out, buf, static_cast<size_t>(n))) break;
  }
  // Whichever side ends, the other learns it.
  shutdown(out, SHUT_WR);
  shutdown(in, SHUT_RD);
}

}  // namespace cairn::robustness
