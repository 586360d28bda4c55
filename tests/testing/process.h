// Test helpers for real processes: free loopback ports, child processes with
// their output captured to a file, and polling with a deadline (never sleeps
// as synchronization).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cairn::testing {

// A TCP port on 127.0.0.1 that was free when asked. Ports are handed out
// round-robin from a per-process range so two calls never return the same one.
int PickFreePort();

// Path of a built binary, from the CAIRN_BIN_DIR environment variable that
// CTest sets (e.g. BinaryPath("node/cairn-node")).
std::string BinaryPath(const std::string& relative);

// Calls `ready` until it returns true or `timeout` passes, backing off from
// 5 ms to 100 ms between calls. Returns DeadlineExceeded naming `what`.
absl::Status PollUntil(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                       const std::string& what);

class Subprocess {
 public:
  Subprocess() = default;
  // Kills the process (SIGKILL) if it still runs, and reaps it.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] with the given arguments; stdout and stderr go to `log_path`
  // (appended). stdin reads from `stdin_data` when given, else /dev/null.
  absl::Status Start(const std::vector<std::string>& argv, const std::string& log_path,
                     const std::string* stdin_data = nullptr);

  // Sends `signal` (e.g. SIGKILL, SIGTERM).
  void Signal(int signal);
  // Waits up to `timeout` for the process to exit; returns its exit code
  // (128 + signal when killed), or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  bool Running();
  pid_t pid() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pid_;
  }

 private:
  // A test may ask whether a node runs from one thread while another kills
  // it and waits: Running() reaps, so the state is shared.
  mutable std::mutex mu_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// Runs a command to completion, capturing stdout and stderr separately.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Reads a whole file ("" if it cannot be read).
std::string ReadFileOrEmpty(const std::string& path);

// A short deadline a test gives a command or call ("--timeout-ms=300"),
// scaled by CAIRN_TEST_TIME_SCALE (default 1). The tsan test preset sets 10:
// under ThreadSanitizer a cairnctl process's start-up and first TLS
// handshake alone can take longer than such a deadline, and the test then
// sees DEADLINE_EXCEEDED instead of the error it is about.
int ScaledMs(int ms);

}  // namespace cairn::testing
