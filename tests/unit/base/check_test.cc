// Invariant checks abort with the condition and message, in every build type.
#include "cairn/base/check.h"

#include <gtest/gtest.h>

namespace cairn::base {
namespace {

TEST(CheckDeathTest, FailedCheckAbortsWithMessage) {
  int applied = 7, committed = 5;
  EXPECT_DEATH(CAIRN_CHECK(applied <= committed) << "applied " << applied,
               "invariant violated: applied <= committed: applied 7");
}

TEST(CheckDeathTest, CheckOkAbortsOnError) {
  EXPECT_DEATH(CAIRN_CHECK_OK(absl::DataLossError("torn write")), "torn write");
}

TEST(CheckTest, PassingChecksDoNothing) {
  int evaluated = 0;
  CAIRN_CHECK(++evaluated == 1) << "never printed";
  CAIRN_CHECK_OK(absl::OkStatus());
  EXPECT_EQ(evaluated, 1);
}

}  // namespace
}  // namespace cairn::base
