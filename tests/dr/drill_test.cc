// cairn-drill's own checks: the region-loss drill must catch a planted
// loss. With --test-drop-last-archived-segment the archive's last segment is
// dropped before the recovery, as if the geo-replica had never uploaded it;
// the drill must then fail, report as lost exactly the acknowledged writes
// after the recovered index (GEO_DURABLE ones among them), and say which
// check failed. And bad invocations are refused with a clear error before
// anything starts or is written.
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

std::string Drill() { return BinaryPath("deploy/drill/cairn-drill"); }

nlohmann::json CheckNamed(const nlohmann::json& report, const std::string& name) {
  for (const nlohmann::json& c : report["checks"]) {
    if (c["name"] == name) return c;
  }
  ADD_FAILURE() << "no check named " << name << " in " << report.dump(2);
  return nlohmann::json::object();
}

uint64_t IndexOf(const std::string& txid) { return std::stoull(txid.substr(txid.find('.') + 1)); }

TEST(DrillTest, RegionLossCatchesADroppedArchiveSegment) {
  TempDir tmp;
  const std::string json_path = tmp.path() + "/report.json";
  CommandResult r =
      RunCommand({Drill(), "region-loss", "--duration-s", "12", "--json", json_path, "--work-dir",
                  tmp.path() + "/work", "--test-drop-last-archived-segment"},
                 "", std::chrono::seconds(600));
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const nlohmann::json report = nlohmann::json::parse(ReadFileOrEmpty(json_path));
  EXPECT_FALSE(report["passed"].get<bool>());
  EXPECT_FALSE(report.contains("error")) << report.dump(2);

  // The planted loss is seen for what it is: GEO_DURABLE writes lost.
  EXPECT_GT(report["lost_geo_durable_writes"].get<uint64_t>(), 0u) << r.out;
  EXPECT_FALSE(CheckNamed(report, "geo_durable_not_lost")["passed"].get<bool>());
  // ... and exactly: every lost write is past the recovered index, every
  // acknowledged write up to it is present, and the dropped segment's
  // acknowledged GEO_DURABLE writes are among the lost.
  EXPECT_TRUE(CheckNamed(report, "loss_is_unarchived_tail")["passed"].get<bool>()) << r.out;
  EXPECT_TRUE(CheckNamed(report, "linearizable")["passed"].get<bool>()) << r.out;
  const uint64_t recovered = report["recovered_last_index"].get<uint64_t>();
  const uint64_t dropped_first = report["test_dropped_segment"]["first_index"].get<uint64_t>();
  const uint64_t dropped_last = report["test_dropped_segment"]["last_index"].get<uint64_t>();
  EXPECT_EQ(recovered, dropped_first - 1);
  uint64_t geo_in_dropped = 0;
  for (const nlohmann::json& w : report["lost_writes"]) {
    const uint64_t index = IndexOf(w["txid"].get<std::string>());
    EXPECT_GT(index, recovered) << w.dump();
    if (index <= dropped_last && w["geo_durable"].get<bool>()) ++geo_in_dropped;
  }
  EXPECT_GT(geo_in_dropped, 0u);
  EXPECT_EQ(report["lost_acked_writes"].get<uint64_t>(), report["lost_writes"].size());
  // The table says so too.
  EXPECT_THAT(r.out, HasSubstr("FAIL geo_durable_not_lost"));
  EXPECT_THAT(r.out, HasSubstr("(GEO_DURABLE)"));
  // A failing drill keeps its data and logs.
  EXPECT_TRUE(std::filesystem::exists(tmp.path() + "/work/node1.log"));
}

// Installed (cmake --install), cairn-drill finds cairn-node and cairnctl
// beside it in bin/, with no build tree to point at.
TEST(DrillTest, InstalledDrillRunsFromItsPrefix) {
  TempDir tmp;
  const std::string prefix = tmp.path() + "/prefix";
  CommandResult r =
      RunCommand({CAIRN_CMAKE_COMMAND, "--install", BinaryPath(""), "--prefix", prefix}, "",
                 std::chrono::minutes(5));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(std::filesystem::exists(prefix + "/bin/cairn-drill"));
  r = RunCommand({"/usr/bin/env", "-u", "CAIRN_BIN_DIR", prefix + "/bin/cairn-drill", "pause",
                  "--duration-s", "9", "--work-dir", tmp.path() + "/work"},
                 "", std::chrono::minutes(5));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("drill pause (local): PASSED"));
}

TEST(DrillTest, BadInvocationsAreRefusedBeforeAnythingStarts) {
  TempDir tmp;
  const std::string work = tmp.path() + "/work";
  CommandResult r = RunCommand({Drill(), "meteor-strike", "--work-dir", work});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown scenario 'meteor-strike'; one of: "));
  EXPECT_THAT(r.err, HasSubstr("region-loss"));
  EXPECT_FALSE(std::filesystem::exists(work));

  r = RunCommand({Drill(), "pause", "--test-drop-last-archived-segment", "--work-dir", work});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("applies to region-loss only"));
  EXPECT_FALSE(std::filesystem::exists(work));

  r = RunCommand({Drill(), "pause", "--target", "moon", "--work-dir", work});
  EXPECT_EQ(r.exit_code, 2) << r.out;  // CLI11's usage error
  EXPECT_FALSE(std::filesystem::exists(work));

  r = RunCommand({Drill(), "pause", "--duration-s", "2", "--work-dir", work});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(work));

  // A compose file that is not there (or no Docker engine): refused before
  // anything is written.
  r = RunCommand({Drill(), "pause", "--target", "compose", "--compose-file",
                  tmp.path() + "/no-such.yml", "--work-dir", work});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_TRUE(r.err.find("no compose file") != std::string::npos ||
              r.err.find("Docker") != std::string::npos ||
              r.err.find("docker") != std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(work));

  // A work dir with something in it is not overwritten.
  std::filesystem::create_directories(work);
  std::ofstream(work + "/precious") << "keep me";
  r = RunCommand({Drill(), "pause", "--work-dir", work});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("is not empty"));
  EXPECT_EQ(ReadFileOrEmpty(work + "/precious"), "keep me");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(work), {}), 1);
}

}  // namespace
}  // namespace cairn::testing
