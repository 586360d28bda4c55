// The harness fails a test whose node logged a sanitizer report
// (NodeProcess's destructor, through SanitizerReport).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>

#include "testing/node_process.h"
#include "testing/temp_dir.h"

namespace cairn::testing {
namespace {

const char kClean[] =
    "I1206 14:30:01 raft.cc:88] node 2 became leader in term 3\n"
    "W1206 14:30:02 peers.cc:140] peer 3 unreachable: Connection reset by peer\n"
    "E1206 14:30:03 ledger.cc:51] refused: contents are empty (no runtime error here)\n";

TEST(SanitizerReportTest, ACleanLogHasNone) { EXPECT_EQ(SanitizerReport(kClean), ""); }

TEST(SanitizerReportTest, EachSanitizersReportIsFoundFromItsFirstLine) {
  struct Case {
    std::string report;
    std::string first_line;  // where the excerpt starts
  };
  const Case cases[] = {
      {"==================\n"
       "WARNING: ThreadSanitizer: data race (pid=4242)\n"
       "  Write of size 8 at 0x7b0400000010 by thread T7:\n"
       "    #0 cairn::node::Peers::Send peers.cc:120\n",
       "WARNING: ThreadSanitizer: data race (pid=4242)\n"},
      {"==17==ERROR: AddressSanitizer: heap-use-after-free on address 0x6\n",
       "==17==ERROR: AddressSanitizer: heap-use-after-free on address 0x6\n"},
      {"==17==ERROR: LeakSanitizer: detected memory leaks\n",
       "==17==ERROR: LeakSanitizer: detected memory leaks\n"},
      {"node/src/raft/loop.cc:311:7: runtime error: signed integer overflow\n",
       "node/src/raft/loop.cc:311:7: runtime error: signed integer overflow\n"},
  };
  for (const Case& c : cases) {
    const std::string found = SanitizerReport(std::string(kClean) + c.report + kClean);
    EXPECT_EQ(found.substr(0, c.first_line.size()), c.first_line) << c.report;
  }
}

TEST(SanitizerReportTest, ALongReportIsCut) {
  std::string log = "WARNING: ThreadSanitizer: data race\n";
  for (int i = 0; i < 500; ++i) log += "    #" + std::to_string(i) + " frame\n";
  const std::string found = SanitizerReport(log, 10);
  EXPECT_EQ(std::count(found.begin(), found.end(), '\n'), 10);
}

// The planted fault: a node whose log holds a report fails the test that ran
// it, when the test lets go of the node; a clean log fails nothing.
TEST(SanitizerReportTest, ANodeThatLoggedAReportFailsTheTest) {
  TempDir dir;
  std::optional<NodeProcess> node;
  node.emplace(nullptr, 1, dir.path());
  std::ofstream(node->log_path()) << kClean;
  node.reset();  // no failure
  node.emplace(nullptr, 2, dir.path());
  std::ofstream(node->log_path()) << kClean << "WARNING: ThreadSanitizer: data race (pid=7)\n";
  EXPECT_NONFATAL_FAILURE(node.reset(), "node 2 (");
}

}  // namespace
}  // namespace cairn::testing
