// Request sources for cairn-bench: Cairn's LedgerService over mutual TLS, and
// etcd's KV.Put (or KV.Txn for batches) in plaintext or over mutual TLS
// (bench/proto/etcd_kv_subset.proto).
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "load/driver.h"

namespace cairn::bench {

struct TlsFilesPaths {
  std::string cert_file;
  std::string key_file;
  std::string service_cert_file;
};

// `count` channels to `address`, each on its own TCP connection (gRPC would
// otherwise share one subchannel among channels with equal arguments).
// Plaintext when `tls` is null.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> OpenChannels(const std::string& address,
                                                                         int count,
                                                                         const TlsFilesPaths* tls);

struct CairnSourceOptions {
  std::string collection = "bench";
  size_t value_bytes = 256;
  // New random bytes for every value (--fresh-values), not one random value
  // per worker with a distinct stamp in front.
  bool fresh_values = false;
  int64_t timeout_ms = 10000;
  // Appends answered once a geo-replica archived them (APPEND_WAIT_GEO_DURABLE).
  bool geo_durable = false;
  // Entries per append request: above 1, each append is one AppendBatch of
  // this many values (the server's limit is append_batch_entries_max, default
  // 1000). Only Op::kAppend is batched.
  size_t batch = 1;
  // Transaction ids read by get and receipt (signed ones, for receipts).
  std::vector<std::string> txids;
};

// Appends, GetEntry and GetReceipt. Values are random bytes with the worker id
// and a value number in front, so no two appended values are alike, within a
// batch or across requests. A batch counts as an error (INTERNAL) unless it
// comes back with one result with a txid per entry.
std::unique_ptr<RequestSource> NewCairnSource(std::vector<std::shared_ptr<grpc::Channel>> channels,
                                              CairnSourceOptions options);

// The client address of the current leader, asked of any of `endpoints`
// (AdminService.GetClusterStatus) until one answers with a leader or
// `timeout_ms` passes.
absl::StatusOr<std::string> FindCairnLeader(const std::vector<std::string>& endpoints,
                                            const TlsFilesPaths& tls, int64_t timeout_ms);

// Txids for get and receipt runs: up to `count` committed, signed entries of
// `collection` spread over the whole ledger (sampled with ListEntries at
// random indexes below the latest signed tree size). When the collection has
// fewer than `count` / 10 such entries, first appends `count` entries and
// waits for a signature to cover them.
absl::StatusOr<std::vector<std::string>> SampleSignedTxids(std::shared_ptr<grpc::Channel> channel,
                                                           const std::string& collection,
                                                           size_t count, size_t value_bytes,
                                                           uint64_t seed);

struct EtcdSourceOptions {
  size_t value_bytes = 256;
  // New random bytes for every value (--fresh-values), not one random value
  // per worker with a distinct stamp in front.
  bool fresh_values = false;
  // Puts go to keys bench/<n> with n uniform in [0, key_space): the store
  // stays bounded in keys (each put is still a new revision, as in etcd's own
  // benchmark tool).
  uint64_t key_space = 100000;
  int64_t timeout_ms = 10000;
  // Puts per request: above 1, each request is one KV.Txn whose success
  // branch holds this many puts (no compares), to distinct keys, since etcd
  // refuses two puts to one key in a transaction. Needs key_space >= batch,
  // and an etcd started with --max-txn-ops >= batch (its default is 128).
  size_t batch = 1;
};

// Puts (KV.Put, or KV.Txn of `batch` puts). A request counts as an error
// (INTERNAL) unless etcd answers with a revision and, for a transaction, one
// response per put.
std::unique_ptr<RequestSource> NewEtcdSource(std::vector<std::shared_ptr<grpc::Channel>> channels,
                                             EtcdSourceOptions options);

}  // namespace cairn::bench
