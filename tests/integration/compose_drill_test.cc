// The docker-compose deployments, end to end. First deploy/compose-drill.sh:
// the image builds from deploy/Dockerfile (packing this build's programs:
// --prebuilt), the three-node service of
// deploy/docker-compose.yml elects a leader, commits, serves a receipt that
// verifies offline, survives SIGKILL of the leader's container and takes
// the node back. Then, with the same image, `cairn-drill --target compose`
// runs every scenario against the two-region service of
// deploy/compose/two-region.yml (primary and paired regions on networks of
// their own, the archive server in the paired one). Containers, networks,
// volumes and the image are the test's own (project names and a tag of its
// own) and are removed afterwards; ports are published on 127.0.0.1 only,
// on ports picked free.
//
// Skipped, saying why, where no Docker engine (with compose) answers. Where no registry is
// reachable the debian:12 base image is made once with debootstrap from
// Debian's mirror (as scripts/install-deps.sh's packages are) and kept.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "testing/process.h"

namespace cairn {
namespace {

bool DockerAnswers() {
  return testing::RunCommand({"/bin/sh", "-c",
                              "docker info >/dev/null 2>&1 && "
                              "{ docker compose version >/dev/null 2>&1 || command -v "
                              "docker-compose >/dev/null; }"})
             .exit_code == 0;
}

// The image both tests use, built by the first; removed, with the build
// stage it leaves, after the last.
std::string Tag() { return absl::StrCat("cairn:drilltest-", getpid()); }

class ComposeDrill : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    if (!DockerAnswers()) return;
    testing::RunCommand({"/bin/sh", "-c",
                         "docker image rm -f " + Tag() +
                             " >/dev/null 2>&1; docker image prune -f --filter "
                             "label=org.cairn.stage=build >/dev/null 2>&1"},
                        "", std::chrono::minutes(5));
    const testing::CommandResult left = testing::RunCommand(
        {"/bin/sh", "-c", "docker image inspect " + Tag() + " >/dev/null 2>&1"});
    EXPECT_NE(left.exit_code, 0) << "the test's image " << Tag() << " was left behind";
    const testing::CommandResult stages = testing::RunCommand(
        {"/bin/sh", "-c", "docker images -q --filter label=org.cairn.stage=build"});
    EXPECT_EQ(stages.out, "") << "build-stage images were left behind";
  }
};

TEST_F(ComposeDrill, ServiceCommitsProvesAndSurvivesLosingItsLeader) {
  if (!DockerAnswers()) {
    GTEST_SKIP() << "no Docker engine with docker-compose or `docker compose` here";
  }
  const char* source = std::getenv("CAIRN_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "run through ctest (CAIRN_SOURCE_DIR)";
  std::vector<std::string> argv = {"/usr/bin/env"};
  for (int node = 1; node <= 3; ++node) {
    argv.push_back(absl::StrCat("CAIRN_NODE", node, "_CLIENT_PORT=", testing::PickFreePort()));
    argv.push_back(absl::StrCat("CAIRN_NODE", node, "_HTTP_PORT=", testing::PickFreePort()));
  }
  // --prebuilt: the image packs this build's cairn-node and cairnctl
  // ($CAIRN_BIN_DIR) instead of compiling the tree a second time; without it
  // the script builds the image from source, as users do.
  argv.insert(argv.end(), {"/bin/bash", std::string(source) + "/deploy/compose-drill.sh",
                           "--bootstrap-base", "--prebuilt", "--image", Tag()});
  const testing::CommandResult r = testing::RunCommand(argv, "", std::chrono::minutes(40));
  std::cerr << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("compose-drill: passed"), std::string::npos);
  EXPECT_NE(r.err.find("the receipt for"), std::string::npos) << "the receipt step ran";
  EXPECT_NE(r.err.find("has applied everything"), std::string::npos) << "the rejoin step ran";
}

// Every drill scenario against the two-region compose service, with the
// image the test above built. Each drill's project (containers, networks,
// volumes) is removed when it ends.
TEST_F(ComposeDrill, EveryScenarioPassesOnTheTwoRegionService) {
  if (!DockerAnswers()) {
    GTEST_SKIP() << "no Docker engine with docker-compose or `docker compose` here";
  }
  const char* source = std::getenv("CAIRN_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "run through ctest (CAIRN_SOURCE_DIR)";
  const testing::CommandResult image =
      testing::RunCommand({"/bin/sh", "-c", "docker image inspect " + Tag() + " >/dev/null 2>&1"});
  ASSERT_EQ(image.exit_code, 0) << "the image " << Tag() << " was not built by the test above";
  for (const char* scenario : {"leader-loss", "minority-loss", "partition", "pause",
                               "rolling-restart", "store-outage", "region-loss"}) {
    const std::string json = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                          "/compose-drill-", getpid(), "-", scenario, ".json");
    const testing::CommandResult r = testing::RunCommand(
        {"/usr/bin/env", "CAIRN_IMAGE=" + Tag(), testing::BinaryPath("deploy/drill/cairn-drill"),
         scenario, "--target", "compose", "--compose-file",
         std::string(source) + "/deploy/compose/two-region.yml", "--duration-s", "12",
         "--rto-max-s", "60", "--json", json},
        "", std::chrono::minutes(15));
    std::cerr << r.out << r.err;
    EXPECT_EQ(r.exit_code, 0) << scenario;
    EXPECT_NE(r.out.find(absl::StrCat("drill ", scenario, " (compose): PASSED")),
              std::string::npos);
    std::filesystem::remove(json);
  }
}

}  // namespace
}  // namespace cairn
