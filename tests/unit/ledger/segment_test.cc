// Ledger segments (segment.h): round trips, writer rules, and a reader that
// rejects every truncation, every flipped byte and trailing data.
#include "cairn/ledger/segment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cairn/base/hex.h"
#include "ledger/src/crc32c.h"
#include "test_ledger.h"
#include "testing/temp_dir.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;

// A ledger of a few entries of each kind, ending on a signature.
class SegmentTest : public ::testing::Test {
 protected:
  SegmentTest() {
    ledger_.AppendUser("orders", "one");
    ledger_.AppendInternal();
    ledger_.set_term(2);
    ledger_.AppendUser("orders", std::string(300, 'x'));
    ledger_.AppendGovernance();
    ledger_.AppendSignature();
  }

  std::string Encode() const {
    SegmentWriter writer(1);
    for (const auto& e : ledger_.entries()) CAIRN_CHECK_OK(writer.Add(e.term, e.index, e.data));
    auto bytes = writer.Finish();
    CAIRN_CHECK_OK(bytes.status());
    return *bytes;
  }

  testing::TestLedger ledger_;
};

TEST(Crc32cTest, KnownAnswer) {
  EXPECT_EQ(internal::Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(internal::Crc32c(""), 0u);
}

TEST_F(SegmentTest, RoundTrips) {
  const std::string bytes = Encode();
  EXPECT_EQ(bytes.substr(0, 8), "CAIRNSEG");
  auto segment = DecodeSegment(bytes);
  ASSERT_TRUE(segment.ok()) << segment.status();
  EXPECT_EQ(segment->first_index, 1u);
  EXPECT_EQ(segment->last_index, ledger_.entries().size());
  ASSERT_EQ(segment->records.size(), ledger_.entries().size());
  for (size_t i = 0; i < segment->records.size(); ++i) {
    EXPECT_EQ(segment->records[i].term, ledger_.entries()[i].term);
    EXPECT_EQ(segment->records[i].index, ledger_.entries()[i].index);
    EXPECT_EQ(segment->records[i].data, ledger_.entries()[i].data);
  }
}

TEST_F(SegmentTest, WriterEnforcesOrderTermsAndTheClosingSignature) {
  SegmentWriter writer(5);
  EXPECT_THAT(writer.Add(1, 6, "").message(), HasSubstr("not the next"));
  EXPECT_THAT(writer.Add(0, 5, "").message(), HasSubstr("term"));
  EXPECT_TRUE(writer.Add(2, 5, "").ok());
  EXPECT_THAT(writer.Add(1, 6, "").message(), HasSubstr("lower"));
  EXPECT_THAT(writer.Finish().status().message(), HasSubstr("signature transaction"));
  EXPECT_EQ(SegmentWriter(1).Finish().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(SegmentWriter(0).Add(1, 0, "").ok());
  EXPECT_EQ(SegmentFileName(1, 42), "segment-00000000000000000001-00000000000000000042.cseg");
}

TEST_F(SegmentTest, FilesAreReadOnlyAndNeverOverwritten) {
  testing::TempDir dir;
  const auto paths = ledger_.WriteSegments(dir.path(), {ledger_.entries().size()});
  struct stat st;
  ASSERT_EQ(::stat(paths[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  auto segment = ReadSegmentFile(paths[0]);
  ASSERT_TRUE(segment.ok()) << segment.status();
  auto range = ReadSegmentRange(paths[0]);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->second, ledger_.entries().size());
  SegmentWriter writer(1);
  for (const auto& e : ledger_.entries()) ASSERT_TRUE(writer.Add(e.term, e.index, e.data).ok());
  EXPECT_EQ(writer.FinishToFile(dir.path()).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SegmentTest, EveryTruncationIsDataLoss) {
  const std::string bytes = Encode();
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto segment = DecodeSegment(absl::string_view(bytes).substr(0, len));
    ASSERT_EQ(segment.status().code(), absl::StatusCode::kDataLoss) << "length " << len;
  }
  EXPECT_THAT(DecodeSegment(bytes.substr(0, 20)).status().message(), HasSubstr("truncated"));
  EXPECT_THAT(DecodeSegment(bytes.substr(0, bytes.size() - 10)).status().message(),
              HasSubstr("trailer"));
}

TEST_F(SegmentTest, EveryFlippedByteIsDataLoss) {
  const std::string bytes = Encode();
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    for (uint8_t mask : {0x01, 0x80}) {
      std::string bad = bytes;
      bad[pos] = static_cast<char>(bad[pos] ^ mask);
      ASSERT_EQ(DecodeSegment(bad).status().code(), absl::StatusCode::kDataLoss)
          << "byte " << pos << " mask " << int{mask};
    }
  }
}

TEST_F(SegmentTest, ErrorsNameTheRecordAndThePart) {
  const std::string bytes = Encode();
  // The fourth record (the long user entry): header 36, then records of 24 + data bytes.
  size_t offset = 36;
  for (int i = 0; i < 3; ++i) offset += 24 + ledger_.entries()[i].data.size();
  std::string bad = bytes;
  bad[offset + 20 + 5] ^= 0x40;  // inside its payload
  EXPECT_THAT(DecodeSegment(bad).status().message(),
              HasSubstr("record at index 4: checksum mismatch"));
  bad = bytes;
  bad[offset] = static_cast<char>(0xff);  // its length
  EXPECT_THAT(DecodeSegment(bad).status().message(), HasSubstr("record at index 4: bad length"));
  EXPECT_THAT(DecodeSegment(bytes + "x").status().message(), HasSubstr("after the trailer"));
  bad = bytes;
  bad[2] = 'X';
  EXPECT_THAT(DecodeSegment(bad).status().message(), HasSubstr("bad magic"));
  bad = bytes;
  bad[bytes.size() - 1] ^= 1;
  EXPECT_THAT(DecodeSegment(bad).status().message(), HasSubstr("SHA-256"));
  EXPECT_THAT(
      DecodeSegment("not a segment at all, but long enough to have a header").status().message(),
      HasSubstr("bad magic"));
}

TEST_F(SegmentTest, AHeaderPromisingMoreRecordsThanTheFileHoldsIsRejectedCheaply) {
  std::string bytes = Encode();
  // last_index = 2^40, with a valid header checksum.
  for (int i = 0; i < 8; ++i) bytes[24 + i] = 0;
  bytes[24 + 2] = 1;
  const uint32_t crc = internal::Crc32c(absl::string_view(bytes).substr(0, 32));
  for (int i = 0; i < 4; ++i) bytes[32 + i] = static_cast<char>(crc >> (24 - 8 * i));
  EXPECT_THAT(DecodeSegment(bytes).status().message(), HasSubstr("promises"));
}

}  // namespace
}  // namespace cairn::ledger
