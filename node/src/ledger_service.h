// LedgerService (cairn.v1): the data plane, on the gRPC callback API.
#pragma once

#include "cairn/node/config.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "local_log.h"
#include "metrics.h"

namespace cairn::node {

class LedgerServiceImpl final : public v1::LedgerService::CallbackService {
 public:
  // `log` and `store` must outlive the service.
  LedgerServiceImpl(const NodeConfig& config, LocalLog* log, const storage::LedgerStore* store,
                    NodeMetrics* metrics)
      : config_(config), log_(log), store_(store), metrics_(metrics) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;
  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* context,
                                     const v1::GetEntryRequest* request,
                                     v1::GetEntryResponse* response) override;

 private:
  const NodeConfig& config_;
  LocalLog* const log_;
  const storage::LedgerStore* const store_;
  NodeMetrics* const metrics_;
};

}  // namespace cairn::node
