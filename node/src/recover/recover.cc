// `cairn-node recover` (see recover.h).
#include "recover/recover.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "apply/applier.h"
#include "apply/governance.h"
#include "apply/ledger_secrets.h"
#include "cairn/base/clock.h"
#include "cairn/base/files.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/recovery_share.h"
#include "cairn/ledger/txid.h"
#include "cairn/storage/archive_layout.h"
#include "cairn/storage/archive_store.h"
#include "cairn/storage/data_dir.h"
#include "cairn/storage/database.h"
#include "cairn/storage/raft_log_store.h"
#include "cairn/storage/snapshot.h"
#include "cairn/v1/ledger.pb.h"
#include "cairn/v1/log.pb.h"
#include "setup/archive_flags.h"
#include "setup/recovery_key.h"

namespace cairn::node {
namespace {

constexpr int kRecovered = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

struct RecoverArgs {
  std::string archive_url;
  storage::S3StoreOptions s3;
  std::string data_dir;
  uint64_t node_id = 0;
  std::string peer_address;
  std::string client_address;
  std::string region = "local";
  std::string service_cert_file;
  std::string tls_cert_file;
  std::string tls_key_file;  // a private ledger's archive, without recovery shares
  std::vector<std::string> recovery_share_files;
  std::string trusted_checkpoint_file;
  bool accept_loss = false;
  bool full_audit = false;
};

// The recovery shares of --recovery-share, read before anything else is
// done (a file that is not a share is a usage error).
absl::StatusOr<std::vector<ledger::RecoveryShareFile>> ReadRecoveryShares(
    const std::vector<std::string>& files) {
  std::vector<ledger::RecoveryShareFile> shares;
  for (const std::string& file : files) {
    absl::StatusOr<std::string> bytes = base::ReadFileToString(file, 1 << 16);
    if (!bytes.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--recovery-share ", file, ": ", bytes.status().message()));
    }
    auto share = ledger::DecodeRecoveryShareFile(*bytes);
    OPENSSL_cleanse(bytes->data(), bytes->size());
    if (!share.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--recovery-share ", file, ": ", share.status().message()));
    }
    shares.push_back(*std::move(share));
  }
  return shares;
}

// Every version of a private ledger's secret, from the copies wrapped to
// its recovery key, opened with the key rebuilt from k operators' shares.
absl::StatusOr<std::vector<ledger::LedgerSecret>> SecretsFromShares(
    const std::vector<ledger::RecoveryShareFile>& shares, const Governance& governance,
    const std::string& service_id) {
  const std::optional<v1::RecoveryKey> record = governance.recovery_key();
  if (!record.has_value()) {
    return absl::FailedPreconditionError(
        "--recovery-share: this private ledger was created without recovery operators, so no "
        "share opens it; recover as a node that held every version of its ledger secret (the "
        "geo-replica that wrote the archive holds them), with its node id, certificate and key");
  }
  absl::StatusOr<ledger::PrivateKey> key = RebuildRecoveryKey(*record, service_id, shares);
  if (!key.ok()) return key.status();
  std::map<uint32_t, v1::WrappedLedgerSecret> for_recovery;
  for (const v1::WrappedLedgerSecret& w : governance.ledger_secrets()) {
    if (w.node_id() == 0) for_recovery.emplace(w.version(), w);
  }
  std::vector<ledger::LedgerSecret> secrets;
  for (uint32_t v = 1; v <= governance.newest_ledger_secret_version(); ++v) {
    const auto it = for_recovery.find(v);
    if (it == for_recovery.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("version ", v,
                       " of the ledger secret was never wrapped to the recovery key, so the "
                       "shares cannot open it; recover as a node that held it"));
    }
    auto secret = ledger::UnwrapLedgerSecretFromRecovery(it->second, *key, service_id);
    if (!secret.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("version ", v, " of the ledger secret does not open with the recovery key: ",
                       secret.status().message()));
    }
    secrets.push_back(*std::move(secret));
  }
  return secrets;
}

// Every version of a private ledger's secret, from this node's own copies
// (opened with --tls-key-file).
absl::StatusOr<std::vector<ledger::LedgerSecret>> SecretsFromNodeKey(
    const RecoverArgs& a, const Governance& governance, const ledger::Certificate& service_cert,
    const ledger::Certificate& node_cert) {
  const bool has_recovery_key = governance.recovery_key().has_value();
  const std::string or_shares =
      has_recovery_key ? absl::StrCat(", or give --recovery-share files from ",
                                      governance.recovery_key()->threshold(),
                                      " of its recovery operators (cairnctl recovery share)")
                       : "";
  if (a.tls_key_file.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this archive is a private ledger: give --tls-key-file (the key of --tls-cert-file), so "
        "that recover can check this node opens every version of the ledger secret, without "
        "which the recovered service could not read its history",
        or_shares));
  }
  absl::StatusOr<ledger::PrivateKey> key = ledger::ReadPrivateKeyFile(a.tls_key_file);
  if (!key.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("--tls-key-file: ", key.status().message()));
  }
  if (!node_cert.MatchesKey(*key)) {
    return absl::FailedPreconditionError("--tls-key-file is not the key of --tls-cert-file");
  }
  LedgerSecrets held(a.node_id, service_cert.Fingerprint(), &*key);
  const absl::Status refreshed = held.Refresh(governance);
  const uint32_t newest = governance.newest_ledger_secret_version();
  std::vector<uint32_t> missing;
  std::vector<ledger::LedgerSecret> secrets;
  for (uint32_t v = 1; v <= newest; ++v) {
    absl::StatusOr<ledger::LedgerSecret> secret = held.Get(v);
    if (secret.ok()) {
      secrets.push_back(*std::move(secret));
    } else {
      missing.push_back(v);
    }
  }
  if (!missing.empty()) {
    std::string versions;
    for (uint32_t v : missing) absl::StrAppend(&versions, versions.empty() ? "" : ", ", v);
    return absl::FailedPreconditionError(absl::StrCat(
        "this archive is a private ledger, and node ", a.node_id, " with certificate ",
        node_cert.Fingerprint().substr(0, 16), "… was not given version(s) ", versions,
        " of its ledger secret", refreshed.ok() ? "" : absl::StrCat(" (", refreshed.message(), ")"),
        ": recover as a node that held them, with its node id, certificate and key (the "
        "geo-replica that wrote the archive holds every version)",
        or_shares));
  }
  return secrets;
}

// A private ledger's archive: the recovered service must be able to read the
// history, so recover needs every version of the ledger secret: from k of
// the recovery operators' shares, or from a node that held them all (its own
// copies must open with --tls-key-file). The recovering node is given every
// version it lacks, and what follows is sealed with a new version (the lost
// region may hold entries sealed at the txids the recovered service will
// use), wrapped to the node and to the recovery key. Adds those copies to
// `recovery`. FailedPrecondition saying what is missing otherwise.
absl::Status PrivateLedgerRecovery(const RecoverArgs& a,
                                   const std::vector<ledger::RecoveryShareFile>& shares,
                                   const Governance& governance,
                                   const ledger::Certificate& service_cert,
                                   const ledger::Certificate& node_cert,
                                   v1::RecoverService* recovery) {
  const std::string service_id = service_cert.Fingerprint();
  if (governance.ledger_type() != v1::LEDGER_TYPE_PRIVATE) {
    if (shares.empty()) return absl::OkStatus();
    return absl::FailedPreconditionError(
        "--recovery-share: this archive is a public ledger, which has no secret to recover");
  }
  absl::StatusOr<std::vector<ledger::LedgerSecret>> secrets =
      shares.empty() ? SecretsFromNodeKey(a, governance, service_cert, node_cert)
                     : SecretsFromShares(shares, governance, service_id);
  if (!secrets.ok()) return secrets.status();
  std::map<uint32_t, std::string> recorded;  // version -> certificate of this node id's copy
  for (const v1::WrappedLedgerSecret& w : governance.ledger_secrets()) {
    if (w.node_id() == a.node_id) recorded.emplace(w.version(), w.certificate_fingerprint());
  }
  const auto add = [&](absl::StatusOr<v1::WrappedLedgerSecret> wrapped) -> absl::Status {
    if (!wrapped.ok()) return wrapped.status();
    *recovery->add_ledger_secrets() = *std::move(wrapped);
    return absl::OkStatus();
  };
  for (const ledger::LedgerSecret& secret : *secrets) {
    const auto it = recorded.find(secret.version());
    if (it != recorded.end()) {
      if (it->second == node_cert.Fingerprint()) continue;  // its own copy stands
      return absl::FailedPreconditionError(absl::StrCat(
          "node ", a.node_id, " of the old service held version ", secret.version(),
          " of the ledger secret under another certificate, and a node's first copy stands: "
          "recover with a node id the old service did not use, or with that node's certificate "
          "and key"));
    }
    if (absl::Status s =
            add(ledger::WrapLedgerSecretForNode(secret, a.node_id, node_cert, service_id));
        !s.ok()) {
      return s;
    }
  }
  auto fresh = ledger::LedgerSecret::Generate(governance.newest_ledger_secret_version() + 1);
  if (!fresh.ok()) return fresh.status();
  if (absl::Status s =
          add(ledger::WrapLedgerSecretForNode(*fresh, a.node_id, node_cert, service_id));
      !s.ok()) {
    return s;
  }
  if (std::optional<v1::RecoveryKey> key = governance.recovery_key(); key.has_value()) {
    return add(ledger::WrapLedgerSecretForRecovery(*fresh, *key, service_id));
  }
  return absl::OkStatus();
}

// A checkpoint the operator trusts: verified against the service
// certificate before it is used.
absl::StatusOr<v1::GetLatestCheckpointResponse> ReadTrustedCheckpoint(
    const std::string& path, const ledger::Certificate& service_cert) {
  absl::StatusOr<std::string> text = base::ReadFileToString(path, 1 << 20);
  if (!text.ok()) return text.status();
  v1::GetLatestCheckpointResponse trusted;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(*text, &trusted, options).ok() ||
      !trusted.has_checkpoint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": not a checkpoint (protobuf JSON of GetLatestCheckpointResponse, as a client "
        "state file holds)"));
  }
  absl::StatusOr<ledger::Certificate> node =
      ledger::Certificate::FromPem(trusted.node_certificate_pem());
  if (!node.ok()) return node.status();
  if (absl::Status s = ledger::VerifySignedCheckpoint(trusted.checkpoint(), *node, service_cert);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return trusted;
}

// Terms skipped by a recovery (see Rebuilder::Finish).
constexpr uint64_t kRecoveryTermMargin = 1000;

// Writes the recovered ledger into a new data directory as it is verified.
class Rebuilder {
 public:
  Rebuilder(std::unique_ptr<storage::DataDir> dir, std::unique_ptr<storage::Database> db,
            ledger::Certificate service_cert)
      : dir_(std::move(dir)),
        db_(std::move(db)),
        applier_(db_.get(), &governance_, std::move(service_cert)) {}

  // An empty data directory, before the first segment (not after a
  // snapshot restore, which brings its own state).
  absl::Status Start(uint64_t node_id) {
    if (absl::Status s = applier_.Load(); !s.ok()) return s;
    return db_->raft_log().Bootstrap(consensus::ConfState{{node_id}, {}});
  }

  // The parts of an archived snapshot, in order.
  absl::Status AppendSnapshotPart(uint64_t offset, absl::string_view part) {
    if (sink_ == nullptr) {
      // The first part is the largest (all but the last are full).
      auto sink = db_->NewSnapshotSink(std::max<size_t>(part.size(), 1));
      if (!sink.ok()) return sink.status();
      sink_ = *std::move(sink);
    }
    return sink_->Append(offset, part);
  }

  // Installs the snapshot whose parts are in; its state is loaded as this
  // node's, the Raft log starts after it.
  absl::Status InstallSnapshot(const storage::ArchiveSnapshotManifest& m) {
    if (sink_ == nullptr) return absl::DataLossError("the archived snapshot has no parts");
    absl::StatusOr<consensus::SnapshotMeta> meta = sink_->Install(m.attestation.payload_sha256);
    sink_.reset();
    if (!meta.ok()) {
      return absl::Status(meta.status().code(),
                          absl::StrCat("the archived snapshot at index ", m.attestation.index, ": ",
                                       meta.status().message()));
    }
    if (meta->index != m.attestation.index || meta->term != m.attestation.term) {
      return absl::DataLossError(
          absl::StrCat("the archived snapshot at index ", m.attestation.index,
                       " holds the state at ", meta->term, ".", meta->index,
                       ", not at the attested ", m.attestation.term, ".", m.attestation.index));
    }
    last_term_ = meta->term;
    return applier_.Load();
  }

  // The restored entries first..last, for the audit of the restored state.
  absl::StatusOr<std::vector<ledger::SegmentRecord>> RestoredEntries(uint64_t first,
                                                                     uint64_t last) {
    std::vector<ledger::SegmentRecord> records;
    records.reserve(last - first + 1);
    for (uint64_t i = first; i <= last; ++i) {
      absl::StatusOr<storage::StoredEntry> e = db_->ledger().Get(i);
      if (!e.ok()) {
        return absl::DataLossError(absl::StrCat("the restored snapshot has no entry at index ", i,
                                                ": ", e.status().message()));
      }
      records.push_back(ledger::SegmentRecord{e->term, e->index, std::move(e->data)});
      NoteSignature(records.back());
    }
    return records;
  }

  // Applies one verified segment and keeps its entries in the Raft log (the
  // log is compacted over them at the end).
  absl::Status Add(const ledger::Segment& segment) {
    std::vector<consensus::Entry> entries;
    entries.reserve(segment.records.size());
    for (const ledger::SegmentRecord& r : segment.records) {
      entries.push_back(consensus::Entry{r.term, r.index, r.data, std::nullopt});
      NoteSignature(r);
    }
    return Append(entries);
  }

  // Appends the RecoverService transaction after the history and commits
  // it, then compacts the log over everything: the node starts as the one
  // voter, with nothing to replay.
  absl::StatusOr<ledger::TxId> Finish(v1::GovernanceTransaction recovery, uint64_t node_id) {
    const uint64_t index = applier_.applied_index() + 1;
    // Txids are term.index: the old service may have gone on past the
    // archive, through leader changes, with entries at these indexes. A
    // margin of terms keeps the recovered service's txids from naming one
    // of those lost entries.
    const uint64_t term = last_term_ + kRecoveryTermMargin;
    v1::LogCommand command;
    *command.mutable_governance() = std::move(recovery);
    if (absl::Status s =
            Append({consensus::Entry{term, index, command.SerializeAsString(), std::nullopt}});
        !s.ok()) {
      return s;
    }
    if (absl::Status s = db_->raft_log().Compact(index, consensus::ConfState{{node_id}, {}});
        !s.ok()) {
      return s;
    }
    if (absl::Status s = db_->Sync(); !s.ok()) return s;
    return ledger::TxId{term, index};
  }

  uint64_t recovery_count() const { return governance_.recovery_count(); }
  const Governance& governance() const { return governance_; }
  absl::Status CheckResidency(const std::string& region) const {
    return governance_.CheckResidency(region, "the recovering node");
  }
  const std::map<uint64_t, std::string>& signed_roots() const { return signed_roots_; }
  // The checkpoint of the last signature transaction added.
  const v1::Checkpoint& last_checkpoint() const { return last_checkpoint_; }

 private:
  // Signed checkpoints seen, for the trusted-checkpoint check.
  void NoteSignature(const ledger::SegmentRecord& r) {
    v1::LogCommand command;
    if (!r.data.empty() && command.ParseFromString(r.data) && command.has_signature()) {
      const v1::Checkpoint& cp = command.signature().checkpoint().checkpoint();
      signed_roots_[cp.tree_size()] = cp.root_hash();
      last_checkpoint_ = cp;
    }
  }

  absl::Status Append(const std::vector<consensus::Entry>& entries) {
    last_term_ = entries.back().term;
    const consensus::HardState hs{last_term_, consensus::kNoNode, entries.back().index};
    if (absl::Status s = db_->raft_log().Save(hs, entries); !s.ok()) return s;
    applier_.Apply(entries);  // verified already; a bad signature would halt here
    return absl::OkStatus();
  }

  std::unique_ptr<storage::DataDir> dir_;
  std::unique_ptr<storage::Database> db_;
  Governance governance_;
  Applier applier_;
  uint64_t last_term_ = 0;
  std::map<uint64_t, std::string> signed_roots_;  // tree size -> root
  v1::Checkpoint last_checkpoint_;
  std::unique_ptr<storage::SnapshotSink> sink_;
};

int Recover(const RecoverArgs& a, std::ostream& out, std::ostream& err) {
  const auto started = std::chrono::steady_clock::now();
  auto refuse = [&](absl::string_view why) {
    err << "cairn-node recover: " << why << "\n";
    return kRefused;
  };
  absl::StatusOr<ledger::Certificate> service = ledger::ReadCertificateFile(a.service_cert_file);
  if (!service.ok()) {
    err << "cairn-node recover: --service-cert-file: " << service.status().message() << "\n";
    return kUsage;
  }
  absl::StatusOr<ledger::Certificate> node_cert = ledger::ReadCertificateFile(a.tls_cert_file);
  if (!node_cert.ok()) {
    err << "cairn-node recover: --tls-cert-file: " << node_cert.status().message() << "\n";
    return kUsage;
  }
  if (node_cert->NodeId() != a.node_id || !node_cert->VerifyIssuedBy(*service, absl::Now()).ok()) {
    err << "cairn-node recover: --tls-cert-file is not a node certificate of node " << a.node_id
        << " issued by the service certificate\n";
    return kUsage;
  }
  std::optional<v1::GetLatestCheckpointResponse> trusted;
  if (!a.trusted_checkpoint_file.empty()) {
    auto t = ReadTrustedCheckpoint(a.trusted_checkpoint_file, *service);
    if (!t.ok()) {
      err << "cairn-node recover: --trusted-checkpoint: " << t.status().message() << "\n";
      return kUsage;
    }
    trusted = *std::move(t);
  }
  absl::StatusOr<std::vector<ledger::RecoveryShareFile>> shares =
      ReadRecoveryShares(a.recovery_share_files);
  if (!shares.ok()) {
    err << "cairn-node recover: " << shares.status().message() << "\n";
    return kUsage;
  }
  std::error_code ec;
  const bool existed = std::filesystem::exists(a.data_dir, ec);
  if (existed && !std::filesystem::is_empty(a.data_dir, ec)) {
    err << "cairn-node recover: --data-dir " << a.data_dir
        << " is not empty; recovery writes only into a new data directory\n";
    return kUsage;
  }
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store =
      storage::OpenArchiveStore(a.archive_url, a.s3);
  if (!store.ok()) {
    err << "cairn-node recover: " << store.status().message() << "\n";
    return kUsage;
  }

  // From here on, whatever is written is removed again on a failure.
  auto dir = storage::DataDir::Open(a.data_dir, /*create_if_missing=*/true);
  if (!dir.ok()) return refuse(dir.status().message());
  auto db = storage::Database::Open((*dir)->db_path(), storage::DatabaseOptions{});
  if (!db.ok()) return refuse(db.status().message());
  auto rebuilder = std::make_unique<Rebuilder>(*std::move(dir), *std::move(db), *service);
  auto discard = [&](absl::string_view why) {
    rebuilder.reset();
    if (existed) {
      for (const auto& e : std::filesystem::directory_iterator(a.data_dir, ec)) {
        std::filesystem::remove_all(e.path(), ec);
      }
    } else {
      std::filesystem::remove_all(a.data_dir, ec);
    }
    return refuse(absl::StrCat(why, " (nothing was recovered; ", a.data_dir, " is empty again)"));
  };
  bool rebuilding = false;
  auto apply_segment = [&](uint64_t seq, uint64_t of, const ledger::Segment& segment) {
    if (!rebuilding) {  // the first segment from genesis (no snapshot restored)
      if (absl::Status s = rebuilder->Start(a.node_id); !s.ok()) return s;
      rebuilding = true;
    }
    if (seq % 100 == 0 || seq == of) {
      err << "recover: " << seq << " of " << of << " segments verified and applied\n";
    }
    return rebuilder->Add(segment);
  };
  storage::ArchiveSnapshotRestorer restorer;
  restorer.append = [&](uint64_t offset, absl::string_view part) {
    return rebuilder->AppendSnapshotPart(offset, part);
  };
  restorer.install = [&](const storage::ArchiveSnapshotManifest& m) {
    err << "recover: restoring the archived snapshot at index " << m.attestation.index << " ("
        << m.attestation.payload_bytes << " bytes), attested by node "
        << m.attestation.signer_node_id << "\n";
    if (absl::Status s = rebuilder->InstallSnapshot(m); !s.ok()) return s;
    rebuilding = true;
    return absl::OkStatus();
  };
  restorer.read_entries = [&](uint64_t first, uint64_t last) {
    return rebuilder->RestoredEntries(first, last);
  };
  absl::StatusOr<storage::ArchiveVerifyReport> report =
      a.full_audit ? storage::VerifyArchive(**store, *service, apply_segment,
                                            /*check_snapshot=*/false)
                   : storage::RestoreArchive(**store, *service, restorer, apply_segment);
  if (!report.ok()) return discard(report.status().message());
  const storage::ArchiveLatest& latest = report->latest;

  if (trusted) {
    const v1::Checkpoint& t = trusted->checkpoint().checkpoint();
    if (t.tree_size() > latest.tree_size) {
      const std::string lost = absl::StrCat(
          "the trusted checkpoint (tree size ", t.tree_size(), ", last txid ", t.last_txid(),
          ") is beyond the archive's newest (tree size ", latest.tree_size, ", last txid ",
          latest.last_txid, "): log indexes ", latest.last_index + 1, " to ", t.tree_size(),
          " (through txid ", t.last_txid(), ") are not in the archive and would be lost");
      if (!a.accept_loss) return discard(absl::StrCat(lost, "; --accept-loss to recover anyway"));
      err << "recover: WARNING: " << lost << "\n";
    } else {
      const auto it = rebuilder->signed_roots().find(t.tree_size());
      if (it == rebuilder->signed_roots().end() || it->second != t.root_hash()) {
        return discard(
            absl::StrCat("the archive is inconsistent with the trusted checkpoint (tree "
                         "size ",
                         t.tree_size(), ", root ", base::HexEncode(t.root_hash()),
                         "): it does not hold that signed checkpoint"));
      }
    }
  }

  // The recovering node must be where the recovered policy allows copies.
  if (absl::Status s = rebuilder->CheckResidency(a.region); !s.ok()) return discard(s.message());

  v1::GovernanceTransaction recovery;
  recovery.set_timestamp_unix_ms(base::NowUnixMs());
  v1::RecoverService* r = recovery.mutable_recover_service();
  r->set_archive_url(a.archive_url);
  r->set_recovered_signature_txid(latest.last_txid);
  r->set_recovery_count(rebuilder->recovery_count() + 1);
  r->set_region(a.region);
  // The recovered checkpoint, exactly as the archive's last signature
  // carries it (VerifyArchive checked it is the one latest.json names).
  *r->mutable_recovered_checkpoint() = rebuilder->last_checkpoint();
  v1::NodeInfo* self = r->add_members();
  self->set_node_id(a.node_id);
  self->set_peer_address(a.peer_address);
  self->set_client_address(a.client_address);
  self->set_certificate_pem(node_cert->ToPem());
  self->set_membership(v1::MEMBERSHIP_VOTER);
  self->set_region(a.region);
  if (absl::Status s =
          PrivateLedgerRecovery(a, *shares, rebuilder->governance(), *service, *node_cert, r);
      !s.ok()) {
    return discard(s.message());
  }
  absl::StatusOr<ledger::TxId> recorded = rebuilder->Finish(recovery, a.node_id);
  if (!recorded.ok()) return discard(recorded.status().message());
  rebuilder.reset();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "recovered " << report->audit.entries << " entries (" << latest.segments << " segments, "
      << report->audit.signatures << " signatures) from " << a.archive_url << " in " << seconds
      << " s\n";
  if (report->restored_from_snapshot) {
    out << "restored from the snapshot at index " << report->snapshot_index << " ("
        << report->snapshot_bytes << " bytes) and the segments after it; every entry audited "
        << "from genesis\n";
  }
  out << "recovered checkpoint: tree size " << latest.tree_size << ", root " << latest.root_hex
      << ", last txid " << latest.last_txid << "\n"
      << "recovery " << r->recovery_count() << " recorded as txid " << recorded->ToString() << "\n"
      << "next: start this node with --data-dir " << a.data_dir << " --node-id " << a.node_id
      << " --initial-cluster " << a.node_id << "@" << a.peer_address << "/" << a.client_address
      << " --region " << a.region
      << "; add the other nodes with cairnctl nodes add-learner, start them with --join, and "
         "promote them\n";
  return kRecovered;
}

}  // namespace

int RecoverMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  RecoverArgs a;
  CLI::App app(
      "Rebuild a service's data from its paired-region archive into a new data directory: "
      "restored from its newest state snapshot and the segments after it, every entry audited "
      "from genesis before anything is served; then start the node normally.",
      "cairn-node recover");
  app.add_option("--archive-url", a.archive_url, "file:///PATH or s3://BUCKET[/PREFIX]")
      ->required();
  app.add_option("--data-dir", a.data_dir, "New (absent or empty) data directory")->required();
  app.add_option("--node-id", a.node_id, "Id of the node that will serve the recovered data")
      ->required()
      ->check(CLI::PositiveNumber);
  app.add_option("--peer-address", a.peer_address, "Its peer host:port")->required();
  app.add_option("--client-address", a.client_address, "Its client host:port")->required();
  app.add_option("--region", a.region, "Region the service is recovered in")
      ->check([](const std::string& v) -> std::string {
        const absl::Status s = ledger::ValidateRegion(v, "--region");
        return s.ok() ? "" : std::string(s.message());
      })
      ->capture_default_str();
  app.add_option("--service-cert-file", a.service_cert_file,
                 "The service certificate (PEM): the same identity, so old receipts verify")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert-file", a.tls_cert_file,
                 "The node's certificate (PEM), issued by the service identity")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key-file", a.tls_key_file,
                 "The node's key (PEM): for a private ledger's archive without recovery shares, "
                 "to check the node opens every version of the ledger secret")
      ->check(CLI::ExistingFile);
  app.add_option("--recovery-share", a.recovery_share_files,
                 "A private ledger: one recovery operator's share file (cairnctl recovery share), "
                 "repeated until the ledger's threshold is met")
      ->check(CLI::ExistingFile);
  app.add_option("--trusted-checkpoint", a.trusted_checkpoint_file,
                 "A checkpoint the archive must hold (a client state file: protobuf JSON of "
                 "GetLatestCheckpointResponse)")
      ->check(CLI::ExistingFile);
  app.add_flag("--accept-loss", a.accept_loss,
               "Recover even when --trusted-checkpoint is beyond the archive (entries lost)");
  app.add_flag("--full-audit", a.full_audit,
               "Replay every segment from genesis instead of restoring the archive's newest "
               "state snapshot (slower; trusts no snapshot)");
  AddArchiveStoreFlags(app, &a.s3);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "cairn-node recover: " << e.what() << "\nRun 'cairn-node recover --help' for usage.\n";
    return kUsage;
  }
  return Recover(a, out, err);
}

}  // namespace cairn::node
