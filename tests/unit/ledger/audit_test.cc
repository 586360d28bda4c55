// Offline audit (audit.h): a genuine ledger passes; a single flipped byte in
// any record, a re-checksummed forgery, missing, overlapping or foreign
// segments, and shrinking checkpoints are all caught and located.
#include "cairn/ledger/audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cairn/ledger/segment.h"
#include "test_ledger.h"
#include "testing/temp_dir.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Overwrite(const std::string& path, const std::string& bytes) {
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class AuditTest : public ::testing::Test {
 protected:
  AuditTest() {
    for (int i = 0; i < 4; ++i) ledger_.AppendUser("orders", "order " + std::to_string(i));
    ends_.push_back(ledger_.AppendSignature().index);
    ledger_.set_term(2);
    ledger_.AppendInternal();
    ledger_.AppendGovernance();
    ledger_.AppendUser("payments", "pay", std::string(32, '\x05'));
    ends_.push_back(ledger_.AppendSignature().index);
    ledger_.set_term(4);
    for (int i = 0; i < 3; ++i) ledger_.AppendUser("orders", "later " + std::to_string(i));
    ledger_.AppendSignature();  // two signatures in one segment
    ledger_.AppendUser("orders", "last");
    ends_.push_back(ledger_.AppendSignature().index);
  }

  absl::StatusOr<AuditReport> Run() { return Audit(dir_.path(), ledger_.service_cert()); }

  testing::TestLedger ledger_;
  std::vector<uint64_t> ends_;
  testing::TempDir dir_;
};

TEST_F(AuditTest, AGenuineLedgerPasses) {
  ledger_.WriteSegments(dir_.path(), ends_);
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->segments, 3u);
  EXPECT_EQ(report->entries, ledger_.entries().size());
  EXPECT_EQ(report->signatures, 4u);
  EXPECT_EQ(report->root, ledger_.tree().Root());
  EXPECT_EQ(report->last_txid, (TxId{4, ledger_.entries().size()}));
  EXPECT_EQ(report->signed_tree_size, ledger_.entries().size() - 1);
}

TEST_F(AuditTest, ASingleFlippedByteInAnyRecordIsCaughtAndLocated) {
  const auto paths = ledger_.WriteSegments(dir_.path(), ends_);
  uint64_t index = 1;
  for (const std::string& path : paths) {
    const std::string original = ReadAll(path);
    size_t offset = 36;  // first record
    for (; offset + 48 < original.size(); ++index) {
      const size_t data_bytes = ledger_.entries().at(index - 1).data.size();
      const size_t record_bytes = 24 + data_bytes;
      // The length, term, index, payload start/middle/end and checksum.
      std::vector<size_t> positions = {0, 3, 4, 11, 12, 19, record_bytes - 1};
      if (data_bytes > 0) {
        positions.insert(positions.end(), {20, 20 + data_bytes / 2, 20 + data_bytes - 1});
      }
      for (size_t p : positions) {
        std::string bad = original;
        bad[offset + p] ^= 0x04;
        Overwrite(path, bad);
        auto report = Run();
        ASSERT_FALSE(report.ok()) << path << " record " << index << " byte " << p;
        EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
        EXPECT_THAT(report.status().message(), HasSubstr(path));
        EXPECT_THAT(report.status().message(),
                    HasSubstr("record at index " + std::to_string(index)))
            << report.status();
      }
      Overwrite(path, original);
      offset += record_bytes;
    }
  }
  EXPECT_EQ(index, ledger_.entries().size() + 1);  // every record was visited
  EXPECT_TRUE(Run().ok());
}

TEST_F(AuditTest, AForgeryWithValidChecksumsIsCaughtAtTheNextSignature) {
  // Rewrite the middle segment with one user entry's contents changed and
  // every checksum recomputed: only the signed root can tell.
  std::vector<testing::TestEntry> entries = ledger_.entries();
  const uint64_t forged = ends_[0] + 3;  // the "payments" entry
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(entries[forged - 1].data));
  ASSERT_EQ(command.user().collection_id(), "payments");
  command.mutable_user()->set_contents("PAY");
  entries[forged - 1].data = command.SerializeAsString();
  uint64_t next = 1;
  for (uint64_t end : ends_) {
    SegmentWriter writer(next);
    for (; next <= end; ++next) {
      ASSERT_TRUE(writer.Add(entries[next - 1].term, next, entries[next - 1].data).ok());
    }
    ASSERT_TRUE(writer.FinishToFile(dir_.path()).ok());
  }
  auto report = Run();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("txid 2." + std::to_string(ends_[1])));
  EXPECT_THAT(report.status().message(), HasSubstr("signed root"));
  EXPECT_THAT(report.status().message(), HasSubstr("between log index " + std::to_string(ends_[0]) +
                                                   " and " + std::to_string(ends_[1] - 1)));
}

TEST_F(AuditTest, AForgedSignatureTransactionIsCaughtAtItself) {
  std::vector<testing::TestEntry> entries = ledger_.entries();
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(entries[ends_[0] - 1].data));
  command.mutable_signature()->mutable_checkpoint()->mutable_checkpoint()->set_timestamp_unix_ms(
      testing::kTestEpochMs + 1);
  entries[ends_[0] - 1].data = command.SerializeAsString();
  SegmentWriter writer(1);
  for (uint64_t i = 1; i <= ends_[0]; ++i) ASSERT_TRUE(writer.Add(1, i, entries[i - 1].data).ok());
  ASSERT_TRUE(writer.FinishToFile(dir_.path()).ok());
  auto report = Run();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("txid 1." + std::to_string(ends_[0])));
  EXPECT_THAT(report.status().message(), HasSubstr("checkpoint signature"));
}

TEST_F(AuditTest, MissingOverlappingOrNoSegmentsAreRejected) {
  EXPECT_EQ(Run().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Audit(dir_.path() + "/nope", ledger_.service_cert()).status().code(),
            absl::StatusCode::kNotFound);
  const auto paths = ledger_.WriteSegments(dir_.path(), ends_);
  std::filesystem::remove(paths[1]);
  EXPECT_THAT(Run().status().message(), HasSubstr("segments missing"));
  std::filesystem::remove(paths[0]);
  EXPECT_THAT(Run().status().message(), HasSubstr("expected 1"));
  // An overlapping segment: entries 1..end0 again, plus more.
  ledger_.WriteSegments(dir_.path(), {ends_[0]});
  testing::TempDir other;
  const auto whole = ledger_.WriteSegments(other.path(), {ends_[1]});
  std::filesystem::copy_file(whole[0], dir_.path() + "/overlap.cseg");
  EXPECT_THAT(Run().status().message(), HasSubstr("overlap"));
}

TEST_F(AuditTest, AnotherServiceCertificateIsRejectedAtTheGenesis) {
  ledger_.WriteSegments(dir_.path(), ends_);
  testing::TestLedger other;
  auto report = Audit(dir_.path(), other.service_cert());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("txid 1.1"));
  EXPECT_THAT(report.status().message(), HasSubstr("genesis"));
}

TEST_F(AuditTest, EmptyEntriesMayPrecedeTheGenesisButNothingElse) {
  ledger_.WriteSegments(dir_.path(), ends_);
  testing::TempDir shifted;
  // The same history behind a first leader's empty entry.
  std::vector<testing::TestEntry> entries = {{1, 1, ""}};
  for (const auto& e : ledger_.entries()) entries.push_back({e.term, e.index + 1, e.data});
  auto write = [&](const std::string& dir, const std::vector<testing::TestEntry>& all) {
    SegmentWriter writer(1);
    for (const auto& e : all) CAIRN_CHECK_OK(writer.Add(e.term, e.index, e.data));
    CAIRN_CHECK_OK(writer.FinishToFile(dir).status());
  };
  write(shifted.path(), entries);
  // Signatures name their own indexes, so the shifted copy fails at the first
  // one; what matters here is that the genesis was accepted at index 2.
  auto report = Audit(shifted.path(), ledger_.service_cert());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), Not(HasSubstr("genesis")));
  EXPECT_THAT(report.status().message(), HasSubstr("txid 1." + std::to_string(ends_[0] + 1)));
  // A user entry first is not a genesis.
  testing::TempDir user_first;
  entries[0].data = entries[3].data;
  write(user_first.path(), entries);
  EXPECT_THAT(Audit(user_first.path(), ledger_.service_cert()).status().message(),
              HasSubstr("txid 1.1: the first entry with a payload is not the genesis"));
}

TEST_F(AuditTest, ShrinkingCheckpointsAreRejected) {
  testing::TestLedger ledger;
  ledger.AppendUser("c", "1");
  ledger.AppendUser("c", "2");
  ledger.AppendSignature();
  ledger.AppendSignature(2);  // a valid signature over fewer leaves
  ledger.WriteSegments(dir_.path(), {ledger.entries().size()});
  auto report = Audit(dir_.path(), ledger.service_cert());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("smaller than the previous"));
}

}  // namespace
}  // namespace cairn::ledger
