// Implementation of the process test helpers (see process.h).
#include "testing/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"

namespace cairn::testing {
namespace {

// Test servers listen on ports from here up to the ephemeral range.
constexpr int kPortsStart = 10000;

bool PortIsFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  CAIRN_CHECK(fd >= 0) << "socket";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Claims `port` for this test process among concurrent ones (ctest -j):
// a free port is not enough, since another test may pick it before our node
// binds it. The claim is a lock on a file named for the port, held until the
// process exits (the kernel drops it even on a crash).
bool Reserve(int port) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                        "/cairn-test-port-", port, ".lock");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return true;  // cannot coordinate; the bind check stands alone
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true;  // fd stays open, holding the lock, for the process's lifetime
}

// In a forked child: the kernel kills it when the test process dies, even
// by a crash or SIGKILL, so no node outlives the test that started it.
// (Tests start processes from their main thread: the signal follows the
// thread that forked.)
void DieWithParent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
}

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

// The first port of the kernel's ephemeral range: ports below it are never
// handed to outgoing connections, so a port picked there stays free while a
// node that owned it restarts (an outgoing socket bound to it would make the
// node's bind fail: nodes do not share ports, see node.cc).
int EphemeralPortsStart() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (range >> low && low > kPortsStart + 1000) return low;
  return 32768;
}

int PickFreePort() {
  // Each test process starts at an offset derived from its pid, so concurrent
  // test binaries (ctest -j) rarely probe the same ports.
  static const int end = EphemeralPortsStart();
  static std::atomic<int> next{kPortsStart +
                               static_cast<int>(::getpid() % 1000) * 10 % (end - kPortsStart)};
  for (int attempt = 0; attempt < 5000; ++attempt) {
    int port = next.fetch_add(1);
    if (port >= end) {
      next = kPortsStart;
      port = next.fetch_add(1);
    }
    if (PortIsFree(port) && Reserve(port)) return port;
  }
  CAIRN_CHECK(false) << "no free port found on 127.0.0.1";
  return 0;
}

std::string BinaryPath(const std::string& relative) {
  const char* dir = std::getenv("CAIRN_BIN_DIR");
  CAIRN_CHECK(dir != nullptr && *dir) << "CAIRN_BIN_DIR is not set (run the test through ctest)";
  return std::string(dir) + "/" + relative;
}

absl::Status PollUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                       const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(5);
  for (;;) {
    if (ready()) return absl::OkStatus();
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out after ", timeout.count(), " ms waiting for ", what));
    }
    std::this_thread::sleep_for(pause);  // back-off between polls, not synchronization
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

Subprocess::~Subprocess() {
  if (Running()) {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

absl::Status Subprocess::Start(const std::vector<std::string>& argv, const std::string& log_path,
                               const std::string* stdin_data) {
  CAIRN_CHECK(!Running()) << "process already running";
  int in_pipe[2] = {-1, -1};
  if (stdin_data != nullptr && ::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError("pipe");
  }
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", log_path));
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    DieWithParent(parent);
    const int in_fd = stdin_data ? in_pipe[0] : ::open("/dev/null", O_RDONLY);
    ::dup2(in_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (stdin_data != nullptr) {
    ::close(in_pipe[0]);
    size_t off = 0;
    while (off < stdin_data->size()) {
      const ssize_t n = ::write(in_pipe[1], stdin_data->data() + off, stdin_data->size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(in_pipe[1]);
  }
  std::lock_guard<std::mutex> lock(mu_);
  pid_ = pid;
  exit_code_ = -1;
  return absl::OkStatus();
}

void Subprocess::Signal(int signal) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ > 0 && exit_code_ < 0) ::kill(pid_, signal);
}

bool Subprocess::Running() {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  return r == 0;
}

int Subprocess::Wait(std::chrono::milliseconds timeout) {
  const absl::Status st = PollUntil([this] { return !Running(); }, timeout, "process exit");
  std::lock_guard<std::mutex> lock(mu_);
  return st.ok() ? exit_code_ : -1;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data,
                         std::chrono::milliseconds timeout) {
  char out_tmpl[] = "/tmp/cairn-cmd-out-XXXXXX";
  char err_tmpl[] = "/tmp/cairn-cmd-err-XXXXXX";
  const int out_fd = ::mkstemp(out_tmpl);
  const int err_fd = ::mkstemp(err_tmpl);
  CAIRN_CHECK(out_fd >= 0 && err_fd >= 0) << "mkstemp";
  int in_pipe[2];
  CAIRN_CHECK(::pipe2(in_pipe, O_CLOEXEC) == 0) << "pipe";
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  CAIRN_CHECK(pid >= 0) << "fork";
  if (pid == 0) {
    DieWithParent(parent);
    ::dup2(in_pipe[0], 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  size_t off = 0;
  while (off < stdin_data.size()) {
    const ssize_t n = ::write(in_pipe[1], stdin_data.data() + off, stdin_data.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(in_pipe[1]);
  CommandResult result;
  int status = 0;
  const absl::Status st =
      PollUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout, "command exit");
  if (!st.ok()) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  result.exit_code = st.ok() ? DecodeWaitStatus(status) : -1;
  ::close(out_fd);
  ::close(err_fd);
  result.out = ReadFileOrEmpty(out_tmpl);
  result.err = ReadFileOrEmpty(err_tmpl);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return result;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

int ScaledMs(int ms) {
  const char* scale = std::getenv("CAIRN_TEST_TIME_SCALE");
  const int factor = scale != nullptr ? std::atoi(scale) : 1;
  return ms * (factor > 0 ? factor : 1);
}

}  // namespace cairn::testing
