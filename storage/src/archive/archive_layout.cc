// Archive layout v1 (see archive_layout.h).
#include "cairn/storage/archive_layout.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cairn/base/hex.h"
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

}  // namespace

std::string ArchiveSegmentName(uint64_t seq) {
  return absl::StrFormat("segments/%020d%s", seq, ledger::kSegmentFileSuffix);
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
  return j.dump(2) + "\n";
}

absl::StatusOr<ArchiveLatest> DecodeArchiveLatest(absl::string_view bytes) {
  absl::StatusOr<Json> j = ParseObject(bytes, kArchiveLatestName);
  if (!j.ok()) return j.status();
  ArchiveLatest l;
  auto number = [&](const char* key, uint64_t* out) -> absl::Status {
    if (!j->contains(key) || !(*j)[key].is_number_unsigned()) {
      return Malformed(kArchiveLatestName, absl::StrCat(key, " is not an unsigned number"));
    }
    *out = (*j)[key].get<uint64_t>();
    return absl::OkStatus();
  };
  auto text = [&](const char* key, std::string* out) -> absl::Status {
    if (!j->contains(key) || !(*j)[key].is_string()) {
      return Malformed(kArchiveLatestName, absl::StrCat(key, " is not a string"));
    }
    *out = (*j)[key].get<std::string>();
    return absl::OkStatus();
  };
  uint64_t written = 0;
  for (absl::Status s : {number("segments", &l.segments), number("last_index", &l.last_index),
                         number("tree_size", &l.tree_size), text("last_txid", &l.last_txid),
                         text("root", &l.root_hex), text("region", &l.region),
                         number("written_unix_ms", &written)}) {
    if (!s.ok()) return s;
  }
  l.written_unix_ms = static_cast<int64_t>(written);
  if (l.segments == 0) return Malformed(kArchiveLatestName, "it names no segment");
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

absl::StatusOr<ArchiveVerifyReport> VerifyArchive(ArchiveStore& store,
                                                  const ledger::Certificate& service_cert,
                                                  const ArchiveSegmentVisitor& visit) {
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
  absl::StatusOr<ArchiveLatest> latest = DecodeArchiveLatest(*latest_bytes);
  if (!latest.ok()) return latest.status();

  ArchiveVerifyReport report;
  report.latest = *latest;
  ledger::SegmentAuditor auditor(service_cert);
  ledger::Segment last;
  for (uint64_t seq = 1; seq <= latest->segments; ++seq) {
    const std::string name = ArchiveSegmentName(seq);
    absl::StatusOr<std::string> bytes = store.Get(name);
    if (absl::IsNotFound(bytes.status())) {
      return absl::DataLossError(absl::StrCat("archive ", store.url(), ": object ", name,
                                              " is missing, though ", kArchiveLatestName, " names ",
                                              latest->segments, " segments"));
    }
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<ledger::Segment> segment = ledger::DecodeSegment(*bytes);
    if (!segment.ok()) {
      return absl::DataLossError(absl::StrCat("archive ", store.url(), ": object ", name, ": ",
                                              segment.status().message()));
    }
    if (absl::Status s = auditor.Replay(absl::StrCat("archive object ", name), *segment); !s.ok()) {
      return s;
    }
    if (visit) {
      if (absl::Status s = visit(seq, latest->segments, *segment); !s.ok()) return s;
    }
    if (seq == latest->segments) last = *std::move(segment);
  }
  report.audit = auditor.report();
  absl::StatusOr<ArchiveLatest> ends_on = LatestAfter(last, latest->segments);
  if (!ends_on.ok()) return ends_on.status();
  if (ends_on->last_index != latest->last_index || ends_on->last_txid != latest->last_txid ||
      ends_on->tree_size != latest->tree_size || ends_on->root_hex != latest->root_hex) {
    return absl::DataLossError(absl::StrCat(
        "archive ", store.url(), ": ", kArchiveLatestName, " names checkpoint ", latest->tree_size,
        "/", latest->root_hex, " at ", latest->last_txid, ", but its last segment ends on ",
        ends_on->tree_size, "/", ends_on->root_hex, " at ", ends_on->last_txid));
  }
  for (uint64_t seq = latest->segments + 1;; ++seq) {
    absl::StatusOr<ArchiveObjectInfo> beyond = store.Stat(ArchiveSegmentName(seq));
    if (!beyond.ok()) break;
    ++report.segments_beyond_latest;
  }
  return report;
}

}  // namespace cairn::storage
