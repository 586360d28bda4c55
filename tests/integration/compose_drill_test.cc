// The docker-compose deployment, end to end (deploy/compose-drill.sh): the
// image builds from deploy/Dockerfile, the three-node service of
// deploy/docker-compose.yml elects a leader, commits, serves a receipt that
// verifies offline, survives SIGKILL of the leader's container and takes
// the node back. Containers, network, volumes and the image are the test's
// own (a project name and tag of its own) and are removed afterwards; ports
// are published on 127.0.0.1 only, on ports picked free.
//
// Skipped, saying why, where no Docker engine (with compose) answers. Where no registry is
// reachable the debian:12 base image is made once with debootstrap from
// Debian's mirror (as scripts/install-deps.sh's packages are) and kept.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "testing/process.h"

namespace cairn {
namespace {

TEST(ComposeDrill, ServiceCommitsProvesAndSurvivesLosingItsLeader) {
  const testing::CommandResult docker = testing::RunCommand(
      {"/bin/sh", "-c",
       "docker info >/dev/null 2>&1 && "
       "{ docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }"});
  if (docker.exit_code != 0) {
    GTEST_SKIP() << "no Docker engine with docker-compose or `docker compose` here";
  }
  const char* source = std::getenv("CAIRN_SOURCE_DIR");
  ASSERT_NE(source, nullptr) << "run through ctest (CAIRN_SOURCE_DIR)";
  std::vector<std::string> argv = {"/usr/bin/env"};
  for (int node = 1; node <= 3; ++node) {
    argv.push_back(absl::StrCat("CAIRN_NODE", node, "_CLIENT_PORT=", testing::PickFreePort()));
    argv.push_back(absl::StrCat("CAIRN_NODE", node, "_HTTP_PORT=", testing::PickFreePort()));
  }
  const std::string tag = absl::StrCat("cairn:drilltest-", getpid());
  argv.insert(argv.end(), {"/bin/bash", std::string(source) + "/deploy/compose-drill.sh",
                           "--bootstrap-base", "--image", tag, "--remove-image"});
  const testing::CommandResult r = testing::RunCommand(argv, "", std::chrono::minutes(40));
  std::cerr << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("compose-drill: passed"), std::string::npos);
  EXPECT_NE(r.err.find("the receipt for"), std::string::npos) << "the receipt step ran";
  EXPECT_NE(r.err.find("has applied everything"), std::string::npos) << "the rejoin step ran";
  const testing::CommandResult left =
      testing::RunCommand({"/bin/sh", "-c", "docker image inspect " + tag + " >/dev/null 2>&1"});
  EXPECT_NE(left.exit_code, 0) << "the test's image " << tag << " was left behind";
  const testing::CommandResult stages = testing::RunCommand(
      {"/bin/sh", "-c", "docker images -q --filter label=org.cairn.stage=build"});
  EXPECT_EQ(stages.out, "") << "build-stage images were left behind";
}

}  // namespace
}  // namespace cairn
