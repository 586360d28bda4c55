// Command line and YAML config for cairn-node (see config.h).
#include "cairn/node/config.h"

#include <CLI/CLI.hpp>
#include <ostream>

#include "cairn/base/yaml_config.h"
#include "cairn/ledger/encoding.h"
#include "setup/archive_flags.h"

namespace cairn::node {
namespace {

// host:port with a numeric port in 1..65535.
const CLI::Validator kHostPort(
    [](std::string& value) -> std::string {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0)
        return "expected host:port, got '" + value + "'";
      const std::string port = value.substr(colon + 1);
      if (port.empty() || port.size() > 5 ||
          port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
          std::stoi(port) > 65535) {
        return "port must be a number from 1 to 65535 in '" + value + "'";
      }
      return "";
    },
    "HOST:PORT");

const CLI::Validator kHostPortOrEmpty(
    [](std::string& value) -> std::string {
      if (value.empty()) return "";
      std::string copy = value;
      return kHostPort(copy);
    },
    "HOST:PORT or empty");

// ID=HOST:PORT
// A region name (ledger::ValidateRegion).
const CLI::Validator kRegion(
    [](std::string& value) -> std::string {
      const absl::Status s = ledger::ValidateRegion(value, "a region");
      return s.ok() ? "" : std::string(s.message());
    },
    "REGION");

const CLI::Validator kPeerRoute(
    [](std::string& value) -> std::string {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0 ||
          value.substr(0, eq).find_first_not_of("0123456789") != std::string::npos ||
          value[0] == '0') {
        return "expected ID=HOST:PORT with a positive node id, got '" + value + "'";
      }
      std::string address = value.substr(eq + 1);
      return kHostPort(address);
    },
    "ID=HOST:PORT");

// ID@PEER_ADDRESS/CLIENT_ADDRESS[/REGION]
const CLI::Validator kMember(
    [](std::string& value) -> std::string {
      const auto at = value.find('@');
      const auto slash = value.find('/', at == std::string::npos ? 0 : at);
      if (at == std::string::npos || slash == std::string::npos || at == 0) {
        return "expected ID@PEER_ADDRESS/CLIENT_ADDRESS[/REGION], got '" + value + "'";
      }
      const std::string id = value.substr(0, at);
      if (id.find_first_not_of("0123456789") != std::string::npos || id[0] == '0') {
        return "node id must be a positive number in '" + value + "'";
      }
      std::string peer = value.substr(at + 1, slash - at - 1);
      std::string client = value.substr(slash + 1);
      std::string region;
      if (const auto second = client.find('/'); second != std::string::npos) {
        region = client.substr(second + 1);
        client.resize(second);
        if (absl::Status s = ledger::ValidateRegion(region, "the member's region"); !s.ok()) {
          return std::string(s.message()) + " in '" + value + "'";
        }
      }
      std::string err = kHostPort(peer);
      if (err.empty()) err = kHostPort(client);
      return err;
    },
    "ID@PEER/CLIENT");

void AddSegmentOptions(CLI::App& app, NodeConfig& c) {
  app.add_option("--proof-cache-nodes-max", c.proof_cache_nodes_max,
                 "Merkle nodes kept in memory for receipts and proofs (about 100 bytes each)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 26))
      ->capture_default_str();
  app.add_option("--segments-dir", c.segments_dir,
                 "Directory for ledger segment files (committed history, ending on signatures, "
                 "for export and `cairnctl audit`); default <data-dir>/segments");
  app.add_option("--segment-entries-target", c.segment_entries_target,
                 "Entries per segment file, about (a segment always ends on a signature)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000000}))
      ->capture_default_str();
  app.add_option("--segment-max-age-s", c.segment_max_age_s,
                 "Write a segment that is not full yet once its oldest entry waited this long")
      ->check(CLI::Range(uint64_t{0}, uint64_t{86400}))
      ->capture_default_str();
  app.add_option("--segment-bytes-target", c.segment_bytes_target,
                 "Bytes per segment file, about (at most 1 GiB, what `cairnctl audit` reads)")
      ->check(CLI::Range(uint64_t{1} << 16, uint64_t{512} << 20))
      ->capture_default_str();
}

void AddGeoReplicaOptions(CLI::App& app, NodeConfig& c) {
  app.add_option("--region", c.region, "Region this node runs in (letters, digits, '-', '_')")
      ->check(kRegion)
      ->capture_default_str();
  app.add_option("--role", c.role,
                 "member, or geo-replica: a learner in the paired region that archives the "
                 "ledger to --archive-url (start it with --join after cairnctl nodes add-learner)")
      ->check(CLI::IsMember({"member", "geo-replica"}))
      ->capture_default_str();
  app.add_option("--archive-url", c.archive_url,
                 "Geo-replica: archive store, file:///PATH or s3://BUCKET[/PREFIX]");
  app.add_option("--archive-region", c.archive_region,
                 "Geo-replica: region of the archive store, for the residency policy (default: "
                 "--region)")
      ->check(kRegion);
  app.add_option("--archive-max-lag-ms", c.archive_max_lag_ms,
                 "Geo-replica: archive an entry at most about this long after it is applied")
      ->check(CLI::Range(uint64_t{10}, uint64_t{3600000}))
      ->capture_default_str();
  app.add_option("--archive-snapshot-entries", c.archive_snapshot_entries,
                 "Geo-replica: archive a state snapshot every this many entries (0: never); a "
                 "recovery restores the newest and replays only the segments after it")
      ->capture_default_str();
  app.add_option("--archive-snapshot-part-bytes", c.archive_snapshot_part_bytes,
                 "Geo-replica: largest object a snapshot is cut into")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 30))
      ->capture_default_str();
  AddArchiveStoreFlags(app, &c.archive_store);
}

void AddClusterOptions(CLI::App& app, NodeConfig& c) {
  app.add_option(
         "--initial-cluster", c.initial_cluster,
         "Initial voting members of a new service, ID@PEER_ADDRESS/CLIENT_ADDRESS[/REGION], "
         "comma-separated or repeated (every member gets the same list); a member "
         "without a region is recorded in the region of the node that creates the service")
      ->delimiter(',')
      ->check(kMember);
  app.add_option("--peer-route", c.peer_routes,
                 "Reach peer ID at HOST:PORT instead of the peer address the membership names "
                 "(behind NAT or a proxy), ID=HOST:PORT, comma-separated or repeated")
      ->delimiter(',')
      ->check(kPeerRoute);
  app.add_flag("--join", c.join,
               "Join an existing service as a new member (add it first with cairnctl nodes "
               "add-learner); --initial-cluster then lists the current members");
  app.add_option("--initial-admin-cert-file", c.initial_admin_cert_file,
                 "Certificate (PEM) of the first Administrator of a new service")
      ->check(CLI::ExistingFile);
  app.add_option("--ledger-type", c.ledger_type,
                 "public or private (contents sealed at rest): the type of a new service, fixed "
                 "for good; on an existing ledger it must be the ledger's (default: the "
                 "ledger's, public for a new service)")
      ->check(CLI::IsMember({"public", "private"}));
  app.add_option("--recovery-operator-cert-file", c.recovery_operator_cert_files,
                 "A new private ledger: certificate (PEM, P-256 key) of an operator who is given "
                 "one share of the recovery key, repeated for each (docs/operations.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--recovery-threshold", c.recovery_threshold,
                 "How many of the recovery operators' shares recover the ledger (default: a "
                 "majority of them)")
      ->check(CLI::Range(uint32_t{1}, uint32_t{255}));
  app.add_option("--tick-ms", c.tick_ms, "Raft clock tick, in milliseconds")
      ->check(CLI::Range(uint64_t{1}, uint64_t{10000}))
      ->capture_default_str();
  app.add_option("--election-ticks", c.election_ticks,
                 "Election timeout in ticks (randomized in [1x, 2x))")
      ->check(CLI::Range(uint64_t{2}, uint64_t{1000}))
      ->capture_default_str();
  app.add_option("--heartbeat-ticks", c.heartbeat_ticks, "Leader heartbeat interval in ticks")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000}))
      ->capture_default_str();
  app.add_option("--signature-interval-txs", c.signature_interval_txs,
                 "The leader signs a checkpoint once this many entries are unsigned")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}))
      ->capture_default_str();
  app.add_option("--signature-interval-ms", c.signature_interval_ms,
                 "... or once the oldest unsigned entry is this many milliseconds old")
      ->check(CLI::Range(uint64_t{1}, uint64_t{3600000}))
      ->capture_default_str();
  app.add_option("--snapshot-interval-entries", c.snapshot_interval_entries,
                 "Compact the log once it holds this many applied entries")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--snapshot-retain-entries", c.snapshot_retain_entries,
                 "Applied entries kept in the log after compaction, for lagging followers")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--snapshot-chunk-bytes-max", c.snapshot_chunk_bytes_max,
                 "Largest chunk of a snapshot sent to a follower")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{16} << 20))
      ->capture_default_str();
}

void AddOptions(CLI::App& app, NodeConfig& c) {
  app.add_option("--node-id", c.node_id, "This node's Raft id: unique in the cluster, never reused")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 62))
      ->capture_default_str();
  app.add_option("--data-dir", c.data_dir,
                 "Directory holding the node's database; created on first start, locked while "
                 "the node runs")
      ->capture_default_str();
  app.add_option("--client-address", c.client_address,
                 "Listen address for clients (LedgerService, AdminService), mTLS")
      ->check(kHostPort)
      ->capture_default_str();
  app.add_option("--peer-address", c.peer_address,
                 "Listen address for other nodes (RaftService only), mTLS")
      ->check(kHostPort)
      ->capture_default_str();
  app.add_option("--http-address", c.http_address,
                 "Listen address for /metrics, /healthz and /readyz (plain HTTP); empty disables")
      ->check(kHostPortOrEmpty)
      ->capture_default_str();
  app.add_option("--rest-address", c.rest_address,
                 "Listen address for the REST API (Azure Confidential Ledger paths, HTTPS with "
                 "mutual TLS); empty (the default) disables it")
      ->check(kHostPortOrEmpty);
  app.add_option("--tls-cert-file", c.tls_cert_file,
                 "This node's certificate (PEM), issued by the service identity (required)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key-file", c.tls_key_file, "This node's private key (PEM) (required)")
      ->check(CLI::ExistingFile);
  app.add_option("--service-cert-file", c.service_cert_file,
                 "The service identity certificate (PEM): the CA that issues node and user "
                 "certificates (required)")
      ->check(CLI::ExistingFile);
  app.add_option("--entry-bytes-max", c.entry_bytes_max, "Largest Append contents, in bytes")
      ->check(CLI::Range(uint64_t{1}, uint64_t{64} << 20))
      ->capture_default_str();
  app.add_option("--collection-id-bytes-max", c.collection_id_bytes_max,
                 "Longest collection id, in UTF-8 bytes")
      ->check(CLI::Range(uint64_t{1}, uint64_t{256}))
      ->capture_default_str();
  app.add_option("--idempotency-key-bytes-max", c.idempotency_key_bytes_max,
                 "Longest idempotency key, in bytes")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1024}))
      ->capture_default_str();
  app.add_option("--append-batch-entries-max", c.append_batch_entries_max,
                 "Most entries in one AppendBatch call")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000}))
      ->capture_default_str();
  app.add_option("--append-batch-bytes-max", c.append_batch_bytes_max,
                 "Largest AppendBatch request, in bytes (serialized)")
      ->check(CLI::Range(uint64_t{1} << 10, uint64_t{256} << 20))
      ->capture_default_str();
  app.add_option("--page-size-max", c.page_size_max, "Largest page a list call may ask for")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000}))
      ->capture_default_str();
  app.add_option("--uncommitted-bytes-max", c.uncommitted_bytes_max,
                 "Bytes of appended but uncommitted entries beyond which the leader answers "
                 "RESOURCE_EXHAUSTED")
      ->check(CLI::Range(uint64_t{1} << 16, uint64_t{1} << 34))
      ->capture_default_str();
  app.add_option("--waiting-requests-max", c.waiting_requests_max,
                 "Requests that may wait at once for an entry to commit, apply or be signed")
      ->check(CLI::Range(uint64_t{16}, uint64_t{10000000}))
      ->capture_default_str();
  app.add_option("--inbox-ops-max", c.inbox_ops_max,
                 "Requests (appends, reads, transfers) that may queue for the Raft loop at "
                 "once; beyond, they are refused with BACKPRESSURE")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{10000000}))
      ->capture_default_str();
  app.add_option("--idempotency-window-s", c.idempotency_window_s,
                 "Seconds during which a retried append (same user and idempotency key) returns "
                 "the original txid; must be equal on every node")
      ->check(CLI::Range(uint64_t{1}, uint64_t{366} * 24 * 3600))
      ->capture_default_str();
  AddClusterOptions(app, c);
  AddSegmentOptions(app, c);
  AddGeoReplicaOptions(app, c);
  app.add_option("--log-level", c.log_level, "Least severe log level written")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", c.log_format, "Log line format: one JSON object per line, or text")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  // Not in --help: puts a fixed bug back so the robustness suite can show it
  // catches it. Never for a real service.
  app.add_option("--test-inject-bug", c.test_inject_bug)
      ->check(CLI::IsMember({"", "stale-idempotency-join"}))
      ->group("");
}

// Settings that must be present once flags and file are merged.
std::string MissingRequired(const NodeConfig& c) {
  if (c.tls_cert_file.empty()) return "--tls-cert-file (tls_cert_file) is required";
  if (c.tls_key_file.empty()) return "--tls-key-file (tls_key_file) is required";
  if (c.service_cert_file.empty()) return "--service-cert-file (service_cert_file) is required";
  if (c.data_dir.empty()) return "--data-dir (data_dir) must not be empty";
  if (c.heartbeat_ticks >= c.election_ticks) {
    return "--heartbeat-ticks must be less than --election-ticks";
  }
  if (c.append_batch_bytes_max > c.uncommitted_bytes_max) {
    return "--append-batch-bytes-max must not exceed --uncommitted-bytes-max: a batch that large "
           "could never be accepted";
  }
  if (c.role == "geo-replica" && c.archive_url.empty()) {
    return "--role geo-replica needs --archive-url (archive_url): where to archive the ledger";
  }
  if (c.role != "geo-replica" && !c.archive_url.empty()) {
    return "--archive-url is for --role geo-replica only";
  }
  if (c.initial_cluster.empty()) {
    return "--initial-cluster (initial_cluster) is required: the members of the service, e.g. "
           "1@127.0.0.1:7200/127.0.0.1:7100";
  }
  return "";
}

}  // namespace

void AddArchiveStoreFlags(CLI::App& app, storage::S3StoreOptions* s3) {
  app.add_option("--archive-s3-endpoint", s3->endpoint,
                 "s3:// archive: endpoint URL (default AWS: https://s3.REGION.amazonaws.com)");
  app.add_option("--archive-s3-region", s3->region,
                 "s3:// archive: signing region (default AWS_REGION, else us-east-1)");
  app.add_flag("--archive-s3-path-style", s3->path_style,
               "s3:// archive: bucket in the path, not the host name (most self-hosted stores)");
  app.add_option("--archive-s3-ca-file", s3->ca_file,
                 "s3:// archive: CA certificates (PEM) for the endpoint's TLS certificate")
      ->check(CLI::ExistingFile);
  app.add_option("--archive-credentials-file", s3->credentials_file,
                 "s3:// archive: AWS shared credentials file (default: AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, else ~/.aws/credentials)")
      ->check(CLI::ExistingFile);
  app.add_option("--archive-profile", s3->profile,
                 "s3:// archive: profile in the credentials file (default AWS_PROFILE, else "
                 "default)");
}

int ParseNodeCommandLine(int argc, const char* const* argv, NodeConfig* config, std::ostream& out,
                         std::ostream& err) {
  CLI::App app(
      "cairn-node: one member of a Cairn ledger cluster.\n"
      "Settings come from --config FILE (YAML, keys are the flag names with '_' for '-')\n"
      "and from flags; a flag overrides the file.",
      "cairn-node");
  app.set_version_flag("--version", "cairn-node 0.1.0");
  app.set_config("--config", "", "YAML config file");
  app.config_formatter(std::make_shared<base::YamlConfig>(&app));
  AddOptions(app, *config);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    out << app.version() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    err << "cairn-node: " << e.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  if (std::string missing = MissingRequired(*config); !missing.empty()) {
    err << "cairn-node: " << missing << "\nRun with --help for usage.\n";
    return 2;
  }
  return -1;
}

}  // namespace cairn::node
