// The quickstart's local service (scripts/run.sh), as a new user meets it
// (issue 19's first hour): the cairnctl environment it prints works from
// another directory (absolute paths, cairnctl on PATH), and Ctrl-C stops
// the nodes one at a time, so the leader hands off instead of timing out.
// Runs the built binaries (CAIRN_SKIP_BUILD) on free ports in a directory
// of its own; the three nodes only (CAIRN_GEO_REPLICA=0).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

bool PortFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A base port for run.sh whose client, peer, HTTP and REST ports of nodes
// 1 to 3 (base + 1..3, +101..103, +201..203, +301..303) are all free.
int FreeBasePort() {
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = 20000 + static_cast<int>(rng() % 400) * 100;
    bool free = true;
    for (int offset : {0, 100, 200, 300}) {
      for (int i = 1; i <= 3 && free; ++i) free = PortFree(base + offset + i);
    }
    if (free) return base;
  }
  return -1;
}

class RunScriptTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Whatever the test left running under its directory (nodes run in
    // sessions of their own, so killing run.sh does not reach them).
    RunCommand({"pkill", "-KILL", "-f", tmp_.path()});
  }

  TempDir tmp_;
};

TEST_F(RunScriptTest, ThePrintedEnvironmentWorksAnywhereAndCtrlCStopsOneNodeAtATime) {
  const char* source = std::getenv("CAIRN_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "CAIRN_SOURCE_DIR is set by CTest";
  // run.sh runs build/<preset> of the source directory: this build's.
  const std::filesystem::path bin_dir = BinaryPath("");
  const std::string preset = bin_dir.parent_path().filename().string();
  ASSERT_TRUE(
      std::filesystem::equivalent(bin_dir, std::filesystem::path(source) / "build" / preset))
      << bin_dir << " is not build/<preset> of " << source;
  const int base = FreeBasePort();
  ASSERT_GT(base, 0) << "no free base port";
  const std::string log = tmp_.path() + "/run.log";
  Subprocess run;
  ASSERT_TRUE(run.Start({"/usr/bin/env", "CAIRN_SKIP_BUILD=1", "CAIRN_PRESET=" + preset,
                         "CAIRN_LOCAL_DIR=" + tmp_.path() + "/local",
                         absl::StrCat("CAIRN_BASE_PORT=", base), "CAIRN_GEO_REPLICA=0", "bash",
                         std::string(source) + "/scripts/run.sh"},
                        log)
                  .ok());
  ASSERT_TRUE(
      PollUntil([&] { return ReadFileOrEmpty(log).find("Ctrl-C stops") != std::string::npos; },
                std::chrono::seconds(60), "run.sh to print its instructions")
          .ok())
      << ReadFileOrEmpty(log);

  // The printed `export` lines, as a user would paste them.
  const std::string printed = ReadFileOrEmpty(log);
  std::map<std::string, std::string> env;
  const std::regex line(R"(export ((?:[A-Z_]+=\S+ ?)+))");
  const std::regex pair(R"(([A-Z_]+)=(\S+))");
  for (std::sregex_iterator it(printed.begin(), printed.end(), line), end; it != end; ++it) {
    const std::string assignments = (*it)[1].str();
    for (std::sregex_iterator p(assignments.begin(), assignments.end(), pair); p != end; ++p) {
      env[(*p)[1].str()] = (*p)[2].str();
    }
  }
  ASSERT_EQ(env.count("PATH"), 1u) << printed;
  for (const char* name : {"CAIRN_ENDPOINT", "CAIRN_CERT", "CAIRN_KEY", "CAIRN_SERVICE_CERT"}) {
    ASSERT_EQ(env.count(name), 1u) << name << "\n" << printed;
  }
  const std::string path = env["PATH"].substr(0, env["PATH"].find(':'));
  EXPECT_TRUE(std::filesystem::path(path).is_absolute()) << path;
  EXPECT_TRUE(std::filesystem::path(env["CAIRN_CERT"]).is_absolute()) << env["CAIRN_CERT"];

  // From another directory, with only what was printed.
  const std::string elsewhere = tmp_.path() + "/elsewhere";
  std::filesystem::create_directories(elsewhere);
  std::vector<std::string> argv = {"/usr/bin/env", "-C", elsewhere, "-i",
                                   "PATH=" + path + ":/usr/bin:/bin"};
  for (const char* name : {"CAIRN_ENDPOINT", "CAIRN_CERT", "CAIRN_KEY", "CAIRN_SERVICE_CERT"}) {
    argv.push_back(std::string(name) + "=" + env[name]);
  }
  argv.insert(argv.end(), {"cairnctl", "append", "releases", "v1.4.2 approved by alice"});
  CommandResult appended;
  ASSERT_TRUE(PollUntil(
                  [&] {
                    appended = RunCommand(argv);
                    return appended.exit_code == 0;
                  },
                  std::chrono::seconds(60), "an append through the printed environment")
                  .ok())
      << appended.err << "\n"
      << ReadFileOrEmpty(log);
  EXPECT_TRUE(std::regex_match(appended.out, std::regex(R"([0-9]+\.[0-9]+ COMMITTED\n)")))
      << appended.out;

  // Ctrl-C reaches run.sh alone (the nodes run in sessions of their own).
  run.Signal(SIGINT);
  const int code = run.Wait(std::chrono::seconds(60));
  EXPECT_NE(code, -1) << "run.sh did not stop within 60 s\n" << ReadFileOrEmpty(log);
  const std::string after = ReadFileOrEmpty(log);
  EXPECT_THAT(after, HasSubstr("stopping..."));
  EXPECT_THAT(after, ::testing::Not(HasSubstr("before the deadline"))) << after;
  // One at a time: each node has stopped before the next is signalled (the
  // nodes' own timestamps, which compare as text; 3, then 2, then 1).
  std::map<std::string, std::string> at;  // "<event> <node>" -> timestamp
  const std::regex event(R"(\[node([0-9])\] (\S+) I node[0-9] (received SIGTERM|stopped)\b)");
  for (std::sregex_iterator it(after.begin(), after.end(), event), end; it != end; ++it) {
    at.emplace(absl::StrCat((*it)[3].str(), " ", (*it)[1].str()), (*it)[2].str());
  }
  for (int i = 3; i >= 2; --i) {
    const std::string stopped = absl::StrCat("stopped ", i);
    const std::string next = absl::StrCat("received SIGTERM ", i - 1);
    ASSERT_EQ(at.count(stopped) + at.count(next), 2u) << stopped << ", " << next << "\n" << after;
    EXPECT_LT(at[stopped], at[next])
        << "node " << i - 1 << " was signalled before node " << i << " had stopped\n"
        << after;
  }
  const CommandResult left = RunCommand({"pgrep", "-f", tmp_.path() + "/local/node"});
  EXPECT_NE(left.exit_code, 0) << "nodes still running:\n" << left.out;
}

}  // namespace
}  // namespace cairn::testing
