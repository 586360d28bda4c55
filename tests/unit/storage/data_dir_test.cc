// Data directory: format version, exclusive lock, refusal of unknown formats.
#include "cairn/storage/data_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

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

// A first start killed between creating FORMAT.tmp and renaming it leaves
// LOCK and a FORMAT.tmp of unknown contents; the next start must finish the
// job instead of refusing the directory forever.
TEST(DataDirTest, InterruptedFirstStartIsTreatedAsNew) {
  testing::TempDir tmp;
  for (bool with_lock : {true, false}) {
    const std::string path = tmp.path() + (with_lock ? "/with-lock" : "/tmp-only");
    std::filesystem::create_directories(path);
    if (with_lock) std::ofstream(path + "/LOCK").flush();
    { std::ofstream(path + "/FORMAT.tmp") << "cairn-da"; }  // torn write
    auto dir = DataDir::Open(path, /*create_if_missing=*/true);
    ASSERT_TRUE(dir.ok()) << dir.status();
    EXPECT_TRUE((*dir)->created());
    EXPECT_FALSE(std::filesystem::exists(path + "/FORMAT.tmp"));
    std::ifstream in(path + "/FORMAT");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "cairn-data-dir 1");
  }
  // FORMAT.tmp next to anything else is still someone else's directory.
  const std::string foreign = tmp.path() + "/foreign";
  std::filesystem::create_directories(foreign);
  { std::ofstream(foreign + "/FORMAT.tmp") << "x"; }
  { std::ofstream(foreign + "/data") << "x"; }
  EXPECT_EQ(DataDir::Open(foreign, true).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(foreign + "/FORMAT"));
}

// A directory that cannot be listed (here: no read permission) must not
// pass for empty and get a FORMAT stamped on it. Runs in a child process so
// that, under root, it can drop to an unprivileged user for whom the
// permission bits apply.
TEST(DataDirDeathTest, UnlistableDirectoryIsRefusedNotTakenForEmpty) {
  testing::TempDir tmp;
  const std::string path = tmp.path() + "/node";
  ASSERT_EQ(::mkdir(path.c_str(), 0300), 0);  // write + search, no read
  constexpr uid_t kNobody = 65534;
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0711), 0);
    ASSERT_EQ(::chown(path.c_str(), kNobody, kNobody), 0);
  }
  EXPECT_EXIT(
      {
        if (::geteuid() == 0 && (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) ::_exit(2);
        auto dir = DataDir::Open(path, /*create_if_missing=*/true);
        if (dir.ok()) ::_exit(1);
        const bool named = dir.status().message().find("cannot list") != std::string::npos;
        ::_exit(dir.status().code() == absl::StatusCode::kFailedPrecondition && named ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_FALSE(std::filesystem::exists(path + "/FORMAT"));
  ::chmod(path.c_str(), 0700);  // so TempDir can remove it
}

TEST(DataDirTest, MissingWithoutCreateIsNotFound) {
  testing::TempDir tmp;
  auto dir = DataDir::Open(tmp.path() + "/absent", false);
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::storage
