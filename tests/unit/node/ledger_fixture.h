// A node's ledger state machine on a real RocksDB, for tests of node/ parts
// that need committed entries: an Applier over a fresh Database, with
// helpers that build the genesis, user and signature commands it applies.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "apply/applier.h"
#include "apply/signer.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/storage/database.h"
#include "testing/temp_dir.h"

namespace cairn::node {

inline int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

struct Pki {
  Pki() {
    service_key = *ledger::PrivateKey::Generate();
    service_cert = *ledger::CreateServiceCertificate(*service_key, {});
    node_key = *ledger::PrivateKey::Generate();
    ledger::NodeCertificateOptions options;
    options.node_id = 1;
    node_cert = *ledger::IssueNodeCertificate(*service_cert, *service_key, *node_key, options);
    admin_key = *ledger::PrivateKey::Generate();
    ledger::UserCertificateOptions user;
    user.name = "admin";
    admin_cert = *ledger::IssueUserCertificate(*service_cert, *service_key, *admin_key, user);
  }
  std::optional<ledger::PrivateKey> service_key, node_key, admin_key;
  std::optional<ledger::Certificate> service_cert, node_cert, admin_cert;
};

class LedgerFixture : public ::testing::Test {
 protected:
  LedgerFixture() {
    // RocksDB runs threads; re-executing the test binary is safe with them.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    db_ = *storage::Database::Open(tmp_.path() + "/db");
    applier_ = std::make_unique<Applier>(db_.get(), &governance_, *pki_.service_cert);
    CAIRN_CHECK_OK(applier_->Load());
  }

  consensus::Entry Next(std::string data) {
    return consensus::Entry{1, ++index_, std::move(data), std::nullopt};
  }
  std::string Genesis() {
    v1::LogCommand c;
    v1::CreateService* cs = c.mutable_governance()->mutable_create_service();
    cs->set_service_certificate_pem(pki_.service_cert->ToPem());
    cs->add_members()->set_node_id(1);
    cs->mutable_first_administrator()->set_user_id(pki_.admin_cert->Fingerprint());
    cs->mutable_first_administrator()->set_role(v1::ROLE_ADMINISTRATOR);
    return c.SerializeAsString();
  }
  std::string User(const std::string& contents, const std::string& key = "") {
    v1::LogCommand c;
    v1::UserTransaction* tx = c.mutable_user();
    tx->set_collection_id("docs");
    tx->set_contents(contents);
    tx->set_user_id(pki_.admin_cert->Fingerprint());
    tx->set_idempotency_key(key);
    tx->set_timestamp_unix_ms(1000 + static_cast<int64_t>(index_));
    return c.SerializeAsString();
  }
  std::string Signature() {
    SignerIdentity id{1, pki_.service_cert->Fingerprint(), &*pki_.node_cert, &*pki_.node_key};
    return *MakeSignatureCommand(id, applier_->tree(), applier_->applied_term(), NowMs());
  }

  testing::TempDir tmp_;
  Pki pki_;
  std::unique_ptr<storage::Database> db_;
  Governance governance_;
  std::unique_ptr<Applier> applier_;
  uint64_t index_ = 0;
};

}  // namespace cairn::node
