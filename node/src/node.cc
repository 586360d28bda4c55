// Wiring of a single cairn-node (see node.h). Construction order is the
// dependency order (directory, store, pipeline, services, server); teardown
// runs in reverse.
#include "cairn/node/node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "cairn/storage/data_dir.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_store.h"
#include "ledger_service.h"
#include "local_log.h"
#include "metrics.h"
#include "tls.h"

namespace cairn::node {
namespace {

// The term every entry is written in until consensus arrives.
constexpr uint64_t kSingleNodeTerm = 1;
// Appends waiting for their fsync, at most (backpressure beyond).
constexpr size_t kAppendQueueEntriesMax = 16384;

class NodeImpl final : public Node {
 public:
  explicit NodeImpl(NodeConfig config) : config_(std::move(config)) {}
  ~NodeImpl() override { Shutdown(); }

  absl::Status Init() {
    auto tls = LoadTlsFiles(config_.tls_cert_file, config_.tls_key_file, config_.service_cert_file);
    if (!tls.ok()) return tls.status();
    auto dir = storage::DataDir::Open(config_.data_dir, /*create_if_missing=*/true);
    if (!dir.ok()) return dir.status();
    dir_ = *std::move(dir);
    auto db = storage::Database::Open(dir_->db_path());
    if (!db.ok()) return db.status();
    db_ = *std::move(db);
    store_ = &db_->ledger();
    log_ = std::make_unique<LocalLog>(db_.get(), kSingleNodeTerm, config_.append_batch_entries_max,
                                      kAppendQueueEntriesMax);
    ledger_service_ = std::make_unique<LedgerServiceImpl>(config_, log_.get(), store_, &metrics_);
    if (absl::Status st = StartHttp(); !st.ok()) return st;

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(config_.client_address, MutualTlsServerCredentials(*tls), &port);
    builder.RegisterService(ledger_service_.get());
    // Room for the largest allowed entry plus framing, so an oversized one is
    // answered by validation (naming entry_bytes_max), not by the transport.
    builder.SetMaxReceiveMessageSize(
        static_cast<int>(std::max<uint64_t>(config_.entry_bytes_max * 2 + (1 << 20), 4 << 20)));
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on --client-address ", config_.client_address));
    }
    spdlog::info("serving clients on {} (mTLS), data dir {}, applied index {}",
                 config_.client_address, config_.data_dir, store_->applied_index());
    return absl::OkStatus();
  }

  void Shutdown() override {
    if (http_) http_->Stop();
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
      server_->Wait();
      server_.reset();
      spdlog::info("stopped serving");
    }
    log_.reset();
    ledger_service_.reset();
    store_ = nullptr;
    db_.reset();
    dir_.reset();
  }

 private:
  absl::Status StartHttp() {
    if (config_.http_address.empty()) return absl::OkStatus();
    http_ = std::make_unique<HttpServer>(
        &metrics_, [this] { return log_->health(); }, [] { return absl::OkStatus(); });
    return http_->Start(config_.http_address);
  }

  const NodeConfig config_;
  NodeMetrics metrics_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<storage::DataDir> dir_;
  std::unique_ptr<storage::Database> db_;
  storage::LedgerStore* store_ = nullptr;  // db_->ledger()
  std::unique_ptr<LocalLog> log_;
  std::unique_ptr<LedgerServiceImpl> ledger_service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Start(const NodeConfig& config) {
  auto node = std::make_unique<NodeImpl>(config);
  if (absl::Status st = node->Init(); !st.ok()) return st;
  return node;
}

}  // namespace cairn::node
