// A diagnosis for a connection a node closed during or right after the TLS
// handshake (gRPC reports only "Socket closed"): one handshake made with
// OpenSSL, to read the alert the node sent.
#pragma once

#include <optional>
#include <string>

#include "cairn/client/options.h"

namespace cairn::cli {

// How the node at `address` refused `credentials`' client certificate (the
// TLS alert it sent, or that it closed the connection right after the
// handshake, as gRPC does), or nullopt when it accepts it or the probe
// cannot tell (unreachable, another failure).
std::optional<std::string> ClientCertificateRefusal(const std::string& address,
                                                    const client::Credentials& credentials);

}  // namespace cairn::cli
