// cairn-node: parses the configuration, starts the node and runs until
// SIGTERM or SIGINT, then shuts down cleanly; `cairn-node recover ...`
// rebuilds a data directory from the archive instead (recover/recover.h).
#include <signal.h>

#include <iostream>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "cairn/node/config.h"
#include "cairn/node/node.h"
#include "observe/log.h"
#include "observe/logging.h"
#include "recover/recover.h"

int main(int argc, char** argv) {
  // `cairn-node recover ...`: rebuild a data directory from the archive.
  if (argc > 1 && std::string_view(argv[1]) == "recover") {
    return cairn::node::RecoverMain(argc - 1, argv + 1, std::cout, std::cerr);
  }
  cairn::node::NodeConfig config;
  if (int rc = cairn::node::ParseNodeCommandLine(argc, argv, &config, std::cout, std::cerr);
      rc >= 0) {
    return rc;
  }
  cairn::node::InitLogging(config.log_level, config.log_format, config.node_id);
  // Debian's Abseil is built with its debug-build default of checking every
  // Mutex acquisition against a global lock graph (deadlock detection, behind
  // one global lock): 4-12% of the nodes' CPU per append in bench/ab-node.sh.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = cairn::node::Node::Start(config);
  if (!node.ok()) {
    spdlog::error("cannot start: {}", node.status().ToString());
    std::cerr << "cairn-node: cannot start: " << node.status().message() << "\n";
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received {}, shutting down", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*node)->Shutdown();
  return 0;
}
