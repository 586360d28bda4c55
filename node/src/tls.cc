// Loading TLS material and building mutual-TLS server credentials (see tls.h).
#include "tls.h"

#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace cairn::node {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read ", what, " ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().find("-----BEGIN") == std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not PEM"));
  }
  return buf.str();
}

}  // namespace

absl::StatusOr<TlsFiles> LoadTlsFiles(const std::string& cert_file, const std::string& key_file,
                                      const std::string& service_cert_file) {
  TlsFiles files;
  auto cert = ReadFile(cert_file, "--tls-cert-file");
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(key_file, "--tls-key-file");
  if (!key.ok()) return key.status();
  auto ca = ReadFile(service_cert_file, "--service-cert-file");
  if (!ca.ok()) return ca.status();
  files.cert_pem = *std::move(cert);
  files.key_pem = *std::move(key);
  files.service_cert_pem = *std::move(ca);
  return files;
}

std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(const TlsFiles& files,
                                                                    bool require_client_cert) {
  grpc::SslServerCredentialsOptions options(
      require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = files.service_cert_pem;
  options.pem_key_cert_pairs.push_back({files.key_pem, files.cert_pem});
  return grpc::SslServerCredentials(options);
}

}  // namespace cairn::node
