// Test channels (see stubs.h).
#include "testing/stubs.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "testing/process.h"

namespace cairn::testing {

std::shared_ptr<grpc::Channel> Channel(const std::string& address, const CertFiles& creds,
                                       const std::string& service_cert_file) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFileOrEmpty(service_cert_file);
  if (!creds.cert.empty()) {
    options.pem_cert_chain = ReadFileOrEmpty(creds.cert);
    options.pem_private_key = ReadFileOrEmpty(creds.key);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), args);
}

}  // namespace cairn::testing
