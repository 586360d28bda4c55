// Test PKI built with the product's own identity code (see pki.h).
#include "testing/pki.h"

#include <filesystem>

#include "cairn/base/check.h"
#include "cairn/ledger/identity.h"

namespace cairn::testing {
namespace {

// Issues <dir>/<name>.{pem,key} once; later calls reuse the files.
template <typename Issue>
CertFiles IssueOnce(const std::string& dir, const std::string& name, Issue issue) {
  CertFiles files{dir + "/" + name + ".pem", dir + "/" + name + ".key"};
  if (std::filesystem::exists(files.cert)) return files;
  auto key = ledger::PrivateKey::Generate();
  CAIRN_CHECK_OK(key.status());
  auto cert = issue(*key);
  CAIRN_CHECK_OK(cert.status()) << name;
  CAIRN_CHECK_OK(ledger::WriteKeyAndCertificate(dir, name, *key, *cert));
  return files;
}

CertFiles CreateCa(const std::string& dir, const std::string& name) {
  return IssueOnce(dir, name, [&](const ledger::PrivateKey& key) {
    ledger::ServiceCertificateOptions options;
    options.common_name = "Cairn test " + name;
    return ledger::CreateServiceCertificate(key, options);
  });
}

CertFiles IssueUser(const std::string& dir, const std::string& ca_name, const std::string& name) {
  auto ca_cert = ledger::ReadCertificateFile(dir + "/" + ca_name + ".pem");
  auto ca_key = ledger::ReadPrivateKeyFile(dir + "/" + ca_name + ".key");
  CAIRN_CHECK_OK(ca_cert.status());
  CAIRN_CHECK_OK(ca_key.status());
  return IssueOnce(dir, name, [&](const ledger::PrivateKey& key) {
    ledger::UserCertificateOptions options;
    options.name = name;
    return ledger::IssueUserCertificate(*ca_cert, *ca_key, key, options);
  });
}

}  // namespace

TestPki::TestPki(std::string dir) : dir_(std::move(dir)) {
  const CertFiles ca = CreateCa(dir_, "service");
  service_cert_ = ca.cert;
  service_key_ = ca.key;
}

CertFiles TestPki::Node(uint64_t id) {
  auto ca_cert = ledger::ReadCertificateFile(service_cert_);
  auto ca_key = ledger::ReadPrivateKeyFile(service_key_);
  CAIRN_CHECK_OK(ca_cert.status());
  CAIRN_CHECK_OK(ca_key.status());
  return IssueOnce(dir_, "node-" + std::to_string(id), [&](const ledger::PrivateKey& key) {
    ledger::NodeCertificateOptions options;
    options.node_id = id;
    return ledger::IssueNodeCertificate(*ca_cert, *ca_key, key, options);
  });
}

CertFiles TestPki::User(const std::string& name) {
  return IssueUser(dir_, "service", "user-" + name);
}

std::string TestPki::UserId(const std::string& name) {
  auto cert = ledger::ReadCertificateFile(User(name).cert);
  CAIRN_CHECK_OK(cert.status());
  return cert->Fingerprint();
}

CertFiles TestPki::ForeignUser() {
  CreateCa(dir_, "foreign-ca");
  return IssueUser(dir_, "foreign-ca", "foreign-user");
}

}  // namespace cairn::testing
