// Caller identification from the TLS peer certificate (see auth.h).
#include "auth.h"

#include <openssl/x509v3.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cairn/ledger/identity.h"

namespace cairn::node {
namespace {

// The node id of a node certificate: CN "node-<id>" and serverAuth usage
// (user certificates carry clientAuth only). 0 for anything else.
uint64_t NodeIdOf(const ledger::Certificate& cert) {
  absl::string_view cn = cert.CommonName();
  uint64_t id = 0;
  if (!absl::ConsumePrefix(&cn, "node-") || !absl::SimpleAtoi(cn, &id)) return 0;
  const uint32_t xku = X509_get_extended_key_usage(cert.get());
  return (xku != UINT32_MAX && (xku & XKU_SSL_SERVER) != 0) ? id : 0;
}

}  // namespace

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
  Caller caller{cert->Fingerprint(), NodeIdOf(*cert)};
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= cache_entries_max_) cache_.clear();
  cache_.emplace(std::move(pem), caller);
  return caller;
}

}  // namespace cairn::node
