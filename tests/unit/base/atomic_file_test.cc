// ReplaceFileAtomically: the file holds one writer's whole contents, even
// with writers racing on it, errors leave the target and the directory as
// they were, and the mode is the one asked for.
#include "cairn/base/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "testing/temp_dir.h"

namespace cairn::base {
namespace {

using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  return names;
}

TEST(ReplaceFileAtomicallyTest, CreatesAndReplacesWithTheModeAskedFor) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/state.json";
  ASSERT_TRUE(ReplaceFileAtomically(path, "first", 0600).ok());
  EXPECT_EQ(Read(path), "first");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(ReplaceFileAtomically(path, "second, longer", 0644).ok());
  EXPECT_EQ(Read(path), "second, longer");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_TRUE(ReplaceFileAtomically(path, "").ok());
  EXPECT_EQ(Read(path), "");
  EXPECT_THAT(Names(dir.path()), ::testing::ElementsAre("state.json"));  // no temporaries left
}

// The fixed "<path>.tmp" of old: something by that name must not matter.
TEST(ReplaceFileAtomicallyTest, DoesNotUseAFixedTemporaryName) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/state.json";
  std::filesystem::create_directory(path + ".tmp");
  ASSERT_TRUE(ReplaceFileAtomically(path, "contents").ok());
  EXPECT_EQ(Read(path), "contents");
}

// Two writers (as two processes sharing a state file would) and a reader: the
// reader only ever sees one writer's complete contents, and no write fails.
TEST(ReplaceFileAtomicallyTest, RacingWritersNeverMixTheirContents) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/shared";
  const std::string a(256 << 10, 'a');
  const std::string b(128 << 10, 'b');
  ASSERT_TRUE(ReplaceFileAtomically(path, a).ok());
  constexpr int kWritesEach = 200;
  std::atomic<int> writers_left{2};
  std::atomic<int> failures{0};
  auto writer = [&](const std::string& data) {
    for (int i = 0; i < kWritesEach; ++i) {
      if (!ReplaceFileAtomically(path, data).ok()) failures.fetch_add(1);
    }
    writers_left.fetch_sub(1);
  };
  std::thread wa(writer, std::cref(a));
  std::thread wb(writer, std::cref(b));
  int reads = 0, torn = 0;
  while (writers_left.load() > 0 || reads == 0) {
    const std::string seen = Read(path);
    ++reads;
    if (seen != a && seen != b) ++torn;
  }
  wa.join();
  wb.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(torn, 0) << "of " << reads << " reads";
  EXPECT_THAT(Names(dir.path()), ::testing::ElementsAre("shared"));
}

TEST(ReplaceFileAtomicallyTest, ErrorsNameTheFileAndLeaveNothingBehind) {
  testing::TempDir dir;
  absl::Status s = ReplaceFileAtomically(dir.path() + "/missing/state.json", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/missing"));

  // The target is a directory: the rename fails, the directory stays as it was.
  const std::string target = dir.path() + "/taken";
  std::filesystem::create_directory(target);
  s = ReplaceFileAtomically(target, "x");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(target));
  EXPECT_TRUE(std::filesystem::is_directory(target));
  EXPECT_THAT(Names(dir.path()), ::testing::ElementsAre("taken"));
}

}  // namespace
}  // namespace cairn::base
