// Channel construction with mutual TLS (see channel.h).
#include "cairn/client/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace cairn::client {
namespace {

constexpr int64_t kPemBytesMax = 1 << 20;

absl::StatusOr<std::string> PemFrom(const std::string& pem, const std::string& path,
                                    absl::string_view what) {
  std::string text = pem;
  if (text.empty()) {
    if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is not set"));
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
    if (static_cast<int64_t>(text.size()) > kPemBytesMax) {
      return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " is larger than 1 MiB"));
    }
  }
  if (text.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, path.empty() || !pem.empty() ? "" : " " + path, " is not PEM"));
  }
  return text;
}

}  // namespace

absl::StatusOr<LoadedCredentials> LoadCredentials(const Credentials& c) {
  LoadedCredentials out;
  auto cert = PemFrom(c.cert_pem, c.cert_file, "client certificate");
  if (!cert.ok()) return cert.status();
  auto key = PemFrom(c.key_pem, c.key_file, "client key");
  if (!key.ok()) return key.status();
  auto ca = PemFrom(c.service_cert_pem, c.service_cert_file, "service certificate");
  if (!ca.ok()) return ca.status();
  out.cert_pem = *std::move(cert);
  out.key_pem = *std::move(key);
  out.service_cert_pem = *std::move(ca);
  return out;
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& endpoint,
                                           const LoadedCredentials& credentials) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = credentials.service_cert_pem;
  options.pem_private_key = credentials.key_pem;
  options.pem_cert_chain = credentials.cert_pem;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  // A node that restarts is back within a second, not after gRPC's default
  // reconnect backoff of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // No subchannel sharing with other clients in the process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::SslCredentials(options), args);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& endpoint,
                                                           const Credentials& credentials) {
  absl::StatusOr<LoadedCredentials> loaded = LoadCredentials(credentials);
  if (!loaded.ok()) return loaded.status();
  return OpenChannel(endpoint, *loaded);
}

}  // namespace cairn::client
