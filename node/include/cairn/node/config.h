// cairn-node configuration: every setting, its default and its unit.
//
// Settings come from a YAML file (--config) and from command-line flags; a
// flag given on the command line overrides the file. Each YAML key is the
// flag's long name with '-' replaced by '_' (e.g. --data-dir / data_dir).
// Unknown flags or keys, malformed YAML and out-of-range values are usage
// errors: ParseNodeCommandLine prints a message naming the field and the
// program exits with code 2.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "cairn/storage/archive_store.h"

namespace cairn::node {

struct NodeConfig {
  // --- identity and addresses ---
  uint64_t node_id = 1;
  std::string data_dir = "./cairn-data";
  std::string client_address = "127.0.0.1:7100";  // LedgerService + AdminService
  std::string peer_address = "127.0.0.1:7200";    // RaftService only
  std::string http_address = "127.0.0.1:7300";    // /metrics, /healthz, /readyz; "" disables
  // The REST API (Azure Confidential Ledger paths, HTTPS with mutual TLS, the
  // client port's certificates and roles); "" (the default) disables it.
  std::string rest_address;

  // --- TLS (mutual, on both ports) ---
  std::string tls_cert_file;      // this node's certificate (PEM), issued by the service identity
  std::string tls_key_file;       // its private key (PEM)
  std::string service_cert_file;  // the service identity certificate (PEM): trust root

  // --- cluster ---
  // The initial voting members of a new service, "ID@PEER_ADDRESS/CLIENT_ADDRESS"
  // each (like etcd's --initial-cluster). Used when the data directory is new
  // and --join is not set; also tells a node where its peers are.
  std::vector<std::string> initial_cluster;
  // Start as a new member of an existing service (added with AdminService
  // AddLearner first): wait for the leader to send the ledger.
  bool join = false;
  // "ID=HOST:PORT": this node reaches peer ID there instead of at the peer
  // address the membership names (a NAT, a proxy; the robustness suite's
  // fault-injecting proxies). Every other node is unaffected.
  std::vector<std::string> peer_routes;
  // Certificate (PEM) of the first Administrator of a new service.
  std::string initial_admin_cert_file;
  // "public" or "private" (user entries' contents sealed; docs/formats.md,
  // "Private entries v1"): the type of a new service, fixed at creation. Empty
  // takes the ledger's type, public for a new service; on a node of an
  // existing ledger a type other than the ledger's refuses to start.
  std::string ledger_type;
  // A new private ledger's recovery operators (certificates, PEM, P-256
  // keys): each is given one share of the ledger's recovery key, and
  // `recovery_threshold` of them recover the ledger's contents from its
  // archive (docs/operations.md, "Private ledgers"). 0: a majority of them.
  std::vector<std::string> recovery_operator_cert_files;
  uint32_t recovery_threshold = 0;

  // --- Raft timing ---
  uint64_t tick_ms = 100;        // one logical clock tick
  uint64_t election_ticks = 10;  // election timeout: [1x, 2x) this many ticks
  uint64_t heartbeat_ticks = 1;  // leader heartbeat interval

  // --- signatures and receipts ---
  // The leader appends a signature transaction once this many entries are
  // unsigned, or once the oldest unsigned entry is this old, whichever first.
  uint64_t signature_interval_txs = 1000;
  uint64_t signature_interval_ms = 100;

  // --- snapshots and compaction ---
  // Compact the log once this many applied entries are in it, keeping the
  // last snapshot_retain_entries for followers that lag a little.
  uint64_t snapshot_interval_entries = 100000;
  uint64_t snapshot_retain_entries = 5000;
  uint64_t snapshot_chunk_bytes_max = 1 << 20;

  // --- ledger segments (export and audit) ---
  // Where committed history is written as immutable segment files; empty
  // means "<data_dir>/segments".
  std::string segments_dir;
  // A segment ends on the last signature within both bounds (or on the
  // first signature, when even that one lies beyond them).
  uint64_t segment_entries_target = 10000;
  uint64_t segment_bytes_target = 64 << 20;
  // A segment that is not full yet is written anyway once its oldest entry
  // has waited this long, so exported history lags by at most this much.
  uint64_t segment_max_age_s = 60;

  // --- region and the geo-replica (disaster recovery) ---
  // The region this node runs in (shown by `cairnctl dr status`, recorded
  // in the archive a geo-replica writes).
  std::string region = "local";
  // "member" (a voter or learner of the service) or "geo-replica": a
  // learner in the paired region that mirrors the ledger to --archive-url.
  std::string role = "member";
  // Where a geo-replica archives: file:///PATH or s3://BUCKET[/PREFIX]
  // (storage/archive_store.h); required for, and only for, a geo-replica.
  std::string archive_url;
  // Region the archive store is in, for the residency policy; empty: the
  // geo-replica's own --region.
  std::string archive_region;
  // A geo-replica cuts a segment once its oldest entry waited this long, so
  // the archive lags the ledger by about this much plus one upload.
  uint64_t archive_max_lag_ms = 500;
  // A geo-replica archives a state snapshot every this many entries (0:
  // never), in objects of at most archive_snapshot_part_bytes; recovery
  // restores the newest and replays only the segments after it.
  uint64_t archive_snapshot_entries = 1000000;
  uint64_t archive_snapshot_part_bytes = uint64_t{64} << 20;
  // s3:// settings: endpoint, region, path-style addressing, CA file, AWS
  // credentials file and profile (--archive-s3-*, --archive-credentials-file,
  // --archive-profile).
  storage::S3StoreOptions archive_store;

  // Merkle nodes (subtrees of 256 leaves or more) kept in memory for proofs,
  // at most; about 100 bytes each (the default: about 26 MiB, every such
  // node of a 33M-entry ledger, the upper levels of any larger one). Lower
  // levels come from one stored Merkle tile per proof.
  uint64_t proof_cache_nodes_max = 1 << 18;

  // --- limits ---
  uint64_t entry_bytes_max = 1 << 20;      // contents of one Append
  uint64_t collection_id_bytes_max = 256;  // UTF-8 bytes of a collection id
  uint64_t idempotency_key_bytes_max = 128;
  uint64_t append_batch_entries_max = 1000;             // entries of one AppendBatch
  uint64_t append_batch_bytes_max = uint64_t{4} << 20;  // serialized AppendBatch request
  uint64_t page_size_max = 1000;                        // entries or collections per list page
  uint64_t uncommitted_bytes_max = 64 << 20;            // leader backpressure beyond this
  uint64_t waiting_requests_max = 100000;               // requests parked waiting for an index
  uint64_t inbox_ops_max = 65536;                       // requests queued for the Raft loop
  uint64_t idempotency_window_s = 24 * 3600;            // how long a retried append is recognized

  // --- logging ---
  std::string log_level = "info";   // trace, debug, info, warn, error
  std::string log_format = "json";  // json or text

  // TEST ONLY, hidden from --help: "stale-idempotency-join" puts back the
  // lost-acknowledged-write bug (see RaftLoopOptions) so the robustness suite
  // can show it catches it. Empty in any real service.
  std::string test_inject_bug;
};

// Parses argv (and the YAML file named by --config). Returns -1 when the node
// should start with *config filled in; otherwise the process exit code (0
// after --help or --version, 2 on a usage or config error), having written
// the help text to `out` or the error to `err`.
int ParseNodeCommandLine(int argc, const char* const* argv, NodeConfig* config, std::ostream& out,
                         std::ostream& err);

}  // namespace cairn::node
