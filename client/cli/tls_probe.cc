// One TLS handshake with a node, to name why it closed a connection (see
// tls_probe.h). Written against OpenSSL directly: gRPC does not report the
// alert a server sent.
#include "tls_probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

#include "cairn/base/files.h"

namespace cairn::cli {
namespace {

std::string PemOf(const std::string& pem, const std::string& file) {
  if (!pem.empty()) return pem;
  return base::ReadFileToString(file, 1 << 20).value_or("");
}

// A TCP connection to "host:port" with send and receive timeouts; -1 if none.
int Connect(const std::string& address, int timeout_ms) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), address.substr(colon + 1).c_str(), &hints, &found) != 0) {
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, ::freeaddrinfo);
  const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));  // bounds connect too
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    ::close(fd);
  }
  return -1;
}

}  // namespace

std::optional<std::string> ClientCertificateRefusal(const std::string& address,
                                                    const client::Credentials& credentials) {
  const std::string cert = PemOf(credentials.cert_pem, credentials.cert_file);
  const std::string key = PemOf(credentials.key_pem, credentials.key_file);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx) return std::nullopt;
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new_mem_buf(cert.data(), cert.size()),
                                                     BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new_mem_buf(key.data(), key.size()),
                                                    BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> x509(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!x509 || !pkey || SSL_CTX_use_certificate(ctx.get(), x509.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  // Only the node's verdict on our certificate is asked here; gRPC checks
  // the node's own certificate on every real call.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kAlpn, sizeof(kAlpn));
  const int fd = Connect(address, 2000);
  if (fd < 0) return std::nullopt;
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  std::optional<std::string> refusal;
  if (ssl && SSL_set_fd(ssl.get(), fd) == 1) {
    ERR_clear_error();
    // TLS 1.3: the server judges the client's certificate after the
    // handshake is done on the client's side. One that accepts it sends its
    // HTTP/2 settings; one that refuses it sends an alert, or (gRPC) just
    // closes the connection, which ends the first read.
    char byte;
    int read = 1;
    if (SSL_connect(ssl.get()) == 1 && (read = SSL_read(ssl.get(), &byte, 1)) <= 0) {
      const unsigned long err = ERR_peek_last_error();
      const char* reason = err != 0 ? ERR_reason_error_string(err) : nullptr;
      const std::string what = reason != nullptr ? reason : "";
      if (what.find("alert") != std::string::npos) {
        refusal = "TLS alert \"" + what + "\"";
      } else if (what.find("unexpected eof") != std::string::npos ||
                 SSL_get_error(ssl.get(), read) == SSL_ERROR_ZERO_RETURN) {
        refusal = "it closed the connection right after the TLS handshake";
      }
    }
  }
  ERR_clear_error();
  ::close(fd);
  return refusal;
}

}  // namespace cairn::cli
