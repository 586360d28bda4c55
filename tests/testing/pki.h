// A throwaway service identity for tests: a service CA and node and user
// certificates issued by it, written as PEM files into a directory.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::testing {

struct CertFiles {
  std::string cert;
  std::string key;
};

class TestPki {
 public:
  // Creates the service CA in `dir` (which must exist).
  explicit TestPki(std::string dir);

  const std::string& service_cert() const { return service_cert_; }
  // Issues (once) and returns the certificate files of node `id`.
  CertFiles Node(uint64_t id);
  // Issues (once) and returns the certificate files of user `name`.
  CertFiles User(const std::string& name);
  // The user_id (certificate fingerprint) of user `name`.
  std::string UserId(const std::string& name);
  // A second, unrelated CA with one user, for "wrong CA" tests.
  CertFiles ForeignUser();

 private:
  std::string dir_;
  std::string service_cert_;
  std::string service_key_;
};

}  // namespace cairn::testing
