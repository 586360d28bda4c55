// Wiring of a cairn-node (see node.h). Construction follows the dependency
// order — identity, data directory, database, ledger state, Raft loop,
// services, listeners — and teardown runs in reverse. On shutdown a leader
// first hands leadership to the most caught-up voter.
#include "cairn/node/node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>

#include <future>

#include "absl/strings/str_cat.h"
#include "apply/applier.h"
#include "apply/governance.h"
#include "apply/ledger_secrets.h"
#include "apply/tile_backfill.h"
#include "cairn/base/check.h"
#include "cairn/ledger/cosignature.h"
#include "cairn/storage/data_dir.h"
#include "cairn/storage/database.h"
#include "cairn/storage/raft_log_store.h"
#include "errors/status.h"
#include "export/segment_exporter.h"
#include "georeplica/archive_uploader.h"
#include "grpc/health/v1/health.pb.h"
#include "observe/log.h"
#include "observe/metrics.h"
#include "peer/keepalive.h"
#include "peer/raft_service.h"
#include "peer/snapshot_sender.h"
#include "peer/transport.h"
#include "raft/index_waiters.h"
#include "raft/raft_loop.h"
#include "raft/stored_log.h"
#include "rest/rest_gateway.h"
#include "security/auth.h"
#include "security/tls.h"
#include "service/admin_service.h"
#include "service/call.h"
#include "service/geo_replicas.h"
#include "service/leader_router.h"
#include "service/ledger_service.h"
#include "service/node_cache.h"
#include "service/proofs.h"
#include "service/reflection_v1.h"
#include "service/secret_sharer.h"
#include "setup/bootstrap.h"
#include "setup/port_check.h"

namespace cairn::node {

// Proofs cache nodes from this level up (subtrees of 256 leaves or more):
// shared by many proofs, and few enough (1/128 of the leaves) to keep. The
// levels below come from one Merkle tile per proof (proofs.h).
constexpr uint32_t kProofCacheLevelsMin = kProofTileLevels;
namespace {

// An address this process can connect to for listening address `address`:
// a wildcard host becomes the loopback address.
std::string LoopbackFor(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string host = address.substr(0, colon);
  if (host == "0.0.0.0") return "127.0.0.1" + address.substr(colon);
  if (host == "[::]") return "[::1]" + address.substr(colon);
  return address;
}

// Drops every ServerBuilder plugin a library registered process-wide (the
// reflection plugin does, when libgrpc++_reflection loads).
class NoServerPlugins final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* /*args*/) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->clear();
  }
};

class NodeImpl final : public Node {
 public:
  explicit NodeImpl(NodeConfig config) : config_(std::move(config)) {}
  ~NodeImpl() override { Shutdown(); }

  absl::Status Init();
  void Shutdown() override;

 private:
  absl::Status LoadIdentity();
  absl::Status OpenStorage();
  absl::Status StartLoop();
  absl::Status MakeArchiveUploader(const std::string& segments_dir);
  absl::Status CheckLedgerType() const;
  absl::Status StartServers();
  absl::Status ReportToLeader(const v1::ReportArchivedRequest& report);
  absl::Status StartHttp();
  absl::Status StartRest();
  void HandOffLeadership();

  const NodeConfig config_;
  TlsFiles tls_;
  std::optional<ledger::PrivateKey> node_key_;
  std::optional<ledger::Certificate> node_cert_;
  std::optional<ledger::Certificate> service_cert_;
  std::vector<v1::NodeInfo> initial_members_;
  std::optional<v1::CreateService> genesis_;

  std::unique_ptr<storage::DataDir> dir_;
  std::unique_ptr<storage::Database> db_;
  NodeMetrics metrics_;
  Governance governance_;
  std::unique_ptr<LedgerSecrets> secrets_;  // a private ledger's; used by all below
  std::unique_ptr<Applier> applier_;
  std::unique_ptr<TileBackfill> tile_backfill_;  // writes to db_; stopped in Shutdown
  std::unique_ptr<StoredRaftLog> raft_log_;      // the loop's log seam over db_
  std::unique_ptr<NodeSigner> signer_;
  IndexWaiters applied_waiters_{config_.waiting_requests_max};
  IndexWaiters signed_waiters_{config_.waiting_requests_max};
  CallerIdentifier identifier_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<SnapshotSender> snapshots_;
  std::unique_ptr<SegmentExporter> segments_;
  // geo-replica only: the store, opened (its settings checked) before the
  // data directory is made, then handed to the uploader.
  std::unique_ptr<storage::ArchiveStore> archive_store_;
  std::unique_ptr<ArchiveUploader> archive_;
  GeoReplicas geo_{config_.waiting_requests_max};  // the leader's view of them
  // Proposes through the loop; outlives it, as the loop answers its last
  // proposal when it stops.
  std::unique_ptr<SecretSharer> sharer_;
  std::unique_ptr<RaftLoop> loop_;
  PeerChannels channels_{&tls_};
  std::unique_ptr<CachedNodeReader> proof_nodes_;
  ServiceIdentity identity_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<LeaderRouter> router_;
  std::unique_ptr<LedgerServiceImpl> ledger_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  std::unique_ptr<ReflectionV1Service> reflection_v1_;
  std::unique_ptr<RaftServiceImpl> raft_service_;
  std::unique_ptr<grpc::Server> client_server_;
  std::unique_ptr<grpc::Server> peer_server_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<rest::RestGateway> rest_;
  bool shut_down_ = false;
};

absl::Status NodeImpl::LoadIdentity() {
  auto tls = LoadTlsFiles(config_.tls_cert_file, config_.tls_key_file, config_.service_cert_file);
  if (!tls.ok()) return tls.status();
  tls_ = *std::move(tls);
  auto key = ledger::PrivateKey::FromPem(tls_.key_pem);
  auto cert = ledger::Certificate::FromPem(tls_.cert_pem);
  auto service = ledger::Certificate::FromPem(tls_.service_cert_pem);
  if (!key.ok())
    return absl::FailedPreconditionError(absl::StrCat("--tls-key-file: ", key.status().message()));
  if (!cert.ok())
    return absl::FailedPreconditionError(
        absl::StrCat("--tls-cert-file: ", cert.status().message()));
  if (!service.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--service-cert-file: ", service.status().message()));
  }
  if (absl::Status st = CheckNodeIdentity(*service, *cert, *key, config_.node_id); !st.ok())
    return st;
  node_key_ = *std::move(key);
  node_cert_ = *std::move(cert);
  service_cert_ = *std::move(service);
  auto members = ParseInitialCluster(config_.initial_cluster);
  if (!members.ok()) return members.status();
  initial_members_ = *std::move(members);
  return absl::OkStatus();
}

absl::Status NodeImpl::OpenStorage() {
  auto dir = storage::DataDir::Open(config_.data_dir, /*create_if_missing=*/true);
  if (!dir.ok()) return dir.status();
  dir_ = *std::move(dir);
  storage::DatabaseOptions options;
  options.idempotency_window_ms = static_cast<int64_t>(config_.idempotency_window_s) * 1000;
  auto db = storage::Database::Open(dir_->db_path(), options);
  if (!db.ok()) return db.status();
  db_ = *std::move(db);
  auto initial = db_->raft_log().LoadInitialState();
  if (!initial.ok()) return initial.status();
  const bool empty = db_->raft_log().LastIndex() == 0 && initial->conf_state.voters.empty() &&
                     initial->conf_state.learners.empty();
  if (empty && !config_.join) {
    bool listed = false;
    consensus::ConfState conf;
    for (const auto& m : initial_members_) {
      conf.voters.push_back(m.node_id());
      listed |= m.node_id() == config_.node_id;
    }
    std::sort(conf.voters.begin(), conf.voters.end());
    if (!listed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--initial-cluster does not list this node (", config_.node_id,
          "); to add a node to a running service, add it as a learner and start it with --join"));
    }
    if (absl::Status st = db_->raft_log().Bootstrap(conf); !st.ok()) return st;
    spdlog::info("bootstrapped a new service with {} voters", conf.voters.size());
  }
  if (!config_.initial_admin_cert_file.empty()) {
    auto genesis = MakeGenesis(*service_cert_, initial_members_, config_.initial_admin_cert_file,
                               config_.region);
    if (!genesis.ok()) return genesis.status();
    genesis_ = *std::move(genesis);
    if (config_.ledger_type == "private") {
      if (absl::Status st =
              MakeGenesisPrivate(&*genesis_, config_.node_id, *node_cert_, *service_cert_,
                                 config_.recovery_operator_cert_files, config_.recovery_threshold);
          !st.ok()) {
        return st;
      }
    } else if (!config_.recovery_operator_cert_files.empty() || config_.recovery_threshold != 0) {
      return absl::FailedPreconditionError(
          "--recovery-operator-cert-file and --recovery-threshold are for a new private ledger "
          "(--ledger-type private): a public ledger has no secret to recover");
    }
  } else if (empty && !config_.join) {
    return absl::FailedPreconditionError(
        "--initial-admin-cert-file is required to create a new service (it names the first "
        "Administrator)");
  }
  applier_ = std::make_unique<Applier>(db_.get(), &governance_, *service_cert_);
  tile_backfill_ = std::make_unique<TileBackfill>(
      [ledger = &db_->ledger()](uint64_t tree_size, absl::FunctionRef<bool()> stop) {
        return ledger->BackfillTiles(tree_size, stop);
      });
  applier_->set_tile_backfill(tile_backfill_.get());
  secrets_ =
      std::make_unique<LedgerSecrets>(config_.node_id, service_cert_->Fingerprint(), &*node_key_);
  applier_->set_ledger_secrets(secrets_.get());
  if (absl::Status s = applier_->Load(); !s.ok()) return s;
  if (absl::Status s = CheckLedgerType(); !s.ok()) return s;
  // The region the service recorded for this node is where the residency
  // policy believes it runs: a node started elsewhere would carry a copy
  // where the policy does not look.
  if (const std::optional<v1::NodeInfo> self = governance_.Member(config_.node_id);
      self.has_value() && !self->region().empty() && self->region() != config_.region) {
    return absl::FailedPreconditionError(absl::StrCat(
        "this node runs with --region ", config_.region, ", but the service recorded region ",
        self->region(), " for node ", config_.node_id,
        " (the residency policy checks that one); start it with --region ", self->region(),
        ", or remove it from the service and add it again with its region"));
  }
  return absl::OkStatus();
}

// A ledger's type is fixed when it is created: a node told another type
// than the ledger's refuses to start (before it serves or writes anything).
absl::Status NodeImpl::CheckLedgerType() const {
  if (config_.ledger_type.empty() || !governance_.created()) return absl::OkStatus();
  const std::string type =
      governance_.ledger_type() == v1::LEDGER_TYPE_PRIVATE ? "private" : "public";
  if (type == config_.ledger_type) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("--ledger-type ", config_.ledger_type, ": this ledger was created ", type,
                   ", and a ledger's type is fixed at creation; start the node with --ledger-type ",
                   type, " or without --ledger-type"));
}

// The geo-replica's uploader (started by StartServers, once the router to
// the leader exists), on the store Init opened. FailedPrecondition when the
// residency policy leaves out this region.
absl::Status NodeImpl::MakeArchiveUploader(const std::string& segments_dir) {
  CAIRN_CHECK(archive_store_ != nullptr) << "the archive store is opened by Init";
  // A geo-replica outside the residency policy refuses to start (one that
  // joins knows the policy only once it caught up; its uploader checks).
  if (absl::Status s = governance_.CheckResidency(config_.region, "this geo-replica"); !s.ok()) {
    return s;
  }
  ArchiveUploaderOptions uploader;
  uploader.segments_dir = segments_dir;
  uploader.service_cert_pem = service_cert_->ToPem();
  uploader.region = config_.region;
  uploader.poll_interval = absl::Milliseconds(100);
  uploader.cosign = [this](v1::ArchiveCosignature* c) {
    return ledger::Cosign(c, config_.node_id, *node_key_, tls_.cert_pem);
  };
  uploader.residency = [this] {
    if (absl::Status s = governance_.CheckResidency(config_.region, "this geo-replica"); !s.ok()) {
      return s;
    }
    const std::string& archive_region =
        config_.archive_region.empty() ? config_.region : config_.archive_region;
    return governance_.CheckResidency(archive_region,
                                      absl::StrCat("its archive ", config_.archive_url));
  };
  uploader.report = [this](const v1::ReportArchivedRequest& report) {
    return ReportToLeader(report);
  };
  uploader.take_snapshot = [this](size_t chunk_bytes_max) {
    return db_->TakeSnapshot(chunk_bytes_max);
  };
  uploader.sign_snapshot = [this](ledger::SnapshotAttestation* a) {
    return ledger::SignSnapshot(a, config_.node_id, *node_key_, tls_.cert_pem);
  };
  uploader.snapshot_every_entries = config_.archive_snapshot_entries;
  uploader.snapshot_part_bytes_max = config_.archive_snapshot_part_bytes;
  archive_ = std::make_unique<ArchiveUploader>(
      std::move(archive_store_), uploader, [this] { return applier_->applied_index(); }, &metrics_);
  return absl::OkStatus();
}

absl::Status NodeImpl::StartLoop() {
  const std::string service_id = service_cert_->Fingerprint();
  SegmentExporterOptions segment_options;
  segment_options.dir =
      config_.segments_dir.empty() ? config_.data_dir + "/segments" : config_.segments_dir;
  segment_options.entries_target = config_.segment_entries_target;
  segment_options.bytes_target = config_.segment_bytes_target;
  segment_options.max_age = absl::Seconds(static_cast<int64_t>(config_.segment_max_age_s));
  const bool geo_replica = config_.role == "geo-replica";
  if (geo_replica) {
    // The archive gets a segment at least this often: its lag.
    segment_options.max_age = absl::Milliseconds(static_cast<int64_t>(config_.archive_max_lag_ms));
    segment_options.poll_interval = absl::Milliseconds(50);
    if (absl::Status st = MakeArchiveUploader(segment_options.dir); !st.ok()) return st;
    segment_options.on_written = [this] { archive_->Notify(); };
  }
  segments_ = std::make_unique<SegmentExporter>(&db_->ledger(), segment_options, &metrics_);
  segments_->Start();
  TransportOptions topts;
  topts.service_id = service_id;
  for (const std::string& route : config_.peer_routes) {  // ID=HOST:PORT, validated
    const auto eq = route.find('=');
    topts.routes[std::stoull(route.substr(0, eq))] = route.substr(eq + 1);
  }
  transport_ = std::make_unique<Transport>(topts, tls_);
  const auto members = governance_.created() ? governance_.Members() : initial_members_;
  for (const auto& m : members) {
    if (m.node_id() != config_.node_id) transport_->SetPeer(m.node_id(), m.peer_address());
  }
  snapshots_ = std::make_unique<SnapshotSender>(db_.get(), transport_.get(), service_id,
                                                config_.snapshot_chunk_bytes_max);
  RaftLoopOptions o;
  o.node_id = config_.node_id;
  o.tick_ms = static_cast<int64_t>(config_.tick_ms);
  o.election_ticks = static_cast<int>(config_.election_ticks);
  o.heartbeat_ticks = static_cast<int>(config_.heartbeat_ticks);
  o.uncommitted_bytes_max = config_.uncommitted_bytes_max;
  o.inbox_ops_max = config_.inbox_ops_max;
  o.signature_interval_txs = config_.signature_interval_txs;
  o.signature_interval_ms = static_cast<int64_t>(config_.signature_interval_ms);
  o.snapshot_interval_entries = config_.snapshot_interval_entries;
  o.snapshot_retain_entries = config_.snapshot_retain_entries;
  o.genesis = genesis_;
  o.inject_stale_idempotency_join = config_.test_inject_bug == "stale-idempotency-join";
  if (o.inject_stale_idempotency_join) {
    spdlog::critical(
        "--test-inject-bug stale-idempotency-join: this node may LOSE acknowledged "
        "writes; for tests only");
  }
  o.on_signature_applied = [this] { segments_->Notify(); };
  o.seal = [secrets = secrets_.get()](const ledger::TxId& txid, std::string command,
                                      const AppendIdentity& identity) {
    return secrets->SealCommand(
        txid, std::move(command),
        identity.keyed ? std::optional<ledger::Hash>(identity.digest) : std::nullopt);
  };
  o.sealing = [secrets = secrets_.get()] { return secrets->private_ledger(); };
  signer_ = std::make_unique<NodeSigner>(
      SignerIdentity{config_.node_id, service_id, &*node_cert_, &*node_key_});
  raft_log_ = std::make_unique<StoredRaftLog>(&db_->raft_log());
  loop_ = std::make_unique<RaftLoop>(o, raft_log_.get(), applier_.get(), transport_.get(),
                                     snapshots_.get(), &governance_, signer_.get(), &metrics_,
                                     &applied_waiters_, &signed_waiters_);
  // The transport and the snapshot sender report to the loop, which sends
  // through them: it is built after them, and they learn where to report
  // now, before the loop starts and so before anything is sent. The loop
  // outlives both (Shutdown stops it first, destroys it last), so a report
  // never reaches a destroyed loop; one after Stop is dropped by the loop.
  RaftLoop* loop = loop_.get();
  transport_->SetUnreachableSink([loop](consensus::NodeId id) { loop->ReportUnreachable(id); });
  snapshots_->SetReportSink(
      [loop](consensus::NodeId id, bool ok) { loop->ReportSnapshot(id, ok); });
  return loop_->Start();
}

// A geo-replica's report to the leader's AdminService (archive_uploader.h),
// on the uploader's thread, as this node (its certificate).
absl::Status NodeImpl::ReportToLeader(const v1::ReportArchivedRequest& report) {
  std::shared_ptr<grpc::Channel> channel = router_->LeaderChannel();
  if (!channel) return absl::UnavailableError("no leader known");
  auto stub = v1::AdminService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::ReportArchivedResponse response;
  return FromGrpcStatus(stub->ReportArchived(&context, report, &response));
}

absl::Status NodeImpl::StartServers() {
  // What the handlers use, each given only its part: identity, the rules
  // every call passes first, leader routing, and read-only committed state.
  identity_ = ServiceIdentity{config_.node_id, service_cert_->Fingerprint(), tls_.service_cert_pem,
                              tls_.cert_pem, config_.region};
  authorizer_ = std::make_unique<Authorizer>(&identifier_, &governance_);
  router_ = std::make_unique<LeaderRouter>(loop_.get(), &governance_, &channels_);
  proof_nodes_ = std::make_unique<CachedNodeReader>(
      &db_->ledger(), kProofCacheLevelsMin, static_cast<size_t>(config_.proof_cache_nodes_max));
  const storage::LedgerStore* ledger = &db_->ledger();
  sharer_ = std::make_unique<SecretSharer>(config_.node_id, &*node_cert_, secrets_.get(),
                                           &governance_, &identifier_, &*service_cert_, loop_.get(),
                                           absl::Milliseconds(300));
  ledger_service_ = std::make_unique<LedgerServiceImpl>(
      &config_, &identity_, authorizer_.get(), router_.get(), loop_.get(), &governance_,
      CommittedReads{ledger, &db_->raft_log(), proof_nodes_.get(), &applied_waiters_,
                     &signed_waiters_, secrets_.get()},
      &geo_, &metrics_);
  admin_service_ = std::make_unique<AdminServiceImpl>(
      &identity_, authorizer_.get(), router_.get(), loop_.get(), &governance_, ledger,
      &applied_waiters_, &channels_, &geo_, &*service_cert_, sharer_.get());
  geo_.Start();
  sharer_->Start();
  if (archive_) {
    archive_->Start();
    spdlog::info("geo-replica in region {}: archiving to {}", config_.region, config_.archive_url);
  }
  raft_service_ =
      std::make_unique<RaftServiceImpl>(config_.node_id, identity_.service_id, loop_.get(),
                                        db_.get(), &identifier_, config_.snapshot_chunk_bytes_max);
  // The peer port serves RaftService alone. gRPC's health service is a
  // process-wide switch read when a server is built, so the peer server is
  // built before it is turned on; the reflection plugin registers itself
  // process-wide when its library loads, so the peer builder drops it.
  {
    grpc::ServerBuilder builder;
    builder.SetOption(std::make_unique<NoServerPlugins>());
    int port = 0;
    // Peers ping their long-lived message streams every few seconds
    // (transport.cc); accept that rather than closing the connection.
    AcceptPeerPings(&builder, 1000);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    // And ping them back: a peer that vanished without closing its streams
    // (power loss, a cut link) is noticed in seconds, not at TCP's timeout.
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    builder.AddListeningPort(config_.peer_address,
                             MutualTlsServerCredentials(tls_, /*require_client_cert=*/true), &port);
    builder.RegisterService(raft_service_.get());
    builder.SetMaxReceiveMessageSize(64 << 20);
    peer_server_ = builder.BuildAndStart();
    if (!peer_server_ || port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on --peer-address ", config_.peer_address));
    }
  }
  // Health checking and reflection (for grpcurl) on the client port only;
  // neither reveals ledger data, so they answer without a role.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Links the grpc.health.v1 descriptors in, so reflection can describe the
  // health service it lists.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  reflection_v1_ = std::make_unique<ReflectionV1Service>(std::vector<std::string>{
      v1::LedgerService::service_full_name(), v1::AdminService::service_full_name(),
      "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection",
      grpc::reflection::v1::ServerReflection::service_full_name()});
  {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(config_.client_address,
                             MutualTlsServerCredentials(tls_, /*require_client_cert=*/false),
                             &port);
    builder.RegisterService(ledger_service_.get());
    builder.RegisterService(admin_service_.get());
    builder.RegisterService(reflection_v1_.get());
    // Followers keep a channel to the leader's client port for forwarded
    // calls and ping it when idle (kClientPortKeepaliveMs); gRPC's defaults
    // answered that with GOAWAY too_many_pings (keepalive.h), failing the
    // forwarded calls on that connection.
    AcceptPeerPings(&builder, kClientPortPingsMinMs);
    // Room for the largest allowed entry or batch plus framing, so an
    // oversized one is answered by validation (naming entry_bytes_max or
    // append_batch_bytes_max), not by the transport.
    builder.SetMaxReceiveMessageSize(static_cast<int>(
        std::max<uint64_t>({config_.entry_bytes_max * 2 + (1 << 20),
                            config_.append_batch_bytes_max + (1 << 20), 4 << 20})));
    client_server_ = builder.BuildAndStart();
    if (!client_server_ || port == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on --client-address ", config_.client_address));
    }
  }
  return absl::OkStatus();
}

absl::Status NodeImpl::StartRest() {
  if (config_.rest_address.empty()) return absl::OkStatus();
  rest::GatewayOptions options;
  options.address = config_.rest_address;
  options.node_id = config_.node_id;
  options.client_address = LoopbackFor(config_.client_address);
  options.service_id = identity_.service_id;
  options.entry_bytes_max = config_.entry_bytes_max;
  rest_ = std::make_unique<rest::RestGateway>(std::move(options), &tls_, &channels_, router_.get());
  return rest_->Start();
}

absl::Status NodeImpl::StartHttp() {
  if (config_.http_address.empty()) return absl::OkStatus();
  http_ = std::make_unique<HttpServer>(
      &metrics_, [this] { return db_->write_error(); },
      [this]() -> absl::Status {
        if (!governance_.created()) return absl::UnavailableError("service not created yet");
        if (loop_->status().node.leader == 0) return absl::UnavailableError("no leader known");
        return absl::OkStatus();
      });
  return http_->Start(config_.http_address);
}

absl::Status NodeImpl::Init() {
  if (absl::Status st = RequireTls13(); !st.ok()) return st;
  // Never share a port with another process (see port_check.h), and find out
  // before the data directory is opened or the node joins the cluster.
  if (absl::Status st = CheckNobodyListens(config_.peer_address, "--peer-address"); !st.ok()) {
    return st;
  }
  if (absl::Status st = CheckNobodyListens(config_.client_address, "--client-address"); !st.ok()) {
    return st;
  }
  if (!config_.rest_address.empty()) {
    if (absl::Status st = CheckNobodyListens(config_.rest_address, "--rest-address"); !st.ok()) {
      return st;
    }
  }
  if (absl::Status st = LoadIdentity(); !st.ok()) return st;
  if (!config_.archive_url.empty()) {
    // The archive's settings (URL, credentials file and profile) are
    // checked before the data directory is made: a bad one writes nothing.
    // Opening a store reads them and does not contact it.
    absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store =
        storage::OpenArchiveStore(config_.archive_url, config_.archive_store);
    if (!store.ok()) return store.status();
    archive_store_ = *std::move(store);
  }
  if (absl::Status st = OpenStorage(); !st.ok()) return st;
  if (absl::Status st = StartLoop(); !st.ok()) return st;
  if (absl::Status st = StartServers(); !st.ok()) return st;
  if (absl::Status st = StartHttp(); !st.ok()) return st;
  if (absl::Status st = StartRest(); !st.ok()) return st;
  spdlog::info("node {} serving clients on {} and peers on {} (mTLS); service {}; applied index {}",
               config_.node_id, config_.client_address, config_.peer_address, identity_.service_id,
               applier_->applied_index());
  return absl::OkStatus();
}

// A leader that stops without handing over leaves the cluster leaderless for
// an election timeout; handing over first keeps appends flowing.
void NodeImpl::HandOffLeadership() {
  if (!loop_ || loop_->status().node.role != consensus::Role::kLeader) return;
  absl::StatusOr<uint64_t> r;
  // A target that turns out to be gone (stopping too) is now known
  // unreachable: the next attempt picks another voter, if one is reachable.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::promise<absl::StatusOr<uint64_t>> done;
    auto result = done.get_future();
    loop_->TransferLeadership(0, std::chrono::steady_clock::now() + std::chrono::seconds(3),
                              [&done](absl::StatusOr<uint64_t> r) { done.set_value(r); });
    r = result.get();
    if (!absl::IsUnavailable(r.status())) break;
    spdlog::info("leadership hand-off: {}; trying another voter", r.status().message());
  }
  if (r.ok()) {
    spdlog::info("handed leadership to node {}", *r);
  } else if (absl::IsFailedPrecondition(r.status())) {
    // Nothing to hand to (the last voter of a cluster being stopped).
    spdlog::info("stopping as leader: {}", r.status().message());
  } else {
    spdlog::warn("could not hand over leadership: {}", r.status().message());
  }
}

void NodeImpl::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (sharer_) sharer_->Stop();
  HandOffLeadership();
  if (http_) http_->Stop();
  if (rest_) rest_->Stop();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  if (client_server_) client_server_->Shutdown(deadline);
  // Peers' message streams never finish on their own; end them now (client
  // calls above had their chance to complete, with the peers still heard).
  if (peer_server_) peer_server_->Shutdown(std::chrono::system_clock::now());
  if (loop_) loop_->Stop();
  if (archive_) archive_->Stop();
  geo_.Stop();
  if (segments_) segments_->Stop();
  if (tile_backfill_) tile_backfill_->Stop();
  applied_waiters_.FailAll(absl::UnavailableError("node is shutting down"));
  signed_waiters_.FailAll(absl::UnavailableError("node is shutting down"));
  client_server_.reset();
  peer_server_.reset();
  snapshots_.reset();
  transport_.reset();
  loop_.reset();
  archive_.reset();
  segments_.reset();
  // Ledger writes are not synced one by one (the Raft log is); this makes
  // them durable so the next start need not replay them. If it fails, nothing
  // acknowledged is lost: the next start replays those entries from the log.
  if (db_) {
    if (absl::Status st = db_->Sync(); !st.ok()) {
      spdlog::error(
          "could not sync the database on shutdown ({}); the next start replays the "
          "unsynced entries from the Raft log",
          st.message());
    }
  }
  db_.reset();
  dir_.reset();
  spdlog::info("stopped");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Start(const NodeConfig& config) {
  auto node = std::make_unique<NodeImpl>(config);
  if (absl::Status st = node->Init(); !st.ok()) return st;
  return node;
}

}  // namespace cairn::node
