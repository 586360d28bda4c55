// Archive cosignatures (docs/formats.md, "Archive cosignature v1"): a
// geo-replica's signed statement that the paired region's archive holds the
// ledger up to a checkpoint the leader signed. Like a C2SP tlog-mirror
// cosignature: the mirror verifies, persists, and only then signs. Anyone
// with the service certificate checks one offline.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/identity.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::ledger {

// The bytes a cosignature signs: "cairn-archive-cosignature-v1\n", then the
// canonical checkpoint encoding, signature_txid and region, each after its
// length as 4 bytes big-endian, then timestamp_unix_ms as 8 bytes
// big-endian. InvalidArgument if the checkpoint is malformed.
absl::StatusOr<std::string> CosignatureStatement(const v1::ArchiveCosignature& cosignature);

// Fills in signer, certificate and signature of `cosignature` (checkpoint,
// signature_txid, region and timestamp already set) with the node's key.
absl::Status Cosign(v1::ArchiveCosignature* cosignature, uint64_t node_id,
                    const PrivateKey& node_key, absl::string_view node_cert_pem);

// Checks, in order: the node certificate is issued by `service_cert` and
// valid at the cosignature's timestamp, and is the node certificate of
// signer_node_id; the checkpoint names this service; the signature verifies.
// InvalidArgument naming the failed check.
absl::Status VerifyCosignature(const v1::ArchiveCosignature& cosignature,
                               const Certificate& service_cert);

// A geo-replica's signed statement that an archived state snapshot is the
// payload it took of its own state at log index `index` (docs/formats.md,
// "Archive snapshot v1"). The entries in a snapshot are checked against the
// signed checkpoints when it is restored; this binds the rest of the state
// (users, members, indexes) to a node of the service.
struct SnapshotAttestation {
  uint64_t index = 0;            // the snapshot's applied index
  uint64_t term = 0;             // the term of that entry
  std::string payload_sha256{};  // 32 raw bytes
  uint64_t payload_bytes = 0;
  std::string region{};  // the geo-replica's region
  int64_t timestamp_unix_ms = 0;
  uint64_t signer_node_id = 0;
  std::string node_certificate_pem{};
  std::string signature{};  // DER ECDSA P-256 / SHA-256 over SnapshotStatement
};

// "cairn-archive-snapshot-v1\n", then index, term, payload_bytes as 8 bytes
// big-endian each, payload_sha256 and region each after its length as 4
// bytes big-endian, then timestamp_unix_ms as 8 bytes big-endian.
std::string SnapshotStatement(const SnapshotAttestation& attestation);

// Fills in signer, certificate and signature (the other fields set).
absl::Status SignSnapshot(SnapshotAttestation* attestation, uint64_t node_id,
                          const PrivateKey& node_key, absl::string_view node_cert_pem);

// The checks of VerifyCosignature, for a snapshot attestation (the digest
// must be 32 bytes). InvalidArgument naming the failed check.
absl::Status VerifySnapshotAttestation(const SnapshotAttestation& attestation,
                                       const Certificate& service_cert);

}  // namespace cairn::ledger
