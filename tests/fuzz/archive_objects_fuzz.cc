// Fuzz target: the archive's JSON objects (storage/archive_layout.h), read by
// dr verify, recovery and a restarting geo-replica from a store anyone with
// write access could have changed. Whatever the bytes, decoding ends in a
// value or a DataLoss naming the object; a decoded latest.json or snapshot
// manifest re-encodes to something that decodes to the same value.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cairn/base/check.h"
#include "cairn/storage/archive_layout.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> identity = cairn::storage::DecodeArchiveIdentity(bytes);
  if (!identity.ok()) {
    CAIRN_CHECK(identity.status().code() == absl::StatusCode::kDataLoss) << identity.status();
  }
  absl::StatusOr<cairn::storage::ArchiveSnapshotManifest> manifest =
      cairn::storage::DecodeArchiveSnapshotManifest(bytes, "snapshots/1.json");
  if (!manifest.ok()) {
    CAIRN_CHECK(manifest.status().code() == absl::StatusCode::kDataLoss) << manifest.status();
  } else {
    const std::string encoded = cairn::storage::EncodeArchiveSnapshotManifest(*manifest);
    absl::StatusOr<cairn::storage::ArchiveSnapshotManifest> m2 =
        cairn::storage::DecodeArchiveSnapshotManifest(encoded, "snapshots/1.json");
    CAIRN_CHECK(m2.ok()) << m2.status();
    CAIRN_CHECK(cairn::storage::EncodeArchiveSnapshotManifest(*m2) == encoded)
        << "a snapshot manifest does not survive a round trip";
    CAIRN_CHECK(m2->parts * m2->part_bytes_max >= m2->attestation.payload_bytes);
  }
  absl::StatusOr<cairn::storage::ArchiveLatest> latest = cairn::storage::DecodeArchiveLatest(bytes);
  if (!latest.ok()) {
    CAIRN_CHECK(latest.status().code() == absl::StatusCode::kDataLoss) << latest.status();
    CAIRN_CHECK(!latest.status().message().empty());
    return 0;
  }
  absl::StatusOr<cairn::storage::ArchiveLatest> again =
      cairn::storage::DecodeArchiveLatest(cairn::storage::EncodeArchiveLatest(*latest));
  CAIRN_CHECK(again.ok()) << again.status();
  CAIRN_CHECK(again->segments == latest->segments && again->last_index == latest->last_index &&
              again->last_txid == latest->last_txid && again->tree_size == latest->tree_size &&
              again->root_hex == latest->root_hex && again->region == latest->region &&
              again->written_unix_ms == latest->written_unix_ms &&
              again->snapshot_index == latest->snapshot_index &&
              again->snapshot_next_segment == latest->snapshot_next_segment)
      << "latest.json does not survive a round trip";
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  storage::ArchiveLatest l;
  l.segments = 7;
  l.last_index = 1042;
  l.last_txid = "3.1042";
  l.tree_size = 1041;
  l.root_hex = std::string(64, 'a');
  l.region = "paired";
  l.written_unix_ms = 1700000000999;
  storage::ArchiveLatest with_snapshot = l;
  with_snapshot.snapshot_index = 1000;
  with_snapshot.snapshot_next_segment = 7;
  storage::ArchiveSnapshotManifest m;
  m.attestation.index = 1000;
  m.attestation.term = 3;
  m.attestation.payload_sha256 = std::string(32, '\x11');
  m.attestation.payload_bytes = 10000;
  m.attestation.region = "paired";
  m.attestation.timestamp_unix_ms = 1700000000999;
  m.attestation.signer_node_id = 4;
  m.attestation.node_certificate_pem = "-----BEGIN CERTIFICATE-----\nMII\n";
  m.attestation.signature = "0E";
  m.parts = 3;
  m.part_bytes_max = 4096;
  return {
      {"latest.json", storage::EncodeArchiveLatest(l)},
      {"latest-with-snapshot.json", storage::EncodeArchiveLatest(with_snapshot)},
      {"snapshot-manifest.json", storage::EncodeArchiveSnapshotManifest(m)},
      {"archive.json", storage::EncodeArchiveIdentity("-----BEGIN CERTIFICATE-----\nMII\n")},
      {"other-format.json", "{\"format\": \"cairn-archive-v2\", \"segments\": 1}"},
      {"negative.json",
       "{\"format\":\"cairn-archive-v1\",\"segments\":-1,\"last_index\":1,\"last_txid\":\"1.1\","
       "\"tree_size\":0,\"root\":\"\",\"region\":\"r\",\"written_unix_ms\":0}"},
  };
}

}  // namespace cairn::fuzz
