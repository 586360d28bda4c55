// The ledger state machine: entries become leaves and table rows in one
// write, retried appends become duplicates of the original, governance
// changes land, and a signature over a root this node does not hold halts
// the process (Raft §5.3 gives equal logs; the signature check proves it).
#include "applier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/database.h"
#include "cairn/storage/ledger_store.h"
#include "signer.h"
#include "testing/temp_dir.h"

namespace cairn::node {
namespace {

using ::testing::HasSubstr;

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

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

class ApplierTest : public ::testing::Test {
 protected:
  ApplierTest() {
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

TEST_F(ApplierTest, EntriesBecomeLeavesRowsAndGovernanceInOneWrite) {
  auto results = applier_->Apply({Next(""), Next(Genesis()), Next(User("a")), Next(User("b"))});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(applier_->applied_index(), 4u);
  EXPECT_EQ(applier_->tree().size(), 4u);
  EXPECT_EQ(db_->ledger().applied_index(), 4u);
  EXPECT_TRUE(governance_.created());
  EXPECT_EQ(governance_.RoleOf(pki_.admin_cert->Fingerprint()), v1::ROLE_ADMINISTRATOR);
  auto current = db_->ledger().CurrentEntry("docs");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->index, 4u);
}

TEST_F(ApplierTest, RetriedAppendIsADuplicateOfTheOriginalAndNotIndexedTwice) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a", "k1"))});
  auto results = applier_->Apply({Next(User("a", "k1")), Next(User("b", "k2"))});
  ASSERT_TRUE(results[0].duplicate_of.has_value());
  EXPECT_EQ(results[0].duplicate_of->index, 3u);
  EXPECT_FALSE(results[1].duplicate_of.has_value());
  auto summary = db_->ledger().GetCollection("docs");
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->entry_count, 2u);     // "a" once, "b" once
  EXPECT_EQ(applier_->tree().size(), 5u);  // but every entry is a leaf
}

TEST_F(ApplierTest, ValidSignatureIsRecordedAsACheckpoint) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  applier_->Apply({Next(Signature())});
  EXPECT_EQ(applier_->signed_tree_size(), 3u);
  auto latest = db_->ledger().LatestCheckpoint();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->tree_size, 3u);
  EXPECT_EQ(latest->signature.index, 4u);
}

TEST_F(ApplierTest, SignatureOverAnotherHistoryHaltsTheNode) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  // A leader whose third leaf differs signs its own root.
  v1::Checkpoint cp =
      ledger::MakeCheckpoint(pki_.service_cert->Fingerprint(), 3,
                             ledger::Sha256("some other history"), ledger::TxId{1, 3}, NowMs());
  auto signed_cp = ledger::SignCheckpoint(cp, 1, *pki_.node_key);
  ASSERT_TRUE(signed_cp.ok());
  const std::string forged =
      ledger::MakeSignatureCommand(*signed_cp, *pki_.node_cert).SerializeAsString();
  EXPECT_DEATH(applier_->Apply({Next(forged)}), "HALT.*does not hold");
}

TEST_F(ApplierTest, SignatureByANodeOfAnotherServiceHaltsTheNode) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  Pki other;
  SignerIdentity id{1, pki_.service_cert->Fingerprint(), &*other.node_cert, &*other.node_key};
  const std::string command =
      *MakeSignatureCommand(id, applier_->tree(), applier_->applied_term(), NowMs());
  EXPECT_DEATH(applier_->Apply({Next(command)}), "HALT.*node certificate");
}

TEST_F(ApplierTest, StateSurvivesReopening) {
  applier_->Apply({Next(""), Next(Genesis()), Next(User("a"))});
  applier_->Apply({Next(Signature())});
  const ledger::Hash root = applier_->tree().Root();
  applier_.reset();
  db_.reset();
  db_ = *storage::Database::Open(tmp_.path() + "/db");
  Governance governance;
  Applier reopened(db_.get(), &governance, *pki_.service_cert);
  ASSERT_TRUE(reopened.Load().ok());
  EXPECT_EQ(reopened.applied_index(), 4u);
  EXPECT_EQ(reopened.signed_tree_size(), 3u);
  EXPECT_EQ(reopened.tree().Root(), root);
  EXPECT_TRUE(governance.created());
}

}  // namespace
}  // namespace cairn::node
