// The geo-replica end to end, on both archive backends: a three-node
// cluster (mTLS, loopback) and a fourth node in a "paired" region that joins
// as a learner with --role geo-replica and archives to file:// or to s3://
// on a real S3-compatible server (versitygw) the test starts on loopback.
// Checked: the archive keeps up and `cairnctl dr verify` audits it; the
// geo-replica killed with -9 during uploads catches up with nothing lost; a
// store outage (s3) is retried and caught up; and a damaged, incomplete or
// foreign archive is refused by dr verify, naming the object.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "integration/client_cluster_fixture.h"
#include "nlohmann/json.hpp"
#include "testing/pki.h"
#include "testing/s3_server.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kBucket[] = "paired-region";
constexpr uint64_t kGeoId = 4;

enum class Backend { kFile, kS3 };

std::string Name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kFile ? "File" : "S3";
}

uint64_t IndexOf(const std::string& txid) { return std::stoull(txid.substr(txid.find('.') + 1)); }

// Files under `root` whose bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& root, const std::string& needle) {
  std::vector<std::string> found;
  if (!std::filesystem::exists(root)) return found;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.find(needle) != std::string::npos) found.push_back(entry.path().string());
  }
  return found;
}

class GeoReplicaTest : public ClientClusterTest, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    ClientClusterTest::SetUp();
    if (HasFatalFailure()) return;
    if (GetParam() == Backend::kS3) {
      s3_ = std::make_unique<S3Server>(tmp_.path() + "/s3");
      const absl::Status started = s3_->Start();
      ASSERT_TRUE(started.ok()) << started;
      ASSERT_TRUE(s3_->CreateBucket(kBucket).ok());
      credentials_ = tmp_.path() + "/aws-credentials";
      std::ofstream(credentials_) << "[default]\naws_access_key_id = " << s3_->access_key()
                                  << "\naws_secret_access_key = " << s3_->secret_key() << "\n";
      url_ = absl::StrCat("s3://", kBucket, "/ledger");
    } else {
      url_ = "file://" + tmp_.path() + "/paired-region-archive";
    }
    client_ = MakeClient(Options());
  }

  // --archive-url and the store's settings, as both the node and
  // cairnctl dr verify take them (the flag names differ by a prefix).
  std::vector<std::string> StoreArgs(const std::string& flag_prefix) const {
    std::vector<std::string> args = {"--archive-url", url_};
    if (s3_ != nullptr) {
      const std::string p = flag_prefix.empty() ? "--" : "--" + flag_prefix + "-";
      args.insert(args.end(),
                  {p + "s3-endpoint", s3_->endpoint(), p + "s3-path-style",
                   flag_prefix.empty() ? "--credentials-file" : "--archive-credentials-file",
                   credentials_});
    }
    return args;
  }

  void StartGeoReplica(const std::vector<std::string>& extra = {}) {
    NodeProcess& geo = cluster_->AddNodeObject();
    v1::NodeInfo info;
    info.set_region("paired");
    info.set_node_id(kGeoId);
    info.set_peer_address(geo.peer_address());
    info.set_client_address(geo.client_address());
    info.set_certificate_pem(ReadFileOrEmpty(cluster_->pki().Node(kGeoId).cert));
    absl::StatusOr<std::string> added = client_->AddLearner(info);
    ASSERT_TRUE(added.ok()) << added.status();
    std::vector<std::string> args = {
        "--join", "--role", "geo-replica", "--region", "paired", "--archive-max-lag-ms", "200"};
    const std::vector<std::string> store = StoreArgs("archive");
    args.insert(args.end(), store.begin(), store.end());
    args.insert(args.end(), extra.begin(), extra.end());
    cluster_->SetNodeArgs(kGeoId, args);
    ASSERT_TRUE(cluster_->StartNode(kGeoId).ok());
    ASSERT_TRUE(geo.WaitReady().ok()) << geo.Log();
  }

  // Appends `n` entries; returns the last txid.
  std::string AppendSome(int n, const std::string& tag) {
    std::string last;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<client::AppendResult> r = client_->Append("dr", absl::StrCat(tag, "-", i));
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) last = r->txid;
    }
    return last;
  }

  // Waits until the geo-replica reports `index` archived.
  void WaitArchived(uint64_t index, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    NodeProcess& geo = cluster_->node(kGeoId);
    const absl::Status s = PollUntil(
        [&] { return geo.Metric("cairn_archive_archived_index") >= static_cast<double>(index); },
        timeout, absl::StrCat("the archive to reach log index ", index));
    ASSERT_TRUE(s.ok()) << s << "\n" << geo.Log();
  }

  // Waits until latest.json names a snapshot at index `index` or later.
  void WaitSnapshotted(uint64_t index) {
    NodeProcess& geo = cluster_->node(kGeoId);
    const absl::Status s = PollUntil(
        [&] { return geo.Metric("cairn_archive_snapshot_index") >= static_cast<double>(index); },
        std::chrono::seconds(60), absl::StrCat("the archive to name a snapshot at ", index));
    ASSERT_TRUE(s.ok()) << s << "\n" << geo.Log();
  }

  // cairn-node recover into `data_dir` as node `node_id`.
  CommandResult Recover(const std::string& data_dir, uint64_t node_id,
                        const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {BinaryPath("node/cairn-node"),
                                     "recover",
                                     "--data-dir",
                                     data_dir,
                                     "--node-id",
                                     std::to_string(node_id),
                                     "--peer-address",
                                     "127.0.0.1:1",
                                     "--client-address",
                                     "127.0.0.1:2",
                                     "--service-cert-file",
                                     cluster_->pki().service_cert(),
                                     "--tls-cert-file",
                                     cluster_->pki().Node(node_id).cert};
    const std::vector<std::string> store = StoreArgs("archive");
    argv.insert(argv.end(), store.begin(), store.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, "", std::chrono::seconds(120));
  }

  // cairn-node recover as `node`: into its data directory, at its addresses,
  // in region "paired", with its certificate.
  CommandResult RecoverAs(NodeProcess& node, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {BinaryPath("node/cairn-node"),
                                     "recover",
                                     "--data-dir",
                                     node.data_dir(),
                                     "--node-id",
                                     std::to_string(node.node_id()),
                                     "--peer-address",
                                     node.peer_address(),
                                     "--client-address",
                                     node.client_address(),
                                     "--region",
                                     "paired",
                                     "--service-cert-file",
                                     cluster_->pki().service_cert(),
                                     "--tls-cert-file",
                                     cluster_->pki().Node(node.node_id()).cert};
    const std::vector<std::string> store = StoreArgs("archive");
    argv.insert(argv.end(), store.begin(), store.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, "", std::chrono::seconds(120));
  }

  // Starts `node`, recovered, as the one voter in region "paired"; a client
  // to it alone (nullptr, with the failure recorded, if it does not serve).
  std::unique_ptr<client::Client> StartRecovered(NodeProcess& node) {
    node.set_initial_cluster(node.MemberSpec());
    EXPECT_TRUE(node.Start({"--region", "paired"}).ok());
    const absl::Status ready = node.WaitReady(std::chrono::seconds(60));
    EXPECT_TRUE(ready.ok()) << ready << "\n" << node.Log();
    if (!ready.ok()) return nullptr;
    client::ClientOptions o = Options();
    o.endpoints = {node.client_address()};
    return MakeClient(o);
  }

  // `rebuilt`, recovered from a private ledger's archive, started: it reads
  // entries `txids` (contents "<marker>-<i>"), seals with version
  // `version`, appends, and leaves no plaintext in its data directory.
  void ExpectRecoveredPrivateLedger(NodeProcess& rebuilt, const std::vector<std::string>& txids,
                                    const std::string& marker, uint32_t version) {
    std::unique_ptr<client::Client> after = StartRecovered(rebuilt);
    ASSERT_NE(after, nullptr);
    for (size_t i = 0; i < txids.size(); ++i) {
      absl::StatusOr<v1::Entry> e = after->GetEntry(txids[i]);
      ASSERT_TRUE(e.ok()) << txids[i] << ": " << e.status() << "\n" << rebuilt.Log();
      EXPECT_EQ(e->contents(), absl::StrCat(marker, "-", i));
    }
    absl::StatusOr<v1::ClusterStatus> status = after->GetClusterStatus();
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->ledger_secret_version(), version);
    absl::StatusOr<client::AppendResult> next = after->Append("dr", marker + "-after");
    ASSERT_TRUE(next.ok()) << next.status() << "\n" << rebuilt.Log();
    absl::StatusOr<v1::Entry> read = after->GetEntry(next->txid);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->contents(), marker + "-after");
    EXPECT_EQ(rebuilt.Terminate(), 0);
    EXPECT_THAT(FilesContaining(rebuilt.data_dir(), marker), ::testing::IsEmpty());
  }

  CommandResult DrVerify(const std::string& service_cert,
                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {
        BinaryPath("client/cairnctl"), "dr", "verify", "--json", "--service-cert", service_cert};
    const std::vector<std::string> store = StoreArgs("");
    argv.insert(argv.end(), store.begin(), store.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  }
  CommandResult DrVerify() { return DrVerify(cluster_->pki().service_cert()); }

  // The file holding archive object `name`.
  std::string ObjectFile(const std::string& name) const {
    if (s3_ != nullptr) return s3_->ObjectPath(kBucket, "ledger/" + name);
    return tmp_.path() + "/paired-region-archive/" + name;
  }

  std::unique_ptr<S3Server> s3_;
  std::string credentials_;
  std::string url_;
  std::unique_ptr<client::Client> client_;
};

TEST_P(GeoReplicaTest, ArchivesVerifiablyAndSurvivesKillsAndOutages) {
  AppendSome(20, "before");
  // Snapshots every 50 entries in 4 KiB parts: the kills also land while
  // snapshot parts upload.
  StartGeoReplica({"--archive-snapshot-entries", "50", "--archive-snapshot-part-bytes", "4096"});
  const std::string first = AppendSome(200, "one");
  WaitArchived(IndexOf(first));

  CommandResult r = DrVerify();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["valid"], true);
  EXPECT_EQ(report["region"], "paired");
  EXPECT_GE(report["entries"].get<uint64_t>(), IndexOf(first));
  EXPECT_GE(report["segments"].get<uint64_t>(), 1u);

  // kill -9 while uploading: appends keep coming, the geo-replica dies and
  // comes back, and the archive catches up with nothing missing.
  std::string second;
  for (int round = 0; round < 3; ++round) {
    second = AppendSome(60, absl::StrCat("kill-", round));
    cluster_->node(kGeoId).Kill();
    second = AppendSome(40, absl::StrCat("down-", round));
    ASSERT_TRUE(cluster_->StartNode(kGeoId).ok());
  }
  WaitArchived(IndexOf(second));
  WaitSnapshotted(IndexOf(first) + 1);
  r = DrVerify();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_GE(nlohmann::json::parse(r.out)["entries"].get<uint64_t>(), IndexOf(second));
  EXPECT_GT(nlohmann::json::parse(r.out)["snapshot_index"].get<uint64_t>(), IndexOf(first));

  if (s3_ != nullptr) {
    // The store goes away: uploads fail and are retried; the primary keeps
    // committing; once the store is back the archive catches up.
    s3_->Kill();
    const std::string during = AppendSome(100, "outage");
    NodeProcess& geo = cluster_->node(kGeoId);
    ASSERT_TRUE(PollUntil([&] { return geo.Metric("cairn_archive_upload_errors_total") > 0; },
                          std::chrono::seconds(30), "an upload error during the outage")
                    .ok());
    EXPECT_LT(geo.Metric("cairn_archive_archived_index"), static_cast<double>(IndexOf(during)));
    ASSERT_TRUE(s3_->Start().ok());
    WaitArchived(IndexOf(during));
    r = DrVerify();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

TEST_P(GeoReplicaTest, DrVerifyRefusesDamagedIncompleteAndForeignArchives) {
  StartGeoReplica();
  std::string last;
  // Several segments: appends in bursts longer than the geo-replica's lag.
  for (int burst = 0; burst < 4; ++burst) {
    last = AppendSome(30, absl::StrCat("burst-", burst));
    WaitArchived(IndexOf(last));
  }
  cluster_->node(kGeoId).Kill();  // nothing writes to the archive from here on
  ASSERT_EQ(DrVerify().exit_code, 0);
  const std::string seg1 = ObjectFile("segments/00000000000000000001.cseg");
  const std::string seg2 = ObjectFile("segments/00000000000000000002.cseg");
  ASSERT_TRUE(std::filesystem::exists(seg1));
  ASSERT_TRUE(std::filesystem::exists(seg2));

  // Another service's certificate: refused, naming both.
  std::filesystem::create_directories(tmp_.path() + "/other-pki");
  TestPki other(tmp_.path() + "/other-pki");
  CommandResult r = DrVerify(other.service_cert());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("belongs to service"));

  // A flipped byte in a segment: refused, naming the object.
  std::string bytes = ReadFileOrEmpty(seg1);
  std::filesystem::permissions(seg1, std::filesystem::perms::owner_all);
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x20;
  std::ofstream(seg1, std::ios::binary | std::ios::trunc) << flipped;
  r = DrVerify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("segments/00000000000000000001.cseg"));
  // Recovery from it is refused the same way, and leaves nothing behind.
  const std::string recovered = tmp_.path() + "/recovered";
  r = Recover(recovered, kGeoId);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("segments/00000000000000000001.cseg"));
  EXPECT_THAT(r.err, HasSubstr("nothing was recovered"));
  EXPECT_FALSE(std::filesystem::exists(recovered));
  std::ofstream(seg1, std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_EQ(DrVerify().exit_code, 0);

  // A missing segment (a gap): refused, naming it.
  const std::string saved = ReadFileOrEmpty(seg2);
  std::filesystem::remove(seg2);
  r = DrVerify();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("segments/00000000000000000002.cseg"));

  // No archive at all: a usage error (exit 2), not a verdict.
  url_ += "-nothing-here";
  r = DrVerify();
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("no archive"));
}

// The archive's state snapshot: dr verify checks its attestation and digest;
// a flipped byte in a part, a part missing or a forged attestation is
// refused by dr verify and by recover, naming the object, with nothing left
// behind; recover --full-audit trusts no snapshot and still recovers from
// the segments.
TEST_P(GeoReplicaTest, DamagedSnapshotsAreRefused) {
  StartGeoReplica({"--archive-snapshot-entries", "40", "--archive-snapshot-part-bytes", "4096"});
  std::string last;
  for (int burst = 0; burst < 3; ++burst) {
    last = AppendSome(25, absl::StrCat("burst-", burst));
    WaitArchived(IndexOf(last));
  }
  WaitSnapshotted(40);
  cluster_->node(kGeoId).Kill();
  CommandResult r = DrVerify();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const nlohmann::json verified = nlohmann::json::parse(r.out);
  const uint64_t at = verified["snapshot_index"].get<uint64_t>();
  ASSERT_GE(at, 40u);
  ASSERT_GT(verified["snapshot_bytes"].get<uint64_t>(), 4096u) << "one part only";
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%020llu", static_cast<unsigned long long>(at));
  const std::string manifest = ObjectFile(absl::StrCat("snapshots/", digits, ".json"));
  const std::string part2 = ObjectFile(absl::StrCat("snapshots/", digits, "/000002.part"));
  ASSERT_TRUE(std::filesystem::exists(manifest));
  ASSERT_TRUE(std::filesystem::exists(part2));
  const std::string recovered = tmp_.path() + "/recovered";
  auto refused = [&](const std::string& names) {
    CommandResult v = DrVerify();
    EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
    EXPECT_THAT(v.err, HasSubstr(names));
    CommandResult rec = Recover(recovered, kGeoId);
    EXPECT_EQ(rec.exit_code, 1) << rec.out << rec.err;
    EXPECT_THAT(rec.err, HasSubstr(names));
    EXPECT_THAT(rec.err, HasSubstr("nothing was recovered"));
    EXPECT_FALSE(std::filesystem::exists(recovered));
  };
  auto overwrite = [](const std::string& path, const std::string& bytes) {
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  };

  // A flipped byte in a part (its stored digest no longer matches).
  const std::string part_bytes = ReadFileOrEmpty(part2);
  std::string flipped = part_bytes;
  flipped[flipped.size() / 2] ^= 0x01;
  overwrite(part2, flipped);
  refused(absl::StrCat("snapshots/", digits, "/000002.part"));
  overwrite(part2, part_bytes);
  ASSERT_EQ(DrVerify().exit_code, 0);
  // The part missing (moved away and back: on s3:// its digest is kept
  // with the file).
  std::filesystem::rename(part2, part2 + ".away");
  refused(absl::StrCat("snapshots/", digits, "/000002.part"));
  std::filesystem::rename(part2 + ".away", part2);
  ASSERT_EQ(DrVerify().exit_code, 0);

  // The attestation altered (another region claimed), and the object's own
  // digest made to match it: only the signature can tell. (On file:// only,
  // where the test can rewrite a digest; the check itself is the store's
  // reader, the same for both.)
  const std::string manifest_bytes = ReadFileOrEmpty(manifest);
  nlohmann::json forged = nlohmann::json::parse(manifest_bytes);
  forged["region"] = "elsewhere";
  const std::string forged_bytes = forged.dump(2) + "\n";
  if (s3_ == nullptr) {
    overwrite(manifest, forged_bytes);
    const std::string sidecar = manifest + ".sha256";
    std::filesystem::permissions(sidecar, std::filesystem::perms::owner_all);
    const CommandResult sum = RunCommand({"/usr/bin/sha256sum", manifest});
    ASSERT_EQ(sum.exit_code, 0);
    std::ofstream(sidecar, std::ios::trunc)
        << sum.out.substr(0, 64) << "  " << std::filesystem::path(manifest).filename().string()
        << "\n";
    refused("snapshot attestation: signature");
    overwrite(manifest, manifest_bytes);
    std::ofstream(sidecar, std::ios::trunc)
        << RunCommand({"/usr/bin/sha256sum", manifest}).out.substr(0, 64) << "  "
        << std::filesystem::path(manifest).filename().string() << "\n";
    ASSERT_EQ(DrVerify().exit_code, 0);
  }

  // --full-audit trusts no snapshot: with a damaged one it still recovers,
  // from the segments alone.
  overwrite(part2, flipped);
  r = Recover(recovered, kGeoId, {"--full-audit"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("restored from the snapshot")));
}

// GEO_DURABLE: answered only once a cosigned archive covers the entry; with
// no geo-replica (or it down) the append is committed but reported
// NOT_GEO_DURABLE with its txid. dr status shows the archive and its
// cosignature, verified with the service certificate.
TEST_P(GeoReplicaTest, GeoDurableWritesWaitForACosignedArchive) {
  client::ClientOptions o = Options();
  o.call_timeout_ms = 1500;
  o.retry.total_timeout_ms = 1500;
  auto c = MakeClient(o);
  client::AppendOptions geo;
  geo.geo_durable = true;

  absl::StatusOr<client::AppendResult> early = c->Append("dr", "no archive yet", geo);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), absl::StatusCode::kDeadlineExceeded) << early.status();
  EXPECT_EQ(client::ReasonOf(early.status()), client::ErrorReason::kNotGeoDurable);
  const std::string early_txid =
      client::ErrorMetadata(early.status(), client::kTxidKey).value_or("");
  ASSERT_FALSE(early_txid.empty()) << early.status();
  EXPECT_FALSE(client::DefinitelyNotWritten(early.status()));
  // It is committed all the same.
  auto status = client_->GetTransactionStatus(early_txid);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->status(), v1::TRANSACTION_STATUS_COMMITTED);

  StartGeoReplica();
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<client::AppendResult> r =
        MakeClient(Options())->Append("dr", absl::StrCat("geo-", i), geo);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, v1::TRANSACTION_STATUS_COMMITTED);
    // Answered, so some archive cosigned a checkpoint covering it.
    auto dr = client_->GetDrStatus();
    ASSERT_TRUE(dr.ok()) << dr.status();
    EXPECT_GE(dr->geo_durable_index(), IndexOf(r->txid));
  }
  // A geo-replica is never promoted to voter.
  CommandResult promote = Cairnctl({"nodes", "promote", std::to_string(kGeoId)});
  EXPECT_EQ(promote.exit_code, 1) << promote.out << promote.err;
  EXPECT_THAT(promote.err, HasSubstr("is a geo-replica"));
  CommandResult r = Cairnctl({"dr", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json dr = nlohmann::json::parse(r.out);
  ASSERT_EQ(dr["geo_replicas"].size(), 1u) << r.out;
  EXPECT_EQ(dr["geo_replicas"][0]["region"], "paired");
  EXPECT_EQ(dr["geo_replicas"][0]["archive_url"], url_);
  EXPECT_EQ(dr["geo_replicas"][0]["archived"]["cosignature"], "verified") << r.out;
  EXPECT_THAT(Cairnctl({"dr", "status"}).out, HasSubstr("in region paired"));

  // The service setting: with geo-durable-default on, a plain append (it
  // asks for COMMITTED) is answered only once the archive covers it.
  EXPECT_EQ(dr["geo_durable_by_default"], false) << r.out;
  CommandResult set = Cairnctl({"dr", "geo-durable-default", "on"});
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;
  r = Cairnctl({"dr", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["geo_durable_by_default"], true) << r.out;
  EXPECT_THAT(Cairnctl({"dr", "status"}).out, HasSubstr("geo-durable by default"));
  absl::StatusOr<client::AppendResult> plain = c->Append("dr", "plain, archived");
  ASSERT_TRUE(plain.ok()) << plain.status();
  absl::StatusOr<v1::DrStatus> after = client_->GetDrStatus();
  ASSERT_TRUE(after.ok());
  EXPECT_GE(after->geo_durable_index(), IndexOf(plain->txid));
  // A bad value is refused by cairnctl, and nothing is written.
  CommandResult bad = Cairnctl({"dr", "geo-durable-default", "yes"});
  EXPECT_EQ(bad.exit_code, 2) << bad.out << bad.err;

  // The geo-replica down: GEO_DURABLE appends time out again, committed,
  // and so do plain ones while the setting is on (on every node: a
  // follower's forward and a new leader apply the same setting).
  cluster_->node(kGeoId).Kill();
  absl::StatusOr<client::AppendResult> late = c->Append("dr", "archive down", geo);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(client::ReasonOf(late.status()), client::ErrorReason::kNotGeoDurable) << late.status();
  absl::StatusOr<client::AppendResult> plain_late = c->Append("dr", "plain, archive down");
  ASSERT_FALSE(plain_late.ok());
  EXPECT_EQ(client::ReasonOf(plain_late.status()), client::ErrorReason::kNotGeoDurable)
      << plain_late.status();
  // Off again: plain appends are answered once committed.
  set = Cairnctl({"dr", "geo-durable-default", "off"});
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;
  absl::StatusOr<client::AppendResult> plain_off = c->Append("dr", "plain, setting off");
  ASSERT_TRUE(plain_off.ok()) << plain_off.status();
  EXPECT_EQ(plain_off->status, v1::TRANSACTION_STATUS_COMMITTED);
}

// The primary region is lost (every node killed at once); the service is
// rebuilt in the paired region from the archive with cairn-node recover,
// keeping its identity: every GEO_DURABLE write is there, every receipt
// issued before the disaster still verifies, the first entry after the
// recovered history records the recovery, and the service takes writes.
TEST_P(GeoReplicaTest, RegionLossIsRecoveredFromTheArchive) {
  // State snapshots every 60 entries, cut into several parts: the recovery
  // restores the newest and replays only the segments after it.
  StartGeoReplica({"--archive-snapshot-entries", "60", "--archive-snapshot-part-bytes", "4096"});
  client::AppendOptions geo;
  geo.geo_durable = true;
  std::vector<std::string> durable;
  std::vector<v1::Receipt> receipts;
  for (int i = 0; i < 30; ++i) {
    AppendSome(5, absl::StrCat("async-", i));
    absl::StatusOr<client::AppendResult> r =
        client_->Append("dr", absl::StrCat("durable-", i), geo);
    ASSERT_TRUE(r.ok()) << r.status();
    durable.push_back(r->txid);
    if (i % 10 == 0) {
      absl::StatusOr<v1::Receipt> receipt = client_->GetReceipt(r->txid);
      ASSERT_TRUE(receipt.ok()) << receipt.status();
      receipts.push_back(*receipt);
    }
  }
  // A checkpoint the archive surely holds (covered by the last GEO_DURABLE
  // append), as a client state file keeps it.
  absl::StatusOr<v1::GetLatestCheckpointResponse> held = client_->GetLatestCheckpoint();
  ASSERT_TRUE(held.ok());
  std::string held_json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*held, &held_json).ok());
  const std::string held_file = tmp_.path() + "/held-checkpoint.json";
  std::ofstream(held_file) << held_json;
  const uint64_t held_size = held->checkpoint().checkpoint().tree_size();
  ASSERT_LE(held_size, IndexOf(durable.back()) + 1);

  // The archive names a snapshot (taken once 60 entries were archived).
  WaitSnapshotted(60);
  // The geo-replica stops first; what is appended after cannot be archived.
  cluster_->node(kGeoId).Kill();
  const std::string lost = AppendSome(10, "lost");
  client::ReceiptOptions signed_first;
  signed_first.wait = true;  // signed, so that the latest checkpoint covers it
  ASSERT_TRUE(client_->GetReceipt(lost, signed_first).ok());
  absl::StatusOr<v1::GetLatestCheckpointResponse> beyond = client_->GetLatestCheckpoint();
  ASSERT_TRUE(beyond.ok());
  std::string beyond_json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*beyond, &beyond_json).ok());
  const std::string beyond_file = tmp_.path() + "/beyond-checkpoint.json";
  std::ofstream(beyond_file) << beyond_json;
  // Region loss.
  for (uint64_t id = 1; id <= 3; ++id) cluster_->node(id).Kill();

  NodeProcess& rebuilt = cluster_->AddNodeObject();  // node 5, in the paired region
  rebuilt.set_data_dir(tmp_.path() + "/recovered");
  auto recover = [&](const std::vector<std::string>& extra) { return RecoverAs(rebuilt, extra); };
  // A checkpoint beyond the archive: refused, naming what would be lost;
  // nothing is left in the data directory.
  CommandResult r = recover({"--trusted-checkpoint", beyond_file});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("would be lost"));
  EXPECT_THAT(r.err, HasSubstr(beyond->checkpoint().checkpoint().last_txid()));
  EXPECT_FALSE(std::filesystem::exists(rebuilt.data_dir()) &&
               !std::filesystem::is_empty(rebuilt.data_dir()));
  // Another service's checkpoint is not one to trust: a usage error.
  std::filesystem::create_directories(tmp_.path() + "/other-pki");
  TestPki other(tmp_.path() + "/other-pki");
  r = RunCommand({BinaryPath("node/cairn-node"), "recover", "--archive-url", url_, "--data-dir",
                  rebuilt.data_dir(), "--node-id", "5", "--peer-address", rebuilt.peer_address(),
                  "--client-address", rebuilt.client_address(), "--service-cert-file",
                  other.service_cert(), "--tls-cert-file", other.Node(5).cert});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  // The checkpoint the archive holds: recovered.
  r = recover({"--trusted-checkpoint", held_file});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("recovery 1 recorded as txid"));
  EXPECT_THAT(r.out, HasSubstr("restored from the snapshot at index"));
  // A second recovery into the same directory is refused.
  EXPECT_EQ(recover({}).exit_code, 2);

  std::unique_ptr<client::Client> after = StartRecovered(rebuilt);
  ASSERT_NE(after, nullptr);
  for (const std::string& txid : durable) {
    absl::StatusOr<v1::Entry> e = after->GetEntry(txid);
    ASSERT_TRUE(e.ok()) << txid << ": " << e.status();
  }
  for (const v1::Receipt& receipt : receipts) {
    EXPECT_TRUE(
        ledger::VerifyReceipt(receipt, *ledger::ReadCertificateFile(cluster_->pki().service_cert()))
            .ok());
  }
  absl::StatusOr<client::AppendResult> next = after->Append("dr", "after the recovery");
  ASSERT_TRUE(next.ok()) << next.status() << "\n" << rebuilt.Log();
  absl::StatusOr<v1::Receipt> fresh = after->GetReceipt(next->txid, signed_first);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  // A client that verified a checkpoint beyond the archive (its state file)
  // is told exactly which entries it saw are lost.
  const std::string state_file = tmp_.path() + "/client-state.json";
  std::filesystem::copy_file(beyond_file, state_file);
  client::ClientOptions stateful = Options();
  stateful.endpoints = {rebuilt.client_address()};
  stateful.verified_state.state_file = state_file;
  auto saw_more = MakeClient(stateful);
  absl::StatusOr<v1::GetLatestCheckpointResponse> rolled = saw_more->GetLatestCheckpoint();
  ASSERT_FALSE(rolled.ok());
  EXPECT_EQ(rolled.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(rolled.status().message()), HasSubstr("recovered from its archive"));
  EXPECT_THAT(std::string(rolled.status().message()),
              HasSubstr(absl::StrCat("through txid ", beyond->checkpoint().checkpoint().last_txid(),
                                     "), which the archive did not hold; they are lost")));
  // The old receipts' checkpoints are prefixes of the recovered ledger.
  absl::StatusOr<v1::ConsistencyProof> proof =
      after->GetConsistencyProof(receipts.front().checkpoint().checkpoint().tree_size());
  EXPECT_TRUE(proof.ok()) << proof.status();
}

// Data residency: a learner outside the policy is refused, naming it; the
// policy cannot leave out a member's region; a geo-replica whose archive is
// outside it does not archive; single-region keeps every copy at home.
TEST_P(GeoReplicaTest, ResidencyPolicyIsEnforced) {
  CommandResult r = Cairnctl({"residency", "set", "--single-region"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Cairnctl({"dr", "status"});
  EXPECT_THAT(r.out, HasSubstr("residency: only in local")) << r.out;
  v1::NodeInfo info;
  info.set_node_id(kGeoId);
  info.set_peer_address("127.0.0.1:1");
  info.set_client_address("127.0.0.1:2");
  info.set_region("paired");
  info.set_certificate_pem(ReadFileOrEmpty(cluster_->pki().Node(kGeoId).cert));
  absl::StatusOr<std::string> refused = client_->AddLearner(info);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("runs in region paired, which the residency policy does not allow"));
  EXPECT_EQ(Cairnctl({"residency", "set", "--allowed-regions", "bad region"}).exit_code, 1);
  // The initial members were recorded at genesis in the region of the node
  // that created the service: a policy without it is refused.
  r = Cairnctl({"residency", "set", "--allowed-regions", "paired"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("runs in region local"));
  // A member restarted in another region than the one recorded refuses to
  // start, naming both.
  cluster_->node(3).Kill();
  cluster_->SetNodeArgs(3, {"--region", "elsewhere"});
  ASSERT_TRUE(cluster_->StartNode(3).ok());
  ASSERT_TRUE(PollUntil([&] { return !cluster_->node(3).Running(); }, std::chrono::seconds(30),
                        "node 3 to refuse to start")
                  .ok());
  EXPECT_THAT(cluster_->node(3).Log(),
              HasSubstr("runs with --region elsewhere, but the service recorded region local"));
  cluster_->SetNodeArgs(3, {});
  ASSERT_TRUE(cluster_->StartNode(3).ok());
  ASSERT_TRUE(cluster_->node(3).WaitReady().ok()) << cluster_->node(3).Log();

  ASSERT_EQ(Cairnctl({"residency", "set", "--allowed-regions", "local,paired"}).exit_code, 0);
  // The archive is declared in a third region: the geo-replica joins but
  // does not archive.
  StartGeoReplica({"--archive-region", "elsewhere"});
  NodeProcess& geo = cluster_->node(kGeoId);
  AppendSome(20, "residency");
  ASSERT_TRUE(PollUntil([&] { return geo.Metric("cairn_archive_upload_errors_total") > 0; },
                        std::chrono::seconds(30), "the geo-replica to refuse")
                  .ok());
  EXPECT_LE(geo.Metric("cairn_archive_archived_index"), 0);
  EXPECT_THAT(geo.Log(), HasSubstr("its archive"));
  EXPECT_THAT(geo.Log(), HasSubstr("residency policy does not allow"));
  // Allowed now: it catches up.
  ASSERT_EQ(Cairnctl({"residency", "set", "--allowed-regions", "local,paired,elsewhere"}).exit_code,
            0);
  const std::string last = AppendSome(5, "allowed");
  WaitArchived(IndexOf(last));
  // A policy that leaves out the geo-replica's region is refused.
  r = Cairnctl({"residency", "set", "--allowed-regions", "local"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("node 4 runs in region paired"));
}

INSTANTIATE_TEST_SUITE_P(Backends, GeoReplicaTest, ::testing::Values(Backend::kFile, Backend::kS3),
                         Name);

// A private ledger (docs/formats.md, "Private entries v1") in the paired
// region: the archive holds no plaintext of it (its snapshots and segments
// scanned for a marker), and a recovery needs a node that held every
// version of the ledger secret: a new node is refused, naming what it
// lacks, and writes nothing; the geo-replica's identity without its key is
// asked for the key; with it the recovered service reads the history and
// seals what follows with a new version.
class PrivateGeoReplicaTest : public GeoReplicaTest {
 protected:
  std::vector<std::string> ClusterArgs() const override { return {"--ledger-type=private"}; }
};

TEST_P(PrivateGeoReplicaTest, TheArchiveIsSealedAndARecoveryNeedsANodeThatHeldTheSecret) {
  StartGeoReplica({"--archive-snapshot-entries", "20"});
  const std::string marker = absl::StrCat("private-dr-marker-", ::getpid());
  client::AppendOptions geo;
  geo.geo_durable = true;
  std::vector<std::string> txids;
  for (int i = 0; i < 25; ++i) {
    absl::StatusOr<client::AppendResult> r =
        client_->Append("dr", absl::StrCat(marker, "-", i), geo);
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << cluster_->node(kGeoId).Log();
    txids.push_back(r->txid);
  }
  WaitSnapshotted(20);
  const std::string archive = tmp_.path() + "/paired-region-archive";
  ASSERT_TRUE(std::filesystem::exists(archive));
  EXPECT_THAT(FilesContaining(archive, marker), ::testing::IsEmpty());
  // dr verify without the secret passes; with the geo-replica's key it also
  // opens all 25 entries and checks their commitments.
  CommandResult verified = DrVerify(cluster_->pki().service_cert());
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  verified = DrVerify(
      cluster_->pki().service_cert(),
      {"--node-id", std::to_string(kGeoId), "--node-key-file", cluster_->pki().Node(kGeoId).key});
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(nlohmann::json::parse(verified.out)["sealed_entries_opened"].get<uint64_t>(), 25u);
  EXPECT_THAT(verified.out + verified.err, ::testing::Not(HasSubstr(marker)));

  // Region loss.
  cluster_->node(kGeoId).Kill();
  for (uint64_t id = 1; id <= 3; ++id) cluster_->node(id).Kill();

  // A new node never held the secret: refused, the directory left empty.
  const std::string fresh_dir = tmp_.path() + "/recovered-new";
  CommandResult r = Recover(fresh_dir, 5, {"--tls-key-file", cluster_->pki().Node(5).key});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("private ledger"));
  EXPECT_THAT(r.err, HasSubstr("was not given version(s) 1"));
  EXPECT_FALSE(std::filesystem::exists(fresh_dir) && !std::filesystem::is_empty(fresh_dir));
  // The geo-replica's identity, without its key: asked for it.
  const std::string dir = tmp_.path() + "/recovered";
  r = Recover(dir, kGeoId);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("--tls-key-file"));
  // Another node's key for it: refused.
  r = Recover(dir, kGeoId, {"--tls-key-file", cluster_->pki().Node(5).key});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("not the key of --tls-cert-file"));
  // With its key: recovered, at the addresses it will serve on.
  NodeProcess& rebuilt = cluster_->node(kGeoId);
  rebuilt.set_data_dir(dir);
  r = RecoverAs(rebuilt, {"--tls-key-file", cluster_->pki().Node(kGeoId).key});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(FilesContaining(dir, marker), ::testing::IsEmpty());

  ExpectRecoveredPrivateLedger(rebuilt, txids, marker, 2);  // the recovery started version 2
}

INSTANTIATE_TEST_SUITE_P(Backends, PrivateGeoReplicaTest, ::testing::Values(Backend::kFile), Name);

// A private ledger created with three recovery operators, any two of whom
// recover it when the region is lost with every node that held its secret:
// each opens its own share from the archive (cairnctl recovery share), and
// a new node recovers with two share files. Fewer, repeated or altered
// shares are refused, naming why, and write nothing.
class RecoverySharesGeoReplicaTest : public GeoReplicaTest {
 protected:
  std::vector<std::string> ClusterArgs() const override {
    std::vector<std::string> args = {"--ledger-type=private", "--recovery-threshold=2"};
    for (int i = 1; i <= 3; ++i) {
      args.push_back("--recovery-operator-cert-file=" + Operator(i).cert);
    }
    return args;
  }

  // Operators have certificates of their own CA (any P-256 certificate will do).
  testing::CertFiles Operator(int i) const {
    return Operators().User(absl::StrCat("operator-", i));
  }
  testing::TestPki& Operators() const {
    if (operators_ == nullptr) {
      const std::string dir = tmp_.path() + "/operators";
      std::filesystem::create_directories(dir);
      operators_ = std::make_unique<testing::TestPki>(dir);
    }
    return *operators_;
  }

  CommandResult RecoveryShare(const testing::CertFiles& op, const std::string& out) {
    std::vector<std::string> argv = {BinaryPath("client/cairnctl"),
                                     "recovery",
                                     "share",
                                     "--service-cert",
                                     cluster_->pki().service_cert(),
                                     "--operator-cert-file",
                                     op.cert,
                                     "--operator-key-file",
                                     op.key,
                                     "--out",
                                     out};
    const std::vector<std::string> store = StoreArgs("");
    argv.insert(argv.end(), store.begin(), store.end());
    return RunCommand(argv);
  }

  mutable std::unique_ptr<testing::TestPki> operators_;
};

TEST_P(RecoverySharesGeoReplicaTest, TwoOfThreeOperatorsRecoverWhatNoSurvivingNodeHeld) {
  StartGeoReplica();
  const std::string marker = absl::StrCat("shares-dr-marker-", ::getpid());
  client::AppendOptions geo;
  geo.geo_durable = true;
  std::vector<std::string> txids;
  const auto append = [&](int i) {
    absl::StatusOr<client::AppendResult> r =
        client_->Append("dr", absl::StrCat(marker, "-", i), geo);
    ASSERT_TRUE(r.ok()) << r.status() << "\n" << cluster_->node(kGeoId).Log();
    txids.push_back(r->txid);
  };
  for (int i = 0; i < 8; ++i) append(i);
  // A rotation: version 2 is wrapped to the recovery key too.
  absl::StatusOr<std::string> rotated = client_->RotateLedgerSecret();
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  for (int i = 8; i < 14; ++i) append(i);
  ASSERT_FALSE(HasFatalFailure());

  // Region loss: no node that held either version survives.
  cluster_->node(kGeoId).Kill();
  for (uint64_t id = 1; id <= 3; ++id) cluster_->node(id).Kill();

  // Operators 1 and 3 open their shares from the archive.
  const std::string share1 = tmp_.path() + "/share-1.json";
  const std::string share3 = tmp_.path() + "/share-3.json";
  CommandResult r = RecoveryShare(Operator(1), share1);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote recovery share 1 of 3 (2 needed)"));
  EXPECT_EQ(std::filesystem::status(share1).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  r = RecoveryShare(Operator(3), share3);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Never overwritten; another operator's key; someone who is no operator.
  r = RecoveryShare(Operator(1), share1);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("never overwritten"));
  r = RecoveryShare({Operator(2).cert, Operator(1).key}, tmp_.path() + "/share-2.json");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("not the key of --operator-cert-file"));
  r = RecoveryShare(Operators().User("stranger"), tmp_.path() + "/share-x.json");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("holds no recovery share"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/share-2.json"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/share-x.json"));

  // A new node that never held the secret.
  NodeProcess& rebuilt = cluster_->AddNodeObject();
  const std::string dir = rebuilt.data_dir();
  const auto nothing_written = [&] {
    return !std::filesystem::exists(dir) || std::filesystem::is_empty(dir);
  };
  r = RecoverAs(rebuilt, {"--recovery-share", share1});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("needs 2 of its 3 recovery shares; 1 given"));
  EXPECT_TRUE(nothing_written());
  r = RecoverAs(rebuilt, {"--recovery-share", share1, "--recovery-share", share1});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("given twice"));
  EXPECT_TRUE(nothing_written());
  // One hex digit of a share changed.
  std::string text = ReadFileOrEmpty(share3);
  const size_t at = text.find("\"share\": \"") + 10;
  text[at] = text[at] == '0' ? '1' : '0';
  const std::string altered = tmp_.path() + "/share-3-altered.json";
  std::ofstream(altered) << text;
  r = RecoverAs(rebuilt, {"--recovery-share", share1, "--recovery-share", altered});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("do not rebuild"));
  EXPECT_TRUE(nothing_written());
  // Not a share file at all: a usage error, before the archive is read.
  r = RecoverAs(rebuilt, {"--recovery-share", cluster_->pki().service_cert()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("not a recovery share file"));

  // Two good shares: recovered.
  r = RecoverAs(rebuilt, {"--recovery-share", share1, "--recovery-share", share3});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(FilesContaining(dir, marker), ::testing::IsEmpty());
  ExpectRecoveredPrivateLedger(rebuilt, txids, marker, 3);  // versions 1 and 2, and the recovery's
}

INSTANTIATE_TEST_SUITE_P(Backends, RecoverySharesGeoReplicaTest, ::testing::Values(Backend::kS3),
                         Name);

}  // namespace
}  // namespace cairn::testing
