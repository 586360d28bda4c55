// Archive layout v1 (see archive_layout.h).
#include "cairn/storage/archive_layout.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::storage {
namespace {

using Json = nlohmann::json;

absl::Status Malformed(absl::string_view object, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("archive object ", object, " is malformed: ", what));
}

// The object at `name` parsed as a JSON object of `format`.
absl::StatusOr<Json> ParseObject(absl::string_view bytes, absl::string_view name) {
  Json j = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Malformed(name, "not a JSON object");
  if (!j.contains("format") || j["format"] != std::string(kArchiveFormat)) {
    return Malformed(name, absl::StrCat("its format is not \"", kArchiveFormat, "\""));
  }
  return j;
}

// The fields of a parsed archive object; each error is DataLoss naming the
// object and the field.
class Fields {
 public:
  Fields(const Json& j, absl::string_view name) : j_(j), name_(name) {}

  absl::Status Number(const char* key, uint64_t* out) const {
    if (!j_.contains(key) || !j_[key].is_number_unsigned()) {
      return Malformed(name_, absl::StrCat(key, " is not an unsigned number"));
    }
    *out = j_[key].get<uint64_t>();
    return absl::OkStatus();
  }
  absl::Status Text(const char* key, std::string* out) const {
    if (!j_.contains(key) || !j_[key].is_string()) {
      return Malformed(name_, absl::StrCat(key, " is not a string"));
    }
    *out = j_[key].get<std::string>();
    return absl::OkStatus();
  }
  // A lowercase-hex string field, decoded.
  absl::Status Hex(const char* key, std::string* out) const {
    std::string h;
    if (absl::Status s = Text(key, &h); !s.ok()) return s;
    absl::StatusOr<std::string> raw = base::HexDecode(h);
    if (!raw.ok()) return Malformed(name_, absl::StrCat(key, " is not hex"));
    *out = *std::move(raw);
    return absl::OkStatus();
  }

 private:
  const Json& j_;
  const absl::string_view name_;
};

}  // namespace

std::string ArchiveSegmentName(uint64_t seq) {
  return absl::StrFormat("segments/%020d%s", seq, ledger::kSegmentFileSuffix);
}

std::string ArchiveSnapshotManifestName(uint64_t index) {
  return absl::StrFormat("snapshots/%020d.json", index);
}

std::string ArchiveSnapshotPartName(uint64_t index, uint64_t part) {
  return absl::StrFormat("snapshots/%020d/%06d.part", index, part);
}

std::string EncodeArchiveIdentity(absl::string_view service_cert_pem) {
  Json j = {{"format", std::string(kArchiveFormat)},
            {"service_certificate", std::string(service_cert_pem)}};
  return j.dump(2) + "\n";
}

absl::StatusOr<std::string> DecodeArchiveIdentity(absl::string_view bytes) {
  absl::StatusOr<Json> j = ParseObject(bytes, kArchiveIdentityName);
  if (!j.ok()) return j.status();
  if (!j->contains("service_certificate") || !(*j)["service_certificate"].is_string()) {
    return Malformed(kArchiveIdentityName, "no service_certificate");
  }
  return (*j)["service_certificate"].get<std::string>();
}

std::string EncodeArchiveLatest(const ArchiveLatest& l) {
  Json j = {{"format", std::string(kArchiveFormat)},
            {"segments", l.segments},
            {"last_index", l.last_index},
            {"last_txid", l.last_txid},
            {"tree_size", l.tree_size},
            {"root", l.root_hex},
            {"region", l.region},
            {"written_unix_ms", l.written_unix_ms}};
  if (l.snapshot_index != 0) {
    j["snapshot_index"] = l.snapshot_index;
    j["snapshot_next_segment"] = l.snapshot_next_segment;
  }
  return j.dump(2) + "\n";
}

absl::StatusOr<ArchiveLatest> DecodeArchiveLatest(absl::string_view bytes) {
  absl::StatusOr<Json> j = ParseObject(bytes, kArchiveLatestName);
  if (!j.ok()) return j.status();
  ArchiveLatest l;
  const Fields f(*j, kArchiveLatestName);
  uint64_t written = 0;
  for (absl::Status s : {f.Number("segments", &l.segments), f.Number("last_index", &l.last_index),
                         f.Number("tree_size", &l.tree_size), f.Text("last_txid", &l.last_txid),
                         f.Text("root", &l.root_hex), f.Text("region", &l.region),
                         f.Number("written_unix_ms", &written)}) {
    if (!s.ok()) return s;
  }
  l.written_unix_ms = static_cast<int64_t>(written);
  if (l.segments == 0) return Malformed(kArchiveLatestName, "it names no segment");
  if (j->contains("snapshot_index")) {
    for (absl::Status s : {f.Number("snapshot_index", &l.snapshot_index),
                           f.Number("snapshot_next_segment", &l.snapshot_next_segment)}) {
      if (!s.ok()) return s;
    }
    if (l.snapshot_index == 0 || l.snapshot_index > l.last_index) {
      return Malformed(kArchiveLatestName, absl::StrCat("snapshot_index ", l.snapshot_index,
                                                        " is not in 1..last_index ", l.last_index));
    }
    if (l.snapshot_next_segment == 0 || l.snapshot_next_segment > l.segments + 1) {
      return Malformed(kArchiveLatestName,
                       absl::StrCat("snapshot_next_segment ", l.snapshot_next_segment,
                                    " is not in 1..", l.segments + 1));
    }
  }
  return l;
}

absl::StatusOr<ArchiveLatest> LatestAfter(const ledger::Segment& segment, uint64_t segments) {
  v1::LogCommand last;
  if (segment.records.empty() || !last.ParseFromString(segment.records.back().data) ||
      !last.has_signature()) {
    return absl::InvalidArgumentError("a segment must end on a signature transaction");
  }
  const v1::Checkpoint& cp = last.signature().checkpoint().checkpoint();
  ArchiveLatest l;
  l.segments = segments;
  l.last_index = segment.last_index;
  l.last_txid = ledger::TxId{segment.records.back().term, segment.last_index}.ToString();
  l.tree_size = cp.tree_size();
  l.root_hex = base::HexEncode(cp.root_hash());
  return l;
}

std::string EncodeArchiveSnapshotManifest(const ArchiveSnapshotManifest& m) {
  const ledger::SnapshotAttestation& a = m.attestation;
  Json j = {{"format", std::string(kArchiveFormat)},
            {"index", a.index},
            {"term", a.term},
            {"payload_sha256", base::HexEncode(a.payload_sha256)},
            {"payload_bytes", a.payload_bytes},
            {"parts", m.parts},
            {"part_bytes_max", m.part_bytes_max},
            {"region", a.region},
            {"timestamp_unix_ms", a.timestamp_unix_ms},
            {"signer_node_id", a.signer_node_id},
            {"node_certificate", a.node_certificate_pem},
            {"signature", base::HexEncode(a.signature)}};
  return j.dump(2) + "\n";
}

absl::StatusOr<ArchiveSnapshotManifest> DecodeArchiveSnapshotManifest(absl::string_view bytes,
                                                                      absl::string_view name) {
  absl::StatusOr<Json> j = ParseObject(bytes, name);
  if (!j.ok()) return j.status();
  ArchiveSnapshotManifest m;
  ledger::SnapshotAttestation& a = m.attestation;
  const Fields f(*j, name);
  uint64_t timestamp = 0;
  for (absl::Status s :
       {f.Number("index", &a.index), f.Number("term", &a.term),
        f.Hex("payload_sha256", &a.payload_sha256), f.Number("payload_bytes", &a.payload_bytes),
        f.Number("parts", &m.parts), f.Number("part_bytes_max", &m.part_bytes_max),
        f.Text("region", &a.region), f.Number("timestamp_unix_ms", &timestamp),
        f.Number("signer_node_id", &a.signer_node_id),
        f.Text("node_certificate", &a.node_certificate_pem), f.Hex("signature", &a.signature)}) {
    if (!s.ok()) return s;
  }
  a.timestamp_unix_ms = static_cast<int64_t>(timestamp);
  if (a.index == 0) return Malformed(name, "index is 0");
  if (a.payload_sha256.size() != 32) return Malformed(name, "payload_sha256 is not 32 bytes");
  // Every part but the last holds exactly part_bytes_max; the last 1 to
  // part_bytes_max bytes.
  if (m.part_bytes_max == 0 || m.parts == 0 || a.payload_bytes == 0 ||
      (a.payload_bytes + m.part_bytes_max - 1) / m.part_bytes_max != m.parts) {
    return Malformed(name, absl::StrCat(m.parts, " parts of at most ", m.part_bytes_max,
                                        " bytes cannot hold ", a.payload_bytes, " bytes"));
  }
  return m;
}

namespace {

// An object latest.json says is there: missing is DataLoss.
absl::StatusOr<std::string> GetNamed(ArchiveStore& store, const std::string& name) {
  absl::StatusOr<std::string> bytes = store.Get(name);
  if (absl::IsNotFound(bytes.status())) {
    return absl::DataLossError(absl::StrCat("archive ", store.url(), ": object ", name,
                                            " is missing, though ", kArchiveLatestName,
                                            " names it"));
  }
  return bytes;
}

// Checks the identity and reads latest.json.
absl::StatusOr<ArchiveLatest> OpenArchive(ArchiveStore& store,
                                          const ledger::Certificate& service_cert) {
  absl::StatusOr<std::string> identity = store.Get(kArchiveIdentityName);
  if (absl::IsNotFound(identity.status())) {
    return absl::NotFoundError(
        absl::StrCat("no archive at ", store.url(), " (it has no ", kArchiveIdentityName, ")"));
  }
  if (!identity.ok()) return identity.status();
  absl::StatusOr<std::string> pem = DecodeArchiveIdentity(*identity);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<ledger::Certificate> archived_cert = ledger::Certificate::FromPem(*pem);
  if (!archived_cert.ok()) {
    return Malformed(kArchiveIdentityName, archived_cert.status().message());
  }
  if (archived_cert->Fingerprint() != service_cert.Fingerprint()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the archive at ", store.url(), " belongs to service ", archived_cert->Fingerprint(),
        ", not to the given service certificate ", service_cert.Fingerprint()));
  }
  absl::StatusOr<std::string> latest_bytes = store.Get(kArchiveLatestName);
  if (absl::IsNotFound(latest_bytes.status())) {
    return absl::NotFoundError(absl::StrCat("the archive at ", store.url(), " has no ",
                                            kArchiveLatestName, ": nothing was archived yet"));
  }
  if (!latest_bytes.ok()) return latest_bytes.status();
  return DecodeArchiveLatest(*latest_bytes);
}

absl::StatusOr<ledger::Segment> ReadSegment(ArchiveStore& store, uint64_t seq) {
  const std::string name = ArchiveSegmentName(seq);
  absl::StatusOr<std::string> bytes = GetNamed(store, name);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<ledger::Segment> segment = ledger::DecodeSegment(*bytes);
  if (!segment.ok()) {
    return absl::DataLossError(
        absl::StrCat("archive ", store.url(), ": object ", name, ": ", segment.status().message()));
  }
  return segment;
}

// The snapshot latest.json names: its manifest, attestation checked.
absl::StatusOr<ArchiveSnapshotManifest> ReadSnapshotManifest(
    ArchiveStore& store, const ledger::Certificate& service_cert, const ArchiveLatest& latest) {
  const std::string name = ArchiveSnapshotManifestName(latest.snapshot_index);
  absl::StatusOr<std::string> bytes = GetNamed(store, name);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<ArchiveSnapshotManifest> m = DecodeArchiveSnapshotManifest(*bytes, name);
  if (!m.ok()) return m.status();
  if (m->attestation.index != latest.snapshot_index) {
    return absl::DataLossError(absl::StrCat("archive ", store.url(), ": object ", name,
                                            " is the snapshot at index ", m->attestation.index));
  }
  if (absl::Status s = ledger::VerifySnapshotAttestation(m->attestation, service_cert); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("archive ", store.url(), ": object ", name, ": ", s.message()));
  }
  return m;
}

// Reads the payload's parts in order, each checked (store digest, size),
// and then the payload's size and SHA-256 against the attestation.
absl::Status ReadSnapshotParts(
    ArchiveStore& store, const ArchiveSnapshotManifest& m,
    const std::function<absl::Status(uint64_t offset, absl::string_view part)>& take) {
  const ledger::SnapshotAttestation& a = m.attestation;
  ledger::Sha256Hasher sha;
  uint64_t offset = 0;
  for (uint64_t part = 1; part <= m.parts; ++part) {
    const std::string name = ArchiveSnapshotPartName(a.index, part);
    absl::StatusOr<std::string> bytes = GetNamed(store, name);
    if (!bytes.ok()) return bytes.status();
    const uint64_t expected =
        part < m.parts ? m.part_bytes_max : a.payload_bytes - (m.parts - 1) * m.part_bytes_max;
    if (bytes->size() != expected) {
      return absl::DataLossError(absl::StrCat("archive ", store.url(), ": object ", name, " has ",
                                              bytes->size(), " bytes, the manifest says ",
                                              expected));
    }
    sha.Update(*bytes);
    if (take) {
      if (absl::Status s = take(offset, *bytes); !s.ok()) return s;
    }
    offset += bytes->size();
  }
  const ledger::Hash digest = sha.Finish();
  if (std::string(digest.begin(), digest.end()) != a.payload_sha256) {
    return absl::DataLossError(
        absl::StrCat("archive ", store.url(), ": the snapshot at index ", a.index, " (",
                     ArchiveSnapshotPartName(a.index, 1),
                     " ...) does not have the SHA-256 its manifest attests"));
  }
  return absl::OkStatus();
}

// The archive ends exactly where latest.json says: on the checkpoint of the
// signature transaction `last` (the final record replayed).
absl::Status CheckEndsOnLatest(ArchiveStore& store, const ArchiveLatest& latest,
                               const ledger::SegmentRecord& last) {
  ledger::Segment tail;
  tail.records.push_back(last);
  tail.first_index = tail.last_index = last.index;
  absl::StatusOr<ArchiveLatest> ends_on = LatestAfter(tail, latest.segments);
  if (!ends_on.ok()) return ends_on.status();
  if (ends_on->last_index != latest.last_index || ends_on->last_txid != latest.last_txid ||
      ends_on->tree_size != latest.tree_size || ends_on->root_hex != latest.root_hex) {
    return absl::DataLossError(absl::StrCat(
        "archive ", store.url(), ": ", kArchiveLatestName, " names checkpoint ", latest.tree_size,
        "/", latest.root_hex, " at ", latest.last_txid, ", but the archive ends on ",
        ends_on->tree_size, "/", ends_on->root_hex, " at ", ends_on->last_txid));
  }
  return absl::OkStatus();
}

uint64_t CountBeyondLatest(ArchiveStore& store, const ArchiveLatest& latest) {
  uint64_t n = 0;
  for (uint64_t seq = latest.segments + 1;; ++seq) {
    if (!store.Stat(ArchiveSegmentName(seq)).ok()) return n;
    ++n;
  }
}

absl::Status SnapshotMismatch(ArchiveStore& store, const ArchiveLatest& latest,
                              absl::string_view what) {
  return absl::DataLossError(absl::StrCat("archive ", store.url(), ": the snapshot at index ",
                                          latest.snapshot_index, " ", what));
}

}  // namespace

absl::StatusOr<ArchiveVerifyReport> VerifyArchive(ArchiveStore& store,
                                                  const ledger::Certificate& service_cert,
                                                  const ArchiveSegmentVisitor& visit,
                                                  bool check_snapshot) {
  absl::StatusOr<ArchiveLatest> latest = OpenArchive(store, service_cert);
  if (!latest.ok()) return latest.status();
  ArchiveVerifyReport report;
  report.latest = *latest;
  ledger::SegmentAuditor auditor(service_cert);
  ledger::SegmentRecord last;
  uint64_t snapshot_term = 0;      // term of the entry at the snapshot's index
  uint64_t snapshot_next_seq = 0;  // the segment holding the entry after it
  for (uint64_t seq = 1; seq <= latest->segments; ++seq) {
    absl::StatusOr<ledger::Segment> segment = ReadSegment(store, seq);
    if (!segment.ok()) return segment.status();
    const std::string name = absl::StrCat("archive object ", ArchiveSegmentName(seq));
    if (absl::Status s = auditor.Replay(name, *segment); !s.ok()) return s;
    if (visit) {
      if (absl::Status s = visit(seq, latest->segments, *segment); !s.ok()) return s;
    }
    const uint64_t at = latest->snapshot_index;
    if (at >= segment->first_index && at <= segment->last_index) {
      snapshot_term = segment->records[at - segment->first_index].term;
    }
    if (at + 1 >= segment->first_index && at + 1 <= segment->last_index) snapshot_next_seq = seq;
    last = std::move(segment->records.back());
  }
  report.audit = auditor.report();
  if (absl::Status s = CheckEndsOnLatest(store, *latest, last); !s.ok()) return s;
  if (latest->snapshot_index != 0 && check_snapshot) {
    absl::StatusOr<ArchiveSnapshotManifest> m = ReadSnapshotManifest(store, service_cert, *latest);
    if (!m.ok()) return m.status();
    if (m->attestation.term != snapshot_term) {
      return SnapshotMismatch(
          store, *latest,
          absl::StrCat("is attested in term ", m->attestation.term,
                       ", but the archived entry there is of term ", snapshot_term));
    }
    if (snapshot_next_seq == 0) snapshot_next_seq = latest->segments + 1;
    if (latest->snapshot_next_segment != snapshot_next_seq) {
      return SnapshotMismatch(
          store, *latest,
          absl::StrCat("is followed by segment ", snapshot_next_seq, ", not by ",
                       latest->snapshot_next_segment, " as ", kArchiveLatestName, " says"));
    }
    if (absl::Status s = ReadSnapshotParts(store, *m, nullptr); !s.ok()) return s;
    report.snapshot_index = latest->snapshot_index;
    report.snapshot_bytes = m->attestation.payload_bytes;
  }
  report.segments_beyond_latest = CountBeyondLatest(store, *latest);
  return report;
}

absl::StatusOr<ArchiveVerifyReport> RestoreArchive(ArchiveStore& store,
                                                   const ledger::Certificate& service_cert,
                                                   const ArchiveSnapshotRestorer& restorer,
                                                   const ArchiveSegmentVisitor& visit) {
  absl::StatusOr<ArchiveLatest> latest = OpenArchive(store, service_cert);
  if (!latest.ok()) return latest.status();
  if (latest->snapshot_index == 0) return VerifyArchive(store, service_cert, visit);
  absl::StatusOr<ArchiveSnapshotManifest> m = ReadSnapshotManifest(store, service_cert, *latest);
  if (!m.ok()) return m.status();
  if (absl::Status s = ReadSnapshotParts(store, *m, restorer.append); !s.ok()) return s;
  if (absl::Status s = restorer.install(*m); !s.ok()) return s;

  ArchiveVerifyReport report;
  report.latest = *latest;
  report.snapshot_index = latest->snapshot_index;
  report.snapshot_bytes = m->attestation.payload_bytes;
  report.restored_from_snapshot = true;
  ledger::SegmentAuditor auditor(service_cert);
  const uint64_t at = latest->snapshot_index;
  ledger::SegmentRecord last;
  constexpr uint64_t kBatch = 4096;
  for (uint64_t first = 1; first <= at; first += kBatch) {
    absl::StatusOr<std::vector<ledger::SegmentRecord>> records =
        restorer.read_entries(first, std::min(at, first + kBatch - 1));
    if (!records.ok()) return records.status();
    if (records->empty()) return SnapshotMismatch(store, *latest, "holds fewer entries");
    const std::string name =
        absl::StrCat("the snapshot ", ArchiveSnapshotManifestName(at), " restored");
    if (absl::Status s = auditor.ReplayRecords(name, *records); !s.ok()) return s;
    last = records->back();
  }
  if (last.index != at || last.term != m->attestation.term) {
    return SnapshotMismatch(store, *latest,
                            absl::StrCat("ends on entry ", last.term, ".", last.index,
                                         ", not on the attested ", m->attestation.term, ".", at));
  }
  for (uint64_t seq = latest->snapshot_next_segment; seq <= latest->segments; ++seq) {
    absl::StatusOr<ledger::Segment> segment = ReadSegment(store, seq);
    if (!segment.ok()) return segment.status();
    const std::string name = absl::StrCat("archive object ", ArchiveSegmentName(seq));
    if (seq == latest->snapshot_next_segment) {
      if (segment->first_index > at + 1 || segment->last_index <= at) {
        return SnapshotMismatch(
            store, *latest,
            absl::StrCat("is not followed by ", name, " (entries ", segment->first_index, " to ",
                         segment->last_index, ")"));
      }
      segment->records.erase(segment->records.begin(),
                             segment->records.begin() + (at + 1 - segment->first_index));
      segment->first_index = at + 1;
    }
    if (absl::Status s = auditor.Replay(name, *segment); !s.ok()) return s;
    if (visit) {
      if (absl::Status s = visit(seq, latest->segments, *segment); !s.ok()) return s;
    }
    last = std::move(segment->records.back());
  }
  report.audit = auditor.report();
  if (absl::Status s = CheckEndsOnLatest(store, *latest, last); !s.ok()) return s;
  report.segments_beyond_latest = CountBeyondLatest(store, *latest);
  return report;
}

}  // namespace cairn::storage
