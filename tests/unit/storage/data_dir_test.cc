// Data directory: format version, exclusive lock, refusal of unknown formats.
#include "cairn/storage/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"

namespace cairn::storage {
namespace {

TEST(DataDirTest, CreatesFormatAndReopens) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/node";
  {
    auto dir = DataDir::Open(path, /*create_if_missing=*/true);
    ASSERT_TRUE(dir.ok()) << dir.status();
    EXPECT_TRUE((*dir)->created());
  }
  std::ifstream in(path + "/FORMAT");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "cairn-data-dir 1");
  auto again = DataDir::Open(path, true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE((*again)->created());
}

TEST(DataDirTest, SecondOpenWhileHeldIsRefused) {
  testing::TempDir tmp;
  auto first = DataDir::Open(tmp.path(), true);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = DataDir::Open(tmp.path(), true);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another process"), std::string::npos)
      << second.status();
  first->reset();
  EXPECT_TRUE(DataDir::Open(tmp.path(), true).ok());
}

TEST(DataDirTest, RefusesUnknownVersionAndWritesNothing) {
  testing::TempDir tmp;
  { std::ofstream(tmp.path() + "/FORMAT") << "cairn-data-dir 99\n"; }
  auto dir = DataDir::Open(tmp.path(), true);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(dir.status().message().find("format version 99"), std::string::npos) << dir.status();
  std::ifstream in(tmp.path() + "/FORMAT");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "cairn-data-dir 99");
}

TEST(DataDirTest, RefusesForeignNonEmptyDirectory) {
  testing::TempDir tmp;
  { std::ofstream(tmp.path() + "/something") << "x"; }
  auto dir = DataDir::Open(tmp.path(), true);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/FORMAT"));
}

TEST(DataDirTest, MissingWithoutCreateIsNotFound) {
  testing::TempDir tmp;
  auto dir = DataDir::Open(tmp.path() + "/absent", false);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::storage
