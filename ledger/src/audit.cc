// Offline audit: replay segments, rebuild the tree, check every signature
// (see audit.h). The replay uses the same functions as a replica applying
// the log (LeafComponentsFor, CheckSignatureTransaction), so the auditor and
// the node cannot disagree on what a valid ledger is.
#include "cairn/ledger/audit.h"

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/segment.h"
#include "cairn/v1/log.pb.h"

namespace cairn::ledger {

class SegmentAuditor::Impl {
 public:
  explicit Impl(const Certificate& service_cert) : service_cert_(service_cert) {}

  absl::Status ReplayRecords(absl::string_view file, absl::Span<const SegmentRecord> records) {
    for (const SegmentRecord& record : records) {
      if (absl::Status s = ReplayEntry(record); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat(file, ": txid ", record.term, ".", record.index,
                                                   ": ", s.message()));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Replay(absl::string_view file, const Segment& segment) {
    if (absl::Status s = ReplayRecords(file, segment.records); !s.ok()) return s;
    v1::LogCommand last;
    if (!last.ParseFromString(segment.records.back().data) || !last.has_signature()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": does not end on a signature transaction"));
    }
    ++report_.segments;
    return absl::OkStatus();
  }

  AuditReport report() const {
    AuditReport report = report_;
    report.entries = tree_.size();
    report.root = tree_.Root();
    report.signed_tree_size = signed_size_;
    return report;
  }

 private:
  absl::Status ReplayEntry(const SegmentRecord& record) {
    if (record.index != tree_.size() + 1) {
      return absl::DataLossError(
          absl::StrCat("expected log index ", tree_.size() + 1, " (entries missing or repeated)"));
    }
    if (record.term < last_term_) {
      return absl::DataLossError(absl::StrCat("term went back from ", last_term_));
    }
    if (record.term != last_term_) term_starts_.emplace_back(record.index, record.term);
    last_term_ = record.term;
    absl::StatusOr<v1::LeafComponents> leaf =
        LeafComponentsFor(record.term, record.index, record.data);
    if (!leaf.ok()) return leaf.status();
    // The first entry with a payload is the genesis (a first leader may put
    // empty internal entries before it).
    if (!genesis_seen_ && leaf->kind() != v1::ENTRY_KIND_INTERNAL) {
      if (absl::Status s = CheckGenesis(record.data); !s.ok()) return s;
      genesis_seen_ = true;
    }
    if (leaf->kind() == v1::ENTRY_KIND_SIGNATURE) {
      if (absl::Status s = CheckSignature(record); !s.ok()) return s;
    }
    absl::StatusOr<Hash> leaf_hash = LeafHashOf(*leaf);
    if (!leaf_hash.ok()) return leaf_hash.status();
    tree_.Append(*leaf_hash, store_);
    report_.last_txid = TxId{record.term, record.index};
    return absl::OkStatus();
  }

  absl::Status CheckGenesis(const std::string& data) {
    v1::LogCommand command;
    if (!command.ParseFromString(data) || !command.governance().has_create_service()) {
      return absl::InvalidArgumentError(
          "the first entry with a payload is not the genesis (create_service) transaction");
    }
    absl::StatusOr<Certificate> genesis_cert =
        Certificate::FromPem(command.governance().create_service().service_certificate_pem());
    if (!genesis_cert.ok()) return genesis_cert.status();
    if (genesis_cert->Fingerprint() != service_cert_.Fingerprint()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the genesis names service ", genesis_cert->Fingerprint(),
                       ", not the given service certificate ", service_cert_.Fingerprint()));
    }
    return absl::OkStatus();
  }

  absl::Status CheckSignature(const SegmentRecord& record) {
    v1::LogCommand command;
    command.ParseFromString(record.data);  // LeafComponentsFor parsed it already
    const v1::SignatureTransaction& tx = command.signature();
    const uint64_t size = tx.checkpoint().checkpoint().tree_size();
    auto term_at = [this](uint64_t index) { return TermAt(index); };
    if (absl::Status s = CheckSignatureTransaction(tx, record.index, tree_, term_at, service_cert_);
        !s.ok()) {
      if (s.code() != absl::StatusCode::kFailedPrecondition) return s;
      return absl::FailedPreconditionError(
          absl::StrCat(s.message(), "; an entry between log index ", signed_size_ + 1, " and ",
                       size, " differs from what was signed"));
    }
    if (size < signed_size_) {
      return absl::FailedPreconditionError(absl::StrCat(
          "signed tree size ", size, " is smaller than the previous signature's ", signed_size_));
    }
    signed_size_ = size;
    // Later checkpoints are no smaller, so older nodes are never read again.
    store_.DiscardBefore(signed_size_);
    ++report_.signatures;
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> TermAt(uint64_t index) const {
    auto it = std::upper_bound(
        term_starts_.begin(), term_starts_.end(), index,
        [](uint64_t i, const std::pair<uint64_t, uint64_t>& start) { return i < start.first; });
    if (it == term_starts_.begin() || index > tree_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("no entry at log index ", index));
    }
    return std::prev(it)->second;
  }

  const Certificate& service_cert_;
  MemoryMerkleStore store_;
  MerkleTree tree_{&store_};
  // (first log index, term) of each run of equal terms, in log order.
  std::vector<std::pair<uint64_t, uint64_t>> term_starts_;
  uint64_t last_term_ = 0;
  bool genesis_seen_ = false;
  uint64_t signed_size_ = 0;  // Invariant: never decreases
  AuditReport report_;
};

namespace {

struct SegmentFile {
  std::string path;
  uint64_t first = 0;
  uint64_t last = 0;
};

// The segment files of `dir`, ordered by index range and checked to tile
// [1, last] without gaps or overlaps.
absl::StatusOr<std::vector<SegmentFile>> ListSegments(const std::string& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("segments directory ", dir, ": ", ec.message()));
  }
  std::vector<SegmentFile> files;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !absl::EndsWith(name, kSegmentFileSuffix)) continue;
    absl::StatusOr<std::pair<uint64_t, uint64_t>> range = ReadSegmentRange(entry.path().string());
    if (!range.ok()) return range.status();
    files.push_back(SegmentFile{entry.path().string(), range->first, range->second});
  }
  if (files.empty()) {
    return absl::NotFoundError(
        absl::StrCat("segments directory ", dir, ": no *", kSegmentFileSuffix, " files"));
  }
  std::sort(files.begin(), files.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first < b.first; });
  uint64_t next = 1;
  for (const SegmentFile& f : files) {
    if (f.first != next) {
      return absl::DataLossError(
          absl::StrCat(f.path, ": starts at log index ", f.first, ", expected ", next,
                       f.first > next ? " (segments missing)" : " (segments overlap)"));
    }
    next = f.last + 1;
  }
  return files;
}

}  // namespace

absl::StatusOr<AuditReport> Audit(
    const std::string& segments_dir, const Certificate& service_cert,
    const std::function<absl::Status(absl::string_view name, const Segment&)>& visit) {
  absl::StatusOr<std::vector<SegmentFile>> files = ListSegments(segments_dir);
  if (!files.ok()) return files.status();
  SegmentAuditor auditor(service_cert);
  for (const SegmentFile& file : *files) {
    absl::StatusOr<Segment> segment = ReadSegmentFile(file.path);
    if (!segment.ok()) return segment.status();
    if (segment->first_index != file.first || segment->last_index != file.last) {
      return absl::DataLossError(absl::StrCat(file.path, ": changed while being audited"));
    }
    if (absl::Status s = auditor.Replay(file.path, *segment); !s.ok()) return s;
    if (visit) {
      if (absl::Status s = visit(file.path, *segment); !s.ok()) return s;
    }
  }
  return auditor.report();
}

SegmentAuditor::SegmentAuditor(const Certificate& service_cert)
    : impl_(std::make_unique<Impl>(service_cert)) {}
SegmentAuditor::~SegmentAuditor() = default;
absl::Status SegmentAuditor::Replay(absl::string_view name, const Segment& segment) {
  return impl_->Replay(name, segment);
}
absl::Status SegmentAuditor::ReplayRecords(absl::string_view name,
                                           absl::Span<const SegmentRecord> records) {
  return impl_->ReplayRecords(name, records);
}
AuditReport SegmentAuditor::report() const { return impl_->report(); }

}  // namespace cairn::ledger
