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
//   snapshots/<index>.json  a state snapshot's manifest (index as 20
//                           digits): its payload's size and SHA-256 and the
//                           geo-replica's signed attestation of them
//   snapshots/<index>/<part>.part
//                           the payload (storage/snapshot.h) in parts of at
//                           most part_bytes_max, part = 1, 2, ... as 6 digits
//   latest.json             the one mutable object, written last: how many
//                           segments the archive holds and the signed
//                           checkpoint the last one ends on, and the newest
//                           snapshot whose entries the segments reach. The
//                           archive is never ahead of it: segments or
//                           snapshots past it are an interrupted upload and
//                           are not trusted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/audit.h"
#include "cairn/ledger/cosignature.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/segment.h"
#include "cairn/storage/archive_store.h"

namespace cairn::storage {

inline constexpr absl::string_view kArchiveFormat = "cairn-archive-v1";
inline constexpr absl::string_view kArchiveIdentityName = "archive.json";
inline constexpr absl::string_view kArchiveLatestName = "latest.json";

// "segments/00000000000000000007.cseg"
std::string ArchiveSegmentName(uint64_t seq);
// "snapshots/00000000000000004711.json"
std::string ArchiveSnapshotManifestName(uint64_t index);
// "snapshots/00000000000000004711/000001.part"
std::string ArchiveSnapshotPartName(uint64_t index, uint64_t part);

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
  // The newest snapshot (0: none; the field is then left out), and the
  // first segment holding an entry after it (segments + 1 when none does
  // yet). snapshot_index <= last_index.
  uint64_t snapshot_index = 0;
  uint64_t snapshot_next_segment = 0;
};
std::string EncodeArchiveLatest(const ArchiveLatest& latest);
// DataLoss naming the field when malformed.
absl::StatusOr<ArchiveLatest> DecodeArchiveLatest(absl::string_view bytes);

// What ArchiveLatest says about a segment ending on a signature: its last
// index and txid, and the checkpoint it carries. InvalidArgument if the
// segment is empty or does not end on a signature transaction.
absl::StatusOr<ArchiveLatest> LatestAfter(const ledger::Segment& segment, uint64_t segments);

// snapshots/<index>.json: the attestation's fields, and how the payload is
// cut into parts.
struct ArchiveSnapshotManifest {
  ledger::SnapshotAttestation attestation;
  uint64_t parts = 0;
  uint64_t part_bytes_max = 0;
};
std::string EncodeArchiveSnapshotManifest(const ArchiveSnapshotManifest& manifest);
// DataLoss naming the field when malformed, or when the parts cannot hold
// payload_bytes exactly.
absl::StatusOr<ArchiveSnapshotManifest> DecodeArchiveSnapshotManifest(absl::string_view bytes,
                                                                      absl::string_view name);

struct ArchiveVerifyReport {
  ledger::AuditReport audit;
  ArchiveLatest latest;
  // Objects found past latest.json (an interrupted upload): not verified,
  // not recoverable.
  uint64_t segments_beyond_latest = 0;
  // The snapshot latest.json names, checked (0: none). A recovery that
  // restored it replayed no segment before snapshot_next_segment.
  uint64_t snapshot_index = 0;
  uint64_t snapshot_bytes = 0;
  bool restored_from_snapshot = false;
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
//
// When latest.json names a snapshot, VerifyArchive also checks it: the
// manifest's attestation (a node certificate of the service signed it),
// every part (digest, size), the payload's SHA-256 and size, that its
// term is the term of the entry at its index in the replayed history, and
// that snapshot_next_segment is the segment holding the entry after it
// (unless `check_snapshot` is false: a recovery that trusts no snapshot).
absl::StatusOr<ArchiveVerifyReport> VerifyArchive(ArchiveStore& store,
                                                  const ledger::Certificate& service_cert,
                                                  const ArchiveSegmentVisitor& visit = nullptr,
                                                  bool check_snapshot = true);

// What a recovery gives RestoreArchive to restore a snapshot.
struct ArchiveSnapshotRestorer {
  // Takes the payload's parts in order (offset = bytes before this part).
  std::function<absl::Status(uint64_t offset, absl::string_view part)> append;
  // Every part is in and the payload's digest and size match the attested
  // ones: install it (the sink checks the digest again).
  std::function<absl::Status(const ArchiveSnapshotManifest& manifest)> install;
  // The installed state's entries first..last (at most that many), in
  // order, as segment records.
  std::function<absl::StatusOr<std::vector<ledger::SegmentRecord>>(uint64_t first, uint64_t last)>
      read_entries;
};

// Recovery's read of the archive: VerifyArchive's checks, but when
// latest.json names a snapshot, restores it through `restorer` instead of
// replaying the segments before it, then audits the restored entries from
// genesis (every signature in them checked, the tree rebuilt) and goes on
// with the segments after the snapshot, which `visit` gets trimmed to the
// entries after it. The restored entries are thereby bound to the signed
// checkpoints exactly as replayed ones; the rest of the restored state to
// the attestation. Without a snapshot, the same as VerifyArchive.
absl::StatusOr<ArchiveVerifyReport> RestoreArchive(ArchiveStore& store,
                                                   const ledger::Certificate& service_cert,
                                                   const ArchiveSnapshotRestorer& restorer,
                                                   const ArchiveSegmentVisitor& visit);

}  // namespace cairn::storage
