// The segment exporter: committed history becomes segment files that end on
// signatures, within the configured bounds, that pass the offline audit; a
// restarted exporter continues where the files end; a directory holding
// another ledger's history is refused rather than extended.
#include "export/segment_exporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cairn/ledger/audit.h"
#include "cairn/ledger/segment.h"
#include "ledger_fixture.h"

namespace cairn::node {
namespace {

using ::testing::HasSubstr;

class SegmentExporterTest : public LedgerFixture {
 protected:
  // Genesis, then `rounds` runs of `per_round` appends each ending on a signature.
  void Fill(int rounds, int per_round, size_t contents_bytes = 8) {
    if (index_ == 0) applier_->Apply({Next(""), Next(Genesis())});
    for (int r = 0; r < rounds; ++r) {
      for (int i = 0; i < per_round; ++i)
        applier_->Apply({Next(User(std::string(contents_bytes, 'x')))});
      applier_->Apply({Next(Signature())});
    }
  }
  SegmentExporterOptions Options(uint64_t entries, uint64_t bytes = 64 << 20) {
    SegmentExporterOptions o;
    o.dir = tmp_.path() + "/segments";
    o.entries_target = entries;
    o.bytes_target = bytes;
    o.max_age = absl::ZeroDuration();  // cut whatever is signed
    return o;
  }
  // (first, last) of every segment file, in log order.
  std::vector<std::pair<uint64_t, uint64_t>> Ranges() {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const auto& f : std::filesystem::directory_iterator(tmp_.path() + "/segments")) {
      out.push_back(*ledger::ReadSegmentRange(f.path().string()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(SegmentExporterTest, CutsAtTheLastSignatureWithinTheEntryBoundAndPassesTheAudit) {
  Fill(6, 3);  // entries 1-2, then signatures at 6, 10, 14, 18, 22, 26
  SegmentExporter exporter(&db_->ledger(), Options(9), nullptr);
  ASSERT_TRUE(exporter.ExportAvailable().ok());
  EXPECT_EQ(exporter.exported_index(), 26u);
  // 1-6 (10 would make 10 entries), 7-14, 15-22, then 23-26.
  using R = std::pair<uint64_t, uint64_t>;
  EXPECT_THAT(Ranges(), ::testing::ElementsAre(R{1, 6}, R{7, 14}, R{15, 22}, R{23, 26}));
  auto report = ledger::Audit(tmp_.path() + "/segments", *pki_.service_cert);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->entries, 26u);
  EXPECT_EQ(report->signatures, 6u);
}

TEST_F(SegmentExporterTest, FirstSignatureBeyondTheBoundStillEndsASegment) {
  Fill(1, 12);
  SegmentExporter exporter(&db_->ledger(), Options(4), nullptr);
  ASSERT_TRUE(exporter.ExportAvailable().ok());
  using R = std::pair<uint64_t, uint64_t>;
  EXPECT_THAT(Ranges(), ::testing::ElementsAre(R{1, 15}));
}

TEST_F(SegmentExporterTest, ByteBoundCutsSegmentsOfLargeEntriesEarlier) {
  Fill(4, 2, /*contents_bytes=*/20000);  // about 40 KB between signatures
  SegmentExporter exporter(&db_->ledger(), Options(10000, /*bytes=*/70000), nullptr);
  ASSERT_TRUE(exporter.ExportAvailable().ok());
  const auto ranges = Ranges();
  ASSERT_EQ(ranges.size(), 4u);  // one signature run per file: two would pass 70 KB
  EXPECT_EQ(ranges.back().second, 14u);
  EXPECT_TRUE(ledger::Audit(tmp_.path() + "/segments", *pki_.service_cert).ok());
}

TEST_F(SegmentExporterTest, NothingIsWrittenUntilASignatureCoversTheEntries) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  SegmentExporter exporter(&db_->ledger(), Options(100), nullptr);
  ASSERT_TRUE(exporter.ExportAvailable().ok());
  EXPECT_EQ(exporter.exported_index(), 0u);
  EXPECT_TRUE(Ranges().empty());
}

// Signed history waits for a full segment (or for max_age), so a busy
// ledger does not leave a file per signature behind.
TEST_F(SegmentExporterTest, ShortRunsWaitUntilTheSegmentIsFull) {
  Fill(2, 3);  // signatures at 6 and 10
  SegmentExporterOptions options = Options(12);
  options.max_age = absl::Hours(1);
  SegmentExporter exporter(&db_->ledger(), options, nullptr);
  ASSERT_TRUE(exporter.ExportAvailable().ok());
  EXPECT_EQ(exporter.exported_index(), 0u);
  Fill(1, 3);  // signature at 14: past 12 entries, so 1-10 is full
  ASSERT_TRUE(exporter.ExportAvailable().ok());
  EXPECT_EQ(exporter.exported_index(), 10u);
}

TEST_F(SegmentExporterTest, RestartedExporterContinuesAfterTheLastFile) {
  Fill(2, 3);
  {
    SegmentExporter exporter(&db_->ledger(), Options(100), nullptr);
    ASSERT_TRUE(exporter.ExportAvailable().ok());
    EXPECT_EQ(exporter.exported_index(), 10u);
  }
  Fill(2, 3);
  SegmentExporter restarted(&db_->ledger(), Options(100), nullptr);
  ASSERT_TRUE(restarted.ExportAvailable().ok());
  EXPECT_EQ(restarted.exported_index(), 18u);
  using R = std::pair<uint64_t, uint64_t>;
  EXPECT_THAT(Ranges(), ::testing::ElementsAre(R{1, 10}, R{11, 18}));
  EXPECT_TRUE(ledger::Audit(tmp_.path() + "/segments", *pki_.service_cert).ok());
}

TEST_F(SegmentExporterTest, DirectoryWithAnotherLedgersHistoryIsRefusedAndNotExtended) {
  Fill(2, 3);
  {
    SegmentExporter exporter(&db_->ledger(), Options(100), nullptr);
    ASSERT_TRUE(exporter.ExportAvailable().ok());
  }
  // Another ledger whose history has the same length but other contents.
  auto other_db = *storage::Database::Open(tmp_.path() + "/other");
  Governance governance;
  Applier other(other_db.get(), &governance, *pki_.service_cert);
  ASSERT_TRUE(other.Load().ok());
  uint64_t i = 0;
  auto entry = [&](std::string data) { return consensus::Entry{2, ++i, std::move(data), {}}; };
  std::vector<consensus::Entry> entries = {entry(""), entry(Genesis())};
  for (int n = 0; n < 8; ++n) entries.push_back(entry(User("other")));
  other.Apply(entries);
  SegmentExporter exporter(&other_db->ledger(), Options(100), nullptr);
  const absl::Status st = exporter.ExportAvailable();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("holds another history"));
  EXPECT_EQ(Ranges().size(), 1u);
}

}  // namespace
}  // namespace cairn::node
