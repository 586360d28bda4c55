// A private ledger's recovery key (setup/recovery_key.h and
// ledger/recovery_share.h): each operator opens only its own share; any k of
// n shares rebuild the key and fewer, repeated, foreign or altered ones are
// refused naming why; share files round-trip and malformed ones are
// refused; the genesis records the key and wraps version 1 to it; the
// governance rules give the recovery key a version only in a rotation.
#include "setup/recovery_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "apply/governance.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/recovery_share.h"
#include "ledger_fixture.h"
#include "setup/bootstrap.h"

namespace cairn::node {
namespace {

using ::testing::HasSubstr;

struct Operator {
  ledger::PrivateKey key;
  ledger::Certificate cert;
};

Operator NewOperator(const Pki& pki, const std::string& name) {
  ledger::PrivateKey key = *ledger::PrivateKey::Generate();
  ledger::UserCertificateOptions options;
  options.name = name;
  ledger::Certificate cert =
      *ledger::IssueUserCertificate(*pki.service_cert, *pki.service_key, key, options);
  return {std::move(key), std::move(cert)};
}

class RecoveryKeyTest : public ::testing::Test {
 protected:
  RecoveryKeyTest() : service_id_(pki_.service_cert->Fingerprint()) {
    for (int i = 1; i <= 3; ++i) operators_.push_back(NewOperator(pki_, absl::StrCat("op-", i)));
    record_ = *MakeRecoveryKey(Certs(), 2, service_id_);
  }

  std::vector<ledger::Certificate> Certs() const {
    std::vector<ledger::Certificate> certs;
    for (const Operator& o : operators_) certs.push_back(o.cert);
    return certs;
  }

  // Operator i's share (1-based), opened with its key.
  ledger::RecoveryShareFile ShareOf(size_t i) const {
    absl::StatusOr<ledger::RecoveryShareFile> s = ledger::OpenRecoveryShare(
        record_, service_id_, operators_[i - 1].cert, operators_[i - 1].key);
    CAIRN_CHECK_OK(s.status());
    return *std::move(s);
  }

  absl::StatusOr<ledger::PrivateKey> Rebuild(const std::vector<ledger::RecoveryShareFile>& s) {
    return RebuildRecoveryKey(record_, service_id_, s);
  }

  Pki pki_;
  std::string service_id_;
  std::vector<Operator> operators_;
  v1::RecoveryKey record_;
};

TEST_F(RecoveryKeyTest, AnyTwoOfThreeSharesRebuildTheKey) {
  EXPECT_EQ(record_.threshold(), 2u);
  ASSERT_EQ(record_.shares_size(), 3);
  for (const auto& pair : std::vector<std::pair<size_t, size_t>>{{1, 2}, {1, 3}, {3, 2}}) {
    absl::StatusOr<ledger::PrivateKey> key = Rebuild({ShareOf(pair.first), ShareOf(pair.second)});
    ASSERT_TRUE(key.ok()) << pair.first << "," << pair.second << ": " << key.status();
    EXPECT_EQ(key->PublicKeyDer(), record_.public_key_der());
  }
  absl::StatusOr<ledger::PrivateKey> all = Rebuild({ShareOf(1), ShareOf(2), ShareOf(3)});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->PublicKeyDer(), record_.public_key_der());
}

TEST_F(RecoveryKeyTest, TheRecordHoldsNothingThatOpensWithoutShares) {
  // The private key is sealed, and no share is in the clear.
  const std::string pem_marker = "PRIVATE KEY";
  EXPECT_EQ(record_.SerializeAsString().find(pem_marker), std::string::npos);
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(record_.SerializeAsString().find(ShareOf(i).share), std::string::npos);
  }
  // Shares are distinct, and each differs from the others' in every run.
  EXPECT_NE(ShareOf(1).share, ShareOf(2).share);
  const v1::RecoveryKey again = *MakeRecoveryKey(Certs(), 2, service_id_);
  EXPECT_NE(again.public_key_der(), record_.public_key_der());
}

TEST_F(RecoveryKeyTest, EachOperatorOpensOnlyItsOwnShare) {
  EXPECT_EQ(ShareOf(2).index, 2u);
  EXPECT_EQ(ShareOf(2).service_id, service_id_);
  EXPECT_EQ(ShareOf(2).recovery_key, ledger::RecoveryKeyFingerprint(record_));
  // Operator 1's key with operator 2's certificate: refused.
  absl::StatusOr<ledger::RecoveryShareFile> wrong =
      ledger::OpenRecoveryShare(record_, service_id_, operators_[1].cert, operators_[0].key);
  EXPECT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("not the key"));
  // Someone not named at creation has no share.
  const Operator stranger = NewOperator(pki_, "stranger");
  absl::StatusOr<ledger::RecoveryShareFile> none =
      ledger::OpenRecoveryShare(record_, service_id_, stranger.cert, stranger.key);
  EXPECT_TRUE(absl::IsNotFound(none.status())) << none.status();
  // A share wrapped for another service does not open for this one.
  absl::StatusOr<ledger::RecoveryShareFile> other =
      ledger::OpenRecoveryShare(record_, "another-service", operators_[0].cert, operators_[0].key);
  EXPECT_FALSE(other.ok());
}

TEST_F(RecoveryKeyTest, FewerRepeatedForeignOrAlteredSharesAreRefused) {
  absl::StatusOr<ledger::PrivateKey> one = Rebuild({ShareOf(3)});
  EXPECT_THAT(one.status().message(), HasSubstr("needs 2 of its 3 recovery shares; 1 given"));
  absl::StatusOr<ledger::PrivateKey> twice = Rebuild({ShareOf(3), ShareOf(3)});
  EXPECT_THAT(twice.status().message(), HasSubstr("given twice"));

  ledger::RecoveryShareFile foreign = ShareOf(1);
  foreign.service_id = std::string(64, 'a');
  EXPECT_THAT(Rebuild({foreign, ShareOf(2)}).status().message(), HasSubstr("of service aaaa"));

  // A share of another recovery key of the same service (made again).
  const v1::RecoveryKey other = *MakeRecoveryKey(Certs(), 2, service_id_);
  absl::StatusOr<ledger::RecoveryShareFile> other_share =
      ledger::OpenRecoveryShare(other, service_id_, operators_[0].cert, operators_[0].key);
  ASSERT_TRUE(other_share.ok());
  EXPECT_THAT(Rebuild({*other_share, ShareOf(2)}).status().message(),
              HasSubstr("not of this ledger's"));

  ledger::RecoveryShareFile unknown = ShareOf(1);
  unknown.index = 9;
  EXPECT_THAT(Rebuild({unknown, ShareOf(2)}).status().message(), HasSubstr("has no share 9"));

  // Every byte of a share matters: each flip is caught by the sealed key.
  for (size_t i = 0; i < ledger::kRecoverySecretBytes; ++i) {
    ledger::RecoveryShareFile altered = ShareOf(1);
    altered.share[i] ^= 0x01;
    absl::StatusOr<ledger::PrivateKey> key = Rebuild({altered, ShareOf(2)});
    ASSERT_FALSE(key.ok()) << "byte " << i;
    EXPECT_THAT(key.status().message(), HasSubstr("do not rebuild"));
  }
  // The right index is part of the share: another index is another point.
  ledger::RecoveryShareFile relabelled = ShareOf(3);
  relabelled.index = 1;
  EXPECT_THAT(Rebuild({relabelled, ShareOf(2)}).status().message(), HasSubstr("do not rebuild"));
}

TEST_F(RecoveryKeyTest, ThresholdsOutsideOneToNAreRefused) {
  EXPECT_FALSE(MakeRecoveryKey(Certs(), 0, service_id_).ok());
  EXPECT_FALSE(MakeRecoveryKey(Certs(), 4, service_id_).ok());
  EXPECT_FALSE(MakeRecoveryKey({}, 1, service_id_).ok());
  const v1::RecoveryKey any_one = *MakeRecoveryKey(Certs(), 1, service_id_);
  for (size_t i = 0; i < operators_.size(); ++i) {
    absl::StatusOr<ledger::RecoveryShareFile> s =
        ledger::OpenRecoveryShare(any_one, service_id_, operators_[i].cert, operators_[i].key);
    ASSERT_TRUE(s.ok());
    absl::StatusOr<ledger::PrivateKey> key = RebuildRecoveryKey(any_one, service_id_, {*s});
    ASSERT_TRUE(key.ok()) << key.status();
    EXPECT_EQ(key->PublicKeyDer(), any_one.public_key_der());
  }
}

TEST_F(RecoveryKeyTest, ShareFilesRoundTripAndMalformedOnesAreRefused) {
  const ledger::RecoveryShareFile share = ShareOf(2);
  const std::string bytes = ledger::EncodeRecoveryShareFile(share);
  absl::StatusOr<ledger::RecoveryShareFile> back = ledger::DecodeRecoveryShareFile(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->service_id, share.service_id);
  EXPECT_EQ(back->recovery_key, share.recovery_key);
  EXPECT_EQ(back->index, share.index);
  EXPECT_EQ(back->share, share.share);
  for (
      const std::string& bad : std::vector<std::string>{
          "", "[]", "{}", R"({"format":"cairn-recovery-share-v2"})",
          R"({"format":"cairn-recovery-share-v1","service_id":"s","recovery_key":"k","index":0,"share":"00"})",
          absl::StrCat(
              R"({"format":"cairn-recovery-share-v1","service_id":"s","recovery_key":"k","index":1,"share":")",
              std::string(62, '0'), R"("})"),
          absl::StrCat(
              R"({"format":"cairn-recovery-share-v1","service_id":"s","recovery_key":"k","index":1,"share":")",
              std::string(64, 'z'), R"("})")}) {
    absl::StatusOr<ledger::RecoveryShareFile> r = ledger::DecodeRecoveryShareFile(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("not a recovery share file")) << bad;
  }
}

// The genesis of a ledger created with operators records the key and wraps
// version 1 to it; the copy opens with the rebuilt key.
TEST_F(RecoveryKeyTest, TheGenesisRecordsTheKeyAndWrapsVersionOneToIt) {
  testing::TempDir dir;
  std::vector<std::string> files;
  for (size_t i = 0; i < operators_.size(); ++i) {
    files.push_back(absl::StrCat(dir.path(), "/op-", i + 1, ".pem"));
    std::ofstream(files.back()) << operators_[i].cert.ToPem();
  }
  v1::CreateService genesis;
  ASSERT_TRUE(MakeGenesisPrivate(&genesis, 1, *pki_.node_cert, *pki_.service_cert, files, 0).ok());
  ASSERT_TRUE(genesis.has_recovery_key());
  EXPECT_EQ(genesis.recovery_key().threshold(), 2u);  // a majority of 3
  ASSERT_EQ(genesis.ledger_secrets_size(), 2);
  const v1::WrappedLedgerSecret& for_recovery = genesis.ledger_secrets(1);
  EXPECT_EQ(for_recovery.node_id(), 0u);
  EXPECT_EQ(for_recovery.certificate_fingerprint(),
            ledger::RecoveryKeyFingerprint(genesis.recovery_key()));
  std::vector<ledger::RecoveryShareFile> shares;
  for (size_t i : {0, 2}) {
    shares.push_back(*ledger::OpenRecoveryShare(genesis.recovery_key(), service_id_,
                                                operators_[i].cert, operators_[i].key));
  }
  absl::StatusOr<ledger::PrivateKey> key =
      RebuildRecoveryKey(genesis.recovery_key(), service_id_, shares);
  ASSERT_TRUE(key.ok()) << key.status();
  absl::StatusOr<ledger::LedgerSecret> v1 =
      ledger::UnwrapLedgerSecretFromRecovery(for_recovery, *key, service_id_);
  ASSERT_TRUE(v1.ok()) << v1.status();
  absl::StatusOr<std::string> node_copy =
      ledger::UnwrapSecret(genesis.ledger_secrets(0).wrapped(), *pki_.node_key,
                           ledger::LedgerSecretWrapContext(1, 1, service_id_));
  ASSERT_TRUE(node_copy.ok());
  EXPECT_EQ(v1->key(), *node_copy);  // the same secret

  // Bad flags: refused, naming the flag.
  v1::CreateService refused;
  EXPECT_THAT(
      MakeGenesisPrivate(&refused, 1, *pki_.node_cert, *pki_.service_cert, files, 4).message(),
      HasSubstr("--recovery-threshold 4 is more than the 3"));
  EXPECT_THAT(
      MakeGenesisPrivate(&refused, 1, *pki_.node_cert, *pki_.service_cert, {files[0], files[0]}, 1)
          .message(),
      HasSubstr("named twice"));
  EXPECT_THAT(MakeGenesisPrivate(&refused, 1, *pki_.node_cert, *pki_.service_cert, {}, 2).message(),
              HasSubstr("--recovery-threshold needs"));
  EXPECT_FALSE(refused.has_recovery_key());
}

}  // namespace
}  // namespace cairn::node
