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

namespace cairn::node {

struct NodeConfig {
  // --- identity and addresses ---
  uint64_t node_id = 1;
  std::string data_dir = "./cairn-data";
  std::string client_address = "127.0.0.1:7100";  // LedgerService + AdminService
  std::string peer_address = "127.0.0.1:7200";    // RaftService only
  std::string http_address = "127.0.0.1:7300";    // /metrics, /healthz, /readyz; "" disables

  // --- TLS (mutual, on both ports) ---
  std::string tls_cert_file;      // this node's certificate (PEM), issued by the service identity
  std::string tls_key_file;       // its private key (PEM)
  std::string service_cert_file;  // the service identity certificate (PEM): trust root

  // --- limits ---
  uint64_t entry_bytes_max = 1 << 20;      // contents of one Append
  uint64_t collection_id_bytes_max = 256;  // UTF-8 bytes of a collection id
  uint64_t idempotency_key_bytes_max = 128;
  uint64_t append_batch_entries_max = 1024;  // entries sharing one fsync

  // --- logging ---
  std::string log_level = "info";   // trace, debug, info, warn, error
  std::string log_format = "json";  // json or text
};

// Parses argv (and the YAML file named by --config). Returns -1 when the node
// should start with *config filled in; otherwise the process exit code (0
// after --help or --version, 2 on a usage or config error), having written
// the help text to `out` or the error to `err`.
int ParseNodeCommandLine(int argc, const char* const* argv, NodeConfig* config, std::ostream& out,
                         std::ostream& err);

}  // namespace cairn::node
