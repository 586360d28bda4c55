// Loading TLS material and building mutual-TLS server credentials (see tls.h).
#include "security/tls.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

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

absl::Status RequireTls13() {
  // OpenSSL initializes once: run that now (with the machine's config file),
  // so that nothing later replaces what is loaded below.
  if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, nullptr) != 1) {
    return absl::InternalError("OpenSSL initialization failed");
  }
  // "Protocol = -TLSv1.2" sets SSL_OP_NO_TLSv1_2, which holds even though
  // gRPC sets its own minimum version (TLS 1.2) on each context afterwards.
  static constexpr char kSettings[] =
      "cairn_conf = cairn_init\n"
      "[cairn_init]\n"
      "ssl_conf = cairn_ssl\n"
      "[cairn_ssl]\n"
      "system_default = cairn_tls\n"
      "[cairn_tls]\n"
      "MinProtocol = TLSv1.3\n"
      "Protocol = -TLSv1.2\n";
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(kSettings, -1), &BIO_free);
  std::unique_ptr<CONF, decltype(&NCONF_free)> conf(NCONF_new(nullptr), &NCONF_free);
  long error_line = 0;
  if (!bio || !conf || NCONF_load_bio(conf.get(), bio.get(), &error_line) != 1 ||
      CONF_modules_load(conf.get(), "cairn_conf", 0) != 1) {
    char reason[256] = "no detail from OpenSSL";
    if (const unsigned long code = ERR_get_error(); code != 0) {
      ERR_error_string_n(code, reason, sizeof(reason));
    }
    ERR_clear_error();
    return absl::InternalError(
        absl::StrCat("cannot load the TLS 1.3-only settings into OpenSSL: ", reason));
  }
  return absl::OkStatus();
}

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
