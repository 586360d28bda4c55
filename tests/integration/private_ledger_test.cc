// Private ledgers end to end (docs/formats.md, "Private entries v1"): three
// real nodes created with --ledger-type=private. A unique marker appended
// through the SDK is in no file under the cluster's directory (data
// directories with the RocksDB log and tables, segments, logs) while every
// node, once the leader has shared the secret with it, reads it back with its
// salt; the receipt verifies with contents and salt and not without the
// salt. The scan is shown to find the marker in a public ledger's files. A
// new leader seals too; idempotent retries still tell a retry from a reuse;
// a user without a role reads nothing; the type cannot be changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "cairn/base/hex.h"
#include "cairn/client/client.h"
#include "cairn/client/errors.h"
#include "cairn/client/verify.h"
#include "cairn/ledger/segment.h"
#include "integration/client_cluster_fixture.h"
#include "nlohmann/json.hpp"
#include "testing/cluster.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cairn {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Files under `root` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& root, const std::string& needle) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find(needle) != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

// The secret version that sealed the entry at `index`, from node `dir`'s
// segments; 0 until a segment holds it.
uint32_t SealedVersionInSegments(const std::string& dir, uint64_t index) {
  if (!std::filesystem::exists(dir)) return 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".cseg") continue;
    absl::StatusOr<ledger::Segment> segment = ledger::ReadSegmentFile(f.path().string());
    if (!segment.ok()) continue;
    for (const ledger::SegmentRecord& r : segment->records) {
      v1::LogCommand command;
      if (r.index == index && command.ParseFromString(r.data) && command.has_user()) {
        return command.user().sealed().secret_version();
      }
    }
  }
  return 0;
}

std::string UniqueMarker() {
  std::random_device rd;
  return absl::StrCat("cairn-private-marker-", rd(), "-", rd());
}

class PrivateLedgerTest : public ::testing::Test {
 protected:
  void StartCluster(const std::string& type, size_t size = 3) {
    cluster_ = std::make_unique<testing::TestCluster>(
        tmp_.path(), size,
        std::vector<std::string>{"--ledger-type=" + type, "--segment-max-age-s=0",
                                 "--signature-interval-ms=50"});
    const absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started << "\n" << cluster_->node(1).Log();
  }

  void TearDown() override {
    if (HasFailure() && cluster_) {
      for (size_t id = 1; id <= cluster_->size(); ++id) {
        const std::string log = cluster_->node(id).Log();
        std::cerr << "---- node " << id << " log (tail) ----\n"
                  << log.substr(log.size() > 6000 ? log.size() - 6000 : 0) << "\n";
      }
    }
  }

  client::ClientOptions Options(const std::string& user = "admin",
                                std::vector<std::string> endpoints = {}) {
    client::ClientOptions o = testing::ClusterClientOptions(*cluster_, user, std::move(endpoints));
    // A node that does not hold the secret yet answers UNAVAILABLE: ReadFrom
    // polls, so each read gives up soon.
    o.retry.total_timeout_ms = 3000;
    return o;
  }

  std::unique_ptr<client::Client> MakeClient(const client::ClientOptions& options) {
    return testing::MakeClusterClient(options);
  }

  // Polls node `id` alone until it returns the entry at `txid` with its
  // contents (it may not hold the ledger secret yet).
  absl::StatusOr<v1::Entry> ReadFrom(uint64_t id, const std::string& txid) {
    auto c = MakeClient(Options("admin", {cluster_->node(id).client_address()}));
    absl::StatusOr<v1::Entry> entry = absl::UnavailableError("not read yet");
    const absl::Status polled = testing::PollUntil(
        [&] {
          entry = c->GetEntry(txid);
          return entry.ok();
        },
        std::chrono::seconds(20), absl::StrCat("node ", id, " to read ", txid));
    if (!polled.ok())
      return absl::Status(polled.code(),
                          absl::StrCat(polled.message(), ": ", entry.status().message()));
    return entry;
  }

  testing::TempDir tmp_;
  std::unique_ptr<testing::TestCluster> cluster_;
};

TEST_F(PrivateLedgerTest, TheContentsAreInNoFileAndEveryNodeReadsThem) {
  StartCluster("private");
  auto admin = MakeClient(Options());
  const std::string marker = UniqueMarker();
  auto appended = admin->Append("secrets", marker);
  ASSERT_TRUE(appended.ok()) << appended.status();
  // Batches are sealed entry by entry too.
  const std::string batch_marker = UniqueMarker();
  std::vector<client::BatchEntry> entries(2);
  entries[0].collection_id = "secrets";
  entries[0].contents = batch_marker + "-a";
  entries[1].collection_id = "other";
  entries[1].contents = batch_marker;
  auto batch = admin->AppendBatch(std::move(entries));
  ASSERT_TRUE(batch.ok()) << batch.status();

  std::string salt;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto entry = ReadFrom(id, appended->txid);
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(entry->contents(), marker) << "node " << id;
    EXPECT_EQ(entry->contents_salt().size(), 32u) << "node " << id;
    if (salt.empty()) salt = entry->contents_salt();
    EXPECT_EQ(entry->contents_salt(), salt) << "node " << id;
    auto second = ReadFrom(id, (*batch)[1].txid);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(second->contents(), batch_marker);
  }

  client::ReceiptOptions ro;
  ro.wait = true;
  ro.expect.contents = marker;
  ro.expect.contents_salt = salt;
  auto receipt = admin->GetReceipt(appended->txid, ro);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->leaf().kind(), v1::ENTRY_KIND_PRIVATE_USER);
  const std::string service_pem = testing::ReadFileOrEmpty(cluster_->pki().service_cert());
  EXPECT_TRUE(
      client::VerifyReceipt(*receipt, service_pem, {.contents = marker, .contents_salt = salt})
          .ok());
  const absl::Status without_salt =
      client::VerifyReceipt(*receipt, service_pem, {.contents = marker});
  EXPECT_THAT(without_salt.message(), HasSubstr("contents salt"));

  // Segments are written beside each data directory once a signature covers
  // the entries; wait for them so they are part of the scan.
  for (uint64_t id = 1; id <= 3; ++id) {
    const std::string segments = cluster_->node(id).data_dir() + "/segments";
    const absl::Status written = testing::PollUntil(
        [&] {
          if (!std::filesystem::exists(segments)) return false;
          for (const auto& f : std::filesystem::directory_iterator(segments)) {
            if (f.path().extension() == ".cseg") return true;
          }
          return false;
        },
        std::chrono::seconds(20), "a segment");
    ASSERT_TRUE(written.ok()) << written;
  }
  // Stop the nodes so every file is complete, then look everywhere.
  for (uint64_t id = 1; id <= 3; ++id) EXPECT_EQ(cluster_->node(id).Terminate(), 0);
  EXPECT_THAT(FilesContaining(tmp_.path(), marker), ::testing::IsEmpty());
  EXPECT_THAT(FilesContaining(tmp_.path(), batch_marker), ::testing::IsEmpty());

  // The audit with the secret as node 1 holds it opens every sealed entry in
  // its segments and checks each commitment; another key opens none.
  const auto audit = [&](const std::string& key) {
    return testing::RunCommand({testing::BinaryPath("client/cairnctl"), "audit", "--json",
                                "--segments", cluster_->node(1).data_dir() + "/segments",
                                "--service-cert", cluster_->pki().service_cert(), "--node-id", "1",
                                "--node-key-file", key});
  };
  testing::CommandResult with_secret = audit(cluster_->pki().Node(1).key);
  ASSERT_EQ(with_secret.exit_code, 0) << with_secret.out << with_secret.err;
  const nlohmann::json report = nlohmann::json::parse(with_secret.out);
  EXPECT_GE(report["sealed_entries_opened"].get<uint64_t>(), 3u);  // the marker and the batch
  testing::CommandResult other_key = audit(cluster_->pki().Node(2).key);
  EXPECT_EQ(other_key.exit_code, 1) << other_key.out << other_key.err;
  EXPECT_THAT(other_key.err, HasSubstr("node 1 was not given"));
  EXPECT_THAT(other_key.err + with_secret.out, Not(HasSubstr(marker)));
}

TEST_F(PrivateLedgerTest, TheScanFindsAPublicLedgersContents) {
  // The checker of the test above, on a ledger that stores contents in the
  // clear: the same scan finds the marker (in the log, the tables, the
  // segments).
  StartCluster("public", 1);
  auto admin = MakeClient(Options());
  const std::string marker = UniqueMarker();
  auto appended = admin->Append("secrets", marker);
  ASSERT_TRUE(appended.ok()) << appended.status();
  auto entry = admin->GetEntry(appended->txid);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->contents_salt(), "");
  // A public ledger has no secret to rotate, and says what it is.
  auto rotated = admin->RotateLedgerSecret();
  EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(rotated.status().message(), HasSubstr("public"));
  auto status = admin->GetClusterStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->ledger_type(), "public");
  EXPECT_EQ(status->ledger_secret_version(), 0u);
  EXPECT_EQ(cluster_->node(1).Terminate(), 0);
  EXPECT_THAT(FilesContaining(tmp_.path(), marker), Not(::testing::IsEmpty()));
}

TEST_F(PrivateLedgerTest, ANewLeaderSealsAndRetriesAreStillRecognized) {
  StartCluster("private");
  auto admin = MakeClient(Options());
  client::AppendOptions keyed;
  keyed.idempotency_key = "order-1";
  auto first = admin->Append("orders", "one", keyed);
  ASSERT_TRUE(first.ok()) << first.status();
  // Every node has the secret before the leader goes.
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(ReadFrom(id, first->txid).ok());
  // A retry with the same key and contents is the same append; other
  // contents under the key are refused (the digests are keyed, not plain).
  auto retry = admin->Append("orders", "one", keyed);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->txid, first->txid);
  auto reused = admin->Append("orders", "two", keyed);
  EXPECT_EQ(client::ReasonOf(reused.status()), client::ErrorReason::kIdempotencyKeyReused);

  auto leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok());
  cluster_->node(*leader).Kill();
  ASSERT_TRUE(cluster_->WaitForLeader(std::chrono::seconds(20), *leader).ok());
  const std::string marker = UniqueMarker();
  absl::StatusOr<client::AppendResult> later = absl::UnavailableError("not yet");
  ASSERT_TRUE(testing::PollUntil(
                  [&] {
                    later = admin->Append("orders", marker);
                    return later.ok();
                  },
                  std::chrono::seconds(20), "an append through the new leader")
                  .ok())
      << later.status();
  for (uint64_t id = 1; id <= 3; ++id) {
    if (id == *leader) continue;
    auto entry = ReadFrom(id, later->txid);
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(entry->contents(), marker);
  }
  // The retry is recognized by the new leader too.
  auto retry_again = admin->Append("orders", "one", keyed);
  ASSERT_TRUE(retry_again.ok()) << retry_again.status();
  EXPECT_EQ(retry_again->txid, first->txid);
}

TEST_F(PrivateLedgerTest, ARotationSealsNewEntriesWithTheNewVersionAndKeepsOldOnesReadable) {
  StartCluster("private");
  auto admin = MakeClient(Options());
  auto before = admin->Append("orders", "sealed with version 1");
  ASSERT_TRUE(before.ok()) << before.status();
  for (uint64_t id = 1; id <= 3; ++id) ASSERT_TRUE(ReadFrom(id, before->txid).ok());

  // Only an Administrator rotates; "carol" may append but not govern.
  auto admin_client = MakeClient(Options());
  v1::User carol;
  carol.set_role(v1::ROLE_CONTRIBUTOR);
  ASSERT_TRUE(
      admin_client->PutUser(carol, testing::ReadFileOrEmpty(cluster_->pki().User("carol").cert))
          .ok());
  auto contributor = MakeClient(Options("carol"));
  EXPECT_EQ(contributor->RotateLedgerSecret().status().code(), absl::StatusCode::kPermissionDenied);

  auto rotated = admin->RotateLedgerSecret();
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  auto status = admin->GetClusterStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->ledger_type(), "private");
  EXPECT_EQ(status->ledger_secret_version(), 2u);

  const std::string marker = UniqueMarker();
  auto after = admin->Append("orders", marker);
  ASSERT_TRUE(after.ok()) << after.status();
  for (uint64_t id = 1; id <= 3; ++id) {
    auto old_entry = ReadFrom(id, before->txid);
    ASSERT_TRUE(old_entry.ok()) << old_entry.status();
    EXPECT_EQ(old_entry->contents(), "sealed with version 1");
    auto new_entry = ReadFrom(id, after->txid);
    ASSERT_TRUE(new_entry.ok()) << new_entry.status();
    EXPECT_EQ(new_entry->contents(), marker);
  }
  // What the segments store says which version sealed each.
  const std::string segments = cluster_->node(1).data_dir() + "/segments";
  const uint64_t after_index = std::stoull(after->txid.substr(after->txid.find('.') + 1));
  const uint64_t before_index = std::stoull(before->txid.substr(before->txid.find('.') + 1));
  ASSERT_TRUE(
      testing::PollUntil([&] { return SealedVersionInSegments(segments, after_index) != 0; },
                         std::chrono::seconds(20), "a segment holding the entry")
          .ok());
  EXPECT_EQ(SealedVersionInSegments(segments, after_index), 2u);
  EXPECT_EQ(SealedVersionInSegments(segments, before_index), 1u);
}

TEST_F(PrivateLedgerTest, NoRoleNoContentsAndTheTypeNeverChanges) {
  StartCluster("private", 1);
  auto admin = MakeClient(Options());
  const std::string marker = UniqueMarker();
  auto appended = admin->Append("secrets", marker);
  ASSERT_TRUE(appended.ok()) << appended.status();

  // "bob" has a certificate from the service but no role.
  auto stranger = MakeClient(Options("bob"));
  auto refused = stranger->GetEntry(appended->txid);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(refused.status().message(), Not(HasSubstr(marker)));

  // Restarted as public: refused at start, with the reason, nothing served.
  testing::NodeProcess& node = cluster_->node(1);
  EXPECT_EQ(node.Terminate(), 0);
  ASSERT_TRUE(node.Start({"--ledger-type=public"}).ok());
  EXPECT_NE(node.Wait(std::chrono::seconds(20)), 0);
  EXPECT_THAT(node.Log(), HasSubstr("this ledger was created private"));
  EXPECT_THAT(node.Log(), HasSubstr("fixed at creation"));
  // As it was created (or with no type given) it starts and reads.
  ASSERT_TRUE(node.Start({}).ok());
  ASSERT_TRUE(node.WaitReady().ok()) << node.Log();
  auto entry = ReadFrom(1, appended->txid);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->contents(), marker);
}

}  // namespace
}  // namespace cairn
