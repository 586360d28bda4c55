// Archive layout v1: what a geo-replica writes into an archive store and
// what `cairnctl dr verify` and recovery read back (docs/formats.md,
// "Archive v1"). Every name is fixed or computed, so nothing needs a LIST:
//
//   archive.json            identity, written once: the service certificate
//                           (an archive of another service is refused)
//   segments/<seq>.cseg     ledger segments (ledger/segment.h), seq = 1, 2,
//                           ... as 20 digits; segment k+1 starts at the log
//                           index after segment k's last; each ends on a
//                           signature transaction
//   latest.json             the one mutable object, written last: how many
//                           segments the archive holds and the signed
//                           checkpoint the last one ends on. The archive is
//                           never ahead of it: segments past it are an
//                           interrupted upload and are not trusted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/audit.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/segment.h"
#include "cairn/storage/archive_store.h"

namespace cairn::storage {

inline constexpr absl::string_view kArchiveFormat = "cairn-archive-v1";
inline constexpr absl::string_view kArchiveIdentityName = "archive.json";
inline constexpr absl::string_view kArchiveLatestName = "latest.json";

// "segments/00000000000000000007.cseg"
std::string ArchiveSegmentName(uint64_t seq);

// The identity object's bytes for `service_cert_pem` (deterministic, so a
// second writer of the same service Puts the same bytes).
std::string EncodeArchiveIdentity(absl::string_view service_cert_pem);
// The service certificate PEM in an identity object. DataLoss if malformed.
absl::StatusOr<std::string> DecodeArchiveIdentity(absl::string_view bytes);

// latest.json.
struct ArchiveLatest {
  uint64_t segments = 0;    // segments/1 .. segments/<segments> are archived
  uint64_t last_index = 0;  // log index of the last archived entry (a signature)
  std::string last_txid;    // its txid
  uint64_t tree_size = 0;   // the checkpoint that signature carries
  std::string root_hex;     // its root, lowercase hex
  std::string region;       // the geo-replica's region
  int64_t written_unix_ms = 0;
};
std::string EncodeArchiveLatest(const ArchiveLatest& latest);
// DataLoss naming the field when malformed.
absl::StatusOr<ArchiveLatest> DecodeArchiveLatest(absl::string_view bytes);

// What ArchiveLatest says about a segment ending on a signature: its last
// index and txid, and the checkpoint it carries. InvalidArgument if the
// segment is empty or does not end on a signature transaction.
absl::StatusOr<ArchiveLatest> LatestAfter(const ledger::Segment& segment, uint64_t segments);

struct ArchiveVerifyReport {
  ledger::AuditReport audit;
  ArchiveLatest latest;
  // Objects found past latest.json (an interrupted upload): not verified,
  // not recoverable.
  uint64_t segments_beyond_latest = 0;
};

// Verifies a whole archive offline, with read access only: the identity
// names `service_cert`; every segment 1..latest.segments is read (its
// digest checked by the store), decoded and replayed from genesis with
// ledger::SegmentAuditor (contiguous ranges, every signature transaction,
// the root recomputed from the leaves); the last segment ends on exactly
// the checkpoint latest.json names. `visit`, when given, is called with each
// segment once it passed the audit, in order (recovery applies it there);
// an error it returns stops the verification and is returned. The first
// failure is returned naming the object: DataLoss
// (damaged, truncated or missing object, a gap), FailedPrecondition (another
// service's archive, history that does not match what was signed),
// NotFound (no archive at all).
using ArchiveSegmentVisitor =
    std::function<absl::Status(uint64_t seq, uint64_t of, const ledger::Segment& segment)>;
absl::StatusOr<ArchiveVerifyReport> VerifyArchive(ArchiveStore& store,
                                                  const ledger::Certificate& service_cert,
                                                  const ArchiveSegmentVisitor& visit = nullptr);

}  // namespace cairn::storage
