// A private ledger's secrets on a node (apply/ledger_secrets.h): the genesis
// gives its creator version 1 and no one else; applied entries and a reload
// keep it; sealing touches user entries only, and they open again; retries
// of sealed appends are told from reuses by the keyed request digest; a node
// that lacks the newest version refuses to seal; a copy that does not open
// is reported; the governance rules refuse a skipped version and a secret
// on a public ledger.
#include "apply/ledger_secrets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/idempotency.h"
#include "ledger_fixture.h"
#include "setup/bootstrap.h"
#include "setup/recovery_key.h"

namespace cairn::node {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class LedgerSecretsTest : public LedgerFixture {
 protected:
  LedgerSecretsTest() : secrets_(1, pki_.service_cert->Fingerprint(), &*pki_.node_key) {
    applier_->set_ledger_secrets(&secrets_);
  }

  std::string PrivateGenesis() {
    v1::LogCommand c;
    CAIRN_CHECK(c.ParseFromString(Genesis()));
    CAIRN_CHECK_OK(MakeGenesisPrivate(c.mutable_governance()->mutable_create_service(), 1,
                                      *pki_.node_cert, *pki_.service_cert));
    return c.SerializeAsString();
  }

  // A second node: its own key and certificate.
  struct OtherNode {
    explicit OtherNode(const Pki& pki) {
      key = *ledger::PrivateKey::Generate();
      ledger::NodeCertificateOptions options;
      options.node_id = 2;
      cert = *ledger::IssueNodeCertificate(*pki.service_cert, *pki.service_key, *key, options);
    }
    std::optional<ledger::PrivateKey> key;
    std::optional<ledger::Certificate> cert;
  };

  // A ShareLedgerSecrets giving `version` of a new secret to node `node_id`
  // at `cert`: the leader's own share, or an Administrator's rotation.
  std::string Share(uint32_t version, uint64_t node_id, const ledger::Certificate& cert,
                    bool rotation = false) {
    auto secret = ledger::LedgerSecret::Generate(version);
    v1::LogCommand c;
    if (rotation) c.mutable_governance()->set_user_id(pki_.admin_cert->Fingerprint());
    v1::WrappedLedgerSecret* w =
        c.mutable_governance()->mutable_share_ledger_secrets()->add_secrets();
    w->set_version(version);
    w->set_node_id(node_id);
    w->set_certificate_fingerprint(cert.Fingerprint());
    w->set_wrapped(*ledger::WrapSecret(
        secret->key(), cert,
        ledger::LedgerSecretWrapContext(version, node_id, pki_.service_cert->Fingerprint())));
    return c.SerializeAsString();
  }

  LedgerSecrets secrets_;
};

TEST_F(LedgerSecretsTest, TheGenesisGivesItsCreatorVersionOneAndNoOneElse) {
  applier_->Apply({Next(""), Next(PrivateGenesis())});
  EXPECT_TRUE(secrets_.private_ledger());
  EXPECT_THAT(secrets_.versions(), ElementsAre(1u));
  EXPECT_EQ(secrets_.newest_version(), 1u);
  OtherNode other(pki_);
  LedgerSecrets theirs(2, pki_.service_cert->Fingerprint(), &*other.key);
  EXPECT_TRUE(theirs.Refresh(governance_).ok());
  EXPECT_TRUE(theirs.private_ledger());
  EXPECT_THAT(theirs.versions(), IsEmpty());
  EXPECT_EQ(theirs.Get(1).status().code(), absl::StatusCode::kUnavailable);
  // Once a copy is recorded for it, it holds version 1 too (a stand-in
  // secret here: what is checked is whose copy opens).
  applier_->Apply({Next(Share(1, 2, *other.cert))});
  EXPECT_TRUE(theirs.Refresh(governance_).ok());
  EXPECT_THAT(theirs.versions(), ElementsAre(1u));
}

TEST_F(LedgerSecretsTest, SealingTouchesUserEntriesOnlyAndTheyOpenAfterAReload) {
  applier_->Apply({Next(""), Next(PrivateGenesis())});
  const std::string plain = User("the contents", "key-1");
  const ledger::TxId txid{1, index_ + 1};
  auto sealed = secrets_.SealCommand(txid, plain);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_THAT(*sealed, ::testing::Not(HasSubstr("the contents")));
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(*sealed));
  EXPECT_TRUE(command.user().contents().empty());
  EXPECT_EQ(command.user().sealed().secret_version(), 1u);
  v1::LogCommand original;
  ASSERT_TRUE(original.ParseFromString(plain));
  auto digest = secrets_.RequestDigest(original.user());
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(IdentityOf(command.user()).digest, *digest);
  EXPECT_NE(IdentityOf(original.user()).digest, *digest);  // keyed, not the plain one
  // A digest the caller computed already (the append's identity) is stored
  // as it is, not computed again.
  ledger::Hash given{};
  given[0] = 0x42;
  auto with_given = secrets_.SealCommand(txid, plain, given);
  ASSERT_TRUE(with_given.ok()) << with_given.status();
  v1::LogCommand given_command;
  ASSERT_TRUE(given_command.ParseFromString(*with_given));
  EXPECT_EQ(IdentityOf(given_command.user()).digest, given);

  // Governance passes as it is.
  const std::string governance = Share(1, 1, *pki_.node_cert);
  EXPECT_EQ(*secrets_.SealCommand(txid, governance), governance);

  applier_->Apply({Next(*sealed)});
  auto stored = db_->ledger().Get(txid.index);
  ASSERT_TRUE(stored.ok());
  EXPECT_THAT(stored->data, ::testing::Not(HasSubstr("the contents")));
  // A restart: a new holder, refreshed when the applier loads.
  LedgerSecrets reloaded(1, pki_.service_cert->Fingerprint(), &*pki_.node_key);
  Governance governance_again;
  Applier again(db_.get(), &governance_again, *pki_.service_cert);
  again.set_ledger_secrets(&reloaded);
  ASSERT_TRUE(again.Load().ok());
  ASSERT_TRUE(command.ParseFromString(stored->data));
  auto opened = reloaded.Open(txid, command.user());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->contents, "the contents");
}

TEST_F(LedgerSecretsTest, SealedRetriesAreDuplicatesAndOtherContentsAreKeyReuses) {
  applier_->Apply({Next(""), Next(PrivateGenesis())});
  auto seal = [&](const std::string& contents) {
    return *secrets_.SealCommand(ledger::TxId{1, index_ + 1}, User(contents, "key-7"));
  };
  auto first = applier_->Apply({Next(seal("same"))});
  auto retry = applier_->Apply({Next(seal("same"))});
  auto other = applier_->Apply({Next(seal("different"))});
  ASSERT_EQ(retry.size(), 1u);
  ASSERT_TRUE(retry[0].duplicate_of.has_value());
  EXPECT_EQ(*retry[0].duplicate_of, first[0].txid);
  ASSERT_TRUE(other[0].key_held_by.has_value());
  EXPECT_EQ(*other[0].key_held_by, first[0].txid);
}

TEST_F(LedgerSecretsTest, APublicLedgerIsLeftAlone) {
  applier_->Apply({Next(""), Next(Genesis())});
  EXPECT_FALSE(secrets_.private_ledger());
  const std::string plain = User("in the clear");
  EXPECT_EQ(*secrets_.SealCommand(ledger::TxId{1, 9}, plain), plain);
  v1::GovernanceTransaction share;
  share.mutable_share_ledger_secrets();
  EXPECT_EQ(governance_.Validate(share).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LedgerSecretsTest, WithoutTheNewestVersionANodeDoesNotSeal) {
  applier_->Apply({Next(""), Next(PrivateGenesis())});
  OtherNode other(pki_);
  // Version 2 exists, given to node 2 only: node 1 must not seal with 1.
  applier_->Apply({Next(Share(2, 2, *other.cert, /*rotation=*/true))});
  EXPECT_EQ(secrets_.newest_version(), 2u);
  auto sealed = secrets_.SealCommand(ledger::TxId{1, 50}, User("x"));
  EXPECT_EQ(sealed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sealed.status().message(), HasSubstr("version 2"));
  // A version that skips one is refused before it is proposed.
  v1::LogCommand skip;
  ASSERT_TRUE(skip.ParseFromString(Share(4, 2, *other.cert)));
  EXPECT_EQ(governance_.Validate(skip.governance()).code(), absl::StatusCode::kFailedPrecondition);
}

// Node id 0 stands for the recovery key: only a rotation of a ledger that
// has one may give it a version, the new one; the key survives a reload.
v1::GovernanceTransaction RecoveryKeyShare(const std::string& share) {
  v1::LogCommand c;
  CAIRN_CHECK(c.ParseFromString(share));
  c.mutable_governance()->mutable_share_ledger_secrets()->mutable_secrets(0)->set_node_id(0);
  return c.governance();
}

TEST_F(LedgerSecretsTest, WithoutARecoveryKeyNoVersionGoesToNodeZero) {
  applier_->Apply({Next(""), Next(PrivateGenesis())});
  EXPECT_THAT(governance_.Validate(RecoveryKeyShare(Share(2, 1, *pki_.node_cert, true))).message(),
              HasSubstr("0, the recovery key, only in a rotation of a ledger that has one"));
}

TEST_F(LedgerSecretsTest, OnlyARotationGivesTheRecoveryKeyAVersion) {
  const auto recovery_share = [&](uint32_t version, bool rotation) {
    return RecoveryKeyShare(Share(version, 1, *pki_.node_cert, rotation));
  };
  v1::LogCommand genesis;
  ASSERT_TRUE(genesis.ParseFromString(PrivateGenesis()));
  ledger::UserCertificateOptions op;
  op.name = "operator";
  const ledger::PrivateKey op_key = *ledger::PrivateKey::Generate();
  const ledger::Certificate op_cert =
      *ledger::IssueUserCertificate(*pki_.service_cert, *pki_.service_key, op_key, op);
  *genesis.mutable_governance()->mutable_create_service()->mutable_recovery_key() =
      *MakeRecoveryKey({op_cert}, 1, pki_.service_cert->Fingerprint());
  applier_->Apply({Next(""), Next(genesis.SerializeAsString())});
  ASSERT_TRUE(governance_.recovery_key().has_value());
  EXPECT_TRUE(governance_.Validate(recovery_share(2, true)).ok());
  EXPECT_FALSE(governance_.Validate(recovery_share(1, false)).ok());  // the leader's share
  EXPECT_FALSE(governance_.Validate(recovery_share(3, true)).ok());   // skips version 2
  Governance reloaded;
  ASSERT_TRUE(reloaded.Load(db_->ledger()).ok());
  ASSERT_TRUE(reloaded.recovery_key().has_value());
  EXPECT_EQ(reloaded.recovery_key()->public_key_der(),
            governance_.recovery_key()->public_key_der());
}

TEST_F(LedgerSecretsTest, ARotationOvertakenByAnotherIsIgnoredWhole) {
  applier_->Apply({Next(""), Next(PrivateGenesis())});
  OtherNode other(pki_);
  // Two rotations to version 2 proposed at once (say, across a leader
  // change): the first applied starts it; the second, a different secret
  // under the same version, must give no one a copy.
  applier_->Apply({Next(Share(2, 1, *pki_.node_cert, /*rotation=*/true))});
  applier_->Apply({Next(Share(2, 2, *other.cert, /*rotation=*/true))});
  EXPECT_EQ(governance_.newest_ledger_secret_version(), 2u);
  EXPECT_TRUE(governance_.HasLedgerSecret(1, 2));
  EXPECT_FALSE(governance_.HasLedgerSecret(2, 2));
  // A leader's share of a version the ledger has not started is ignored too.
  applier_->Apply({Next(Share(3, 2, *other.cert))});
  EXPECT_EQ(governance_.newest_ledger_secret_version(), 2u);
  EXPECT_THAT(secrets_.versions(), ElementsAre(1u, 2u));
}

TEST_F(LedgerSecretsTest, ACopyThatDoesNotOpenIsReported) {
  OtherNode other(pki_);
  v1::LogCommand genesis;
  ASSERT_TRUE(genesis.ParseFromString(PrivateGenesis()));
  // The genesis copy claims node 1 but was wrapped to node 2's key.
  v1::CreateService* cs = genesis.mutable_governance()->mutable_create_service();
  v1::LogCommand wrong;
  ASSERT_TRUE(wrong.ParseFromString(Share(1, 1, *other.cert)));
  *cs->mutable_ledger_secrets(0) = wrong.governance().share_ledger_secrets().secrets(0);
  applier_->Apply({Next(""), Next(genesis.SerializeAsString())});
  const absl::Status refreshed = secrets_.Refresh(governance_);
  EXPECT_EQ(refreshed.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refreshed.message(), HasSubstr("version 1"));
  EXPECT_THAT(secrets_.versions(), IsEmpty());
}

}  // namespace
}  // namespace cairn::node
