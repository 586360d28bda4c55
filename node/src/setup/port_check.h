// Refusing to share a listening port. gRPC binds with SO_REUSEPORT, which
// lets a second process listen on a port another already serves and take
// part of its connections, silently. A node checks before it listens that
// nothing answers on the address; it cannot simply bind without
// SO_REUSEPORT, because then a restarted node could not bind while the
// kernel still holds its previous connections on that port. The check and
// the bind are two steps: a process that starts listening in between is not
// caught (a narrow window at startup; the check is for the common mistake of
// two nodes configured with one port, not for a hostile local process).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace cairn::node {

// OK when nothing accepts TCP connections at `address` ("host:port"; a
// wildcard host is checked on loopback). FailedPrecondition naming `flag`
// and the address when something does; OK when the address cannot be
// resolved or checked (listening then reports the real problem).
absl::Status CheckNobodyListens(const std::string& address, const std::string& flag);

}  // namespace cairn::node
