// The installed SDK package, used the way an application team would: install
// the build to a temporary prefix, copy the examples (docs/examples) out of
// the tree as a downstream project, configure it with find_package(cairn),
// build it, and run it against a (fake, in-process) node whose receipts are
// real. Needs no cluster.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_cluster.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cairn {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;

TEST(ClientInstallTest, DownstreamProjectBuildsAndRunsAgainstTheInstalledPackage) {
  testing::TempDir tmp;
  const std::string prefix = tmp.path() + "/prefix";
  const std::string app = tmp.path() + "/app";
  const std::string build = tmp.path() + "/app-build";
  const std::string bin_dir = testing::BinaryPath("");

  CommandResult r = testing::RunCommand(
      {CAIRN_CMAKE_COMMAND, "--install", bin_dir, "--prefix", prefix}, "", std::chrono::minutes(5));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(prefix + "/lib/cmake/cairn/cairnConfig.cmake"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/include/cairn/client/client.h"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/include/cairn/v1/ledger.pb.h"));
  // Private headers stay private.
  EXPECT_FALSE(std::filesystem::exists(prefix + "/include/cairn/client/core.h"));
  // The programs, in bin/.
  EXPECT_TRUE(std::filesystem::exists(prefix + "/bin/cairn-node"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/bin/cairnctl"));

  std::filesystem::copy(std::string(CAIRN_SOURCE_DIR) + "/docs/examples", app,
                        std::filesystem::copy_options::recursive);
  r = testing::RunCommand({CAIRN_CMAKE_COMMAND, "-S", app, "-B", build, "-G", "Ninja",
                           "-DCMAKE_MAKE_PROGRAM=" CAIRN_MAKE_PROGRAM, "-DCMAKE_BUILD_TYPE=Debug",
                           "-DCMAKE_PREFIX_PATH=" + prefix},
                          "", std::chrono::minutes(5));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Configuring done"));
  r = testing::RunCommand({CAIRN_CMAKE_COMMAND, "--build", build, "-j", "2"}, "",
                          std::chrono::minutes(15));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Run what was built against a node.
  testing::FakeCluster cluster;
  const testing::CertFiles writer = cluster.pki().User("writer");
  const std::string doc = tmp.path() + "/minutes.txt";
  std::ofstream(doc) << "board minutes, 2026-11-22";
  const std::string receipt = tmp.path() + "/minutes.receipt.json";
  auto notarize = [&](const std::string& mode) {
    return testing::RunCommand({"/usr/bin/env", "CAIRN_ENDPOINT=" + cluster.server(0).address(),
                                "CAIRN_CERT=" + writer.cert, "CAIRN_KEY=" + writer.key,
                                "CAIRN_SERVICE_CERT=" + cluster.pki().service_cert(),
                                build + "/cairn_example_notarize", mode, doc, receipt});
  };
  r = notarize("stamp");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = notarize("prove");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("VALID"));
}

}  // namespace
}  // namespace cairn
