// Checking that nothing listens where a node is about to (see port_check.h).
#include "setup/port_check.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace cairn::node {
namespace {

// True when a TCP connection to `ai` completes within `timeout_ms`.
bool Connects(const addrinfo& ai, int timeout_ms) {
  const int fd = ::socket(ai.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool connected = ::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0;
  if (!connected && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      connected = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return connected;
}

}  // namespace

absl::Status CheckNobodyListens(const std::string& address, const std::string& flag) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return absl::OkStatus();
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return absl::OkStatus();
  bool taken = false;
  for (const addrinfo* ai = found; ai != nullptr && !taken; ai = ai->ai_next) {
    taken = Connects(*ai, /*timeout_ms=*/500);
  }
  ::freeaddrinfo(found);
  if (!taken) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("cannot listen on ", flag, " ", address,
                                                    ": another process is listening there"));
}

}  // namespace cairn::node
