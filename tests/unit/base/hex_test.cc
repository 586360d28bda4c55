// Hex encoding round trips and strict decoding.
#include "cairn/base/hex.h"

#include <gtest/gtest.h>

namespace cairn::base {
namespace {

TEST(HexTest, EncodesLowercase) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexEncode(""), "");
}

TEST(HexTest, DecodesEitherCaseAndRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  auto back = HexDecode(HexEncode(all));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, all);
  EXPECT_EQ(*HexDecode("ABcd"), "\xab\xcd");
}

TEST(HexTest, RejectsOddLengthAndNonDigitsNamingTheField) {
  auto odd = HexDecode("abc", "root");
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(odd.status().message().find("root"), std::string::npos);
  auto bad = HexDecode("zz", "leaf-hash");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("leaf-hash"), std::string::npos);
}

}  // namespace
}  // namespace cairn::base
