// Strict "term.index" transaction ids (txid.h).
#include "cairn/ledger/txid.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;

TEST(TxIdTest, ParsesAndFormats) {
  auto id = TxId::Parse("3.1042");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->term, 3u);
  EXPECT_EQ(id->index, 1042u);
  EXPECT_EQ(id->leaf_index(), 1041u);
  EXPECT_EQ(id->ToString(), "3.1042");
  EXPECT_EQ(*TxId::Parse("1.1"), (TxId{1, 1}));
  auto max = TxId::Parse("18446744073709551615.18446744073709551615");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->term, UINT64_MAX);
  EXPECT_EQ(max->ToString(), "18446744073709551615.18446744073709551615");
}

TEST(TxIdTest, RejectsEverySecondSpelling) {
  for (const char* bad : {"",
                          ".",
                          "3",
                          "3.",
                          ".5",
                          "03.5",
                          "3.05",
                          "00.1",
                          "0.5",
                          "3.0",
                          "+3.5",
                          "-3.5",
                          "3.+5",
                          " 3.5",
                          "3.5 ",
                          "3 .5",
                          "3.5\n",
                          "3.5.6",
                          "3,5",
                          "a.5",
                          "3.5x",
                          "0x3.5",
                          "3..5",
                          "18446744073709551616.1",
                          "1.18446744073709551616",
                          "99999999999999999999999.1"}) {
    EXPECT_FALSE(TxId::Parse(bad).ok()) << "'" << bad << "'";
  }
}

TEST(TxIdTest, ErrorsNameTheFieldAndThePart) {
  EXPECT_THAT(TxId::Parse("3.0", "from_txid").status().message(), HasSubstr("from_txid"));
  EXPECT_THAT(TxId::Parse("3.0").status().message(), HasSubstr("index"));
  EXPECT_THAT(TxId::Parse("03.1").status().message(), HasSubstr("leading zero"));
  EXPECT_THAT(TxId::Parse("1.99999999999999999999").status().message(), HasSubstr("2^64"));
  EXPECT_EQ(TxId::Parse("x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::ledger
