// Starting a service: parsing --initial-cluster, checking the node's own
// identity against the service identity, and the genesis transaction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cairn/ledger/identity.h"
#include "cairn/node/config.h"
#include "cairn/v1/admin.pb.h"
#include "cairn/v1/log.pb.h"

namespace cairn::node {

// Members from "ID@PEER/CLIENT[/REGION]" items (validated by the config
// parser), as voters. InvalidArgument on a repeated id or a bad region.
absl::StatusOr<std::vector<v1::NodeInfo>> ParseInitialCluster(
    const std::vector<std::string>& items);

// OK when `node_cert` is issued by `service_cert`, names node `node_id` and
// belongs to `node_key`; FailedPrecondition saying what is wrong otherwise.
absl::Status CheckNodeIdentity(const ledger::Certificate& service_cert,
                               const ledger::Certificate& node_cert,
                               const ledger::PrivateKey& node_key, uint64_t node_id);

// The genesis transaction of a new service: its identity, initial members and
// first Administrator (whose certificate must be issued by the service). A
// member listed without a region is recorded in `default_region` (the
// region of the node that creates the service).
absl::StatusOr<v1::CreateService> MakeGenesis(const ledger::Certificate& service_cert,
                                              std::vector<v1::NodeInfo> members,
                                              const std::string& admin_cert_file,
                                              const std::string& default_region);

// Makes `genesis` a private ledger's: the type, and a new ledger secret
// (version 1) wrapped to this node's certificate, the only copy until the
// leader shares it with the other members (docs/formats.md, "Private
// entries v1"). The secret exists nowhere else: if this genesis is never
// committed, it is gone with the process.
// With recovery operators (certificate files), also a recovery key
// (setup/recovery_key.h) whose shares `recovery_threshold` of them (0: a
// majority) bring to a recovery, and version 1 wrapped to it.
// FailedPrecondition naming the flag when the operators or threshold are
// not usable.
absl::Status MakeGenesisPrivate(v1::CreateService* genesis, uint64_t node_id,
                                const ledger::Certificate& node_cert,
                                const ledger::Certificate& service_cert,
                                const std::vector<std::string>& recovery_operator_cert_files = {},
                                uint32_t recovery_threshold = 0);

}  // namespace cairn::node
