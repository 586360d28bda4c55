// Caller identification from the TLS peer certificate (see auth.h).
#include "security/auth.h"

#include "absl/strings/str_cat.h"
#include "cairn/ledger/identity.h"

namespace cairn::node {

absl::StatusOr<Caller> CallerIdentifier::Identify(const grpc::ServerContextBase& context) {
  const auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a client certificate issued by the service is required");
  }
  const auto pems = auth->FindPropertyValues("x509_pem_cert");
  if (pems.empty()) {
    return absl::UnauthenticatedError("the TLS session carries no client certificate");
  }
  std::string pem(pems.front().data(), pems.front().size());
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(pem); it != cache_.end()) return it->second;
  }
  auto cert = ledger::Certificate::FromPem(pem);
  if (!cert.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate does not parse: ", cert.status().message()));
  }
  Caller caller{cert->Fingerprint(), cert->NodeId()};
  absl::MutexLock lock(&mu_);
  if (caller.node_id != 0) {
    if (node_certs_.size() >= cache_entries_max_) node_certs_.clear();
    node_certs_[caller.node_id] = pem;
  }
  if (cache_.size() >= cache_entries_max_) cache_.clear();
  cache_.emplace(std::move(pem), caller);
  return caller;
}

std::optional<std::string> CallerIdentifier::NodeCertificatePem(uint64_t node_id) const {
  absl::MutexLock lock(&mu_);
  auto it = node_certs_.find(node_id);
  if (it == node_certs_.end()) return std::nullopt;
  return it->second;
}

}  // namespace cairn::node
