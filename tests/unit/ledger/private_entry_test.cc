// Private entries (private_entry.h, docs/formats.md "Private entries v1"):
// sealing binds the txid, collection and secret version; any flipped byte,
// another secret or another place fails authentication and says nothing of
// the contents; the commitment is the documented HMAC; wrapped secrets open
// only with their recipient's key and context; a private leaf binds both the
// commitment and the ciphertext, its receipt verifies with contents and salt
// (and not without the salt), and an audit with no secret catches a changed
// ciphertext even with every segment checksum recomputed; an audit with the
// secret opens every entry and catches what a leader could sign: contents
// that do not match their commitment, a ciphertext that does not open.
#include "cairn/ledger/private_entry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "cairn/ledger/audit.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#include "cairn/ledger/sealed_audit.h"
#include "cairn/ledger/segment.h"
#include "test_ledger.h"
#include "testing/temp_dir.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kMarker[] = "private-marker-7f3a9c";

std::string Salt(char fill = '\x01') { return std::string(kContentsSaltBytes, fill); }

LedgerSecret Secret(uint32_t version = 1, char fill = 'k') {
  auto secret = LedgerSecret::FromBytes(version, std::string(kLedgerSecretBytes, fill));
  CAIRN_CHECK_OK(secret.status());
  return *secret;
}

TEST(ContentsCommitment, IsHmacSha256KeyedWithTheSalt) {
  // The test vector of docs/formats.md: salt 00 01 .. 1f, contents "hello".
  std::string salt;
  for (int i = 0; i < 32; ++i) salt.push_back(static_cast<char>(i));
  auto c = ContentsCommitment(salt, "hello");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(HashToHex(*c), "53c40272a70c15ca4ee0af4df1f155fd6c41e00ce2307d8987ecd4bb36a7e990");
  auto empty = ContentsCommitment(salt, "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(HashToHex(*empty), "d38b42096d80f45f826b44a9d5607de72496a415d3f4a1a8c88e3bb9da8dc1cb");
  // Another salt, another commitment: equal contents are not linkable.
  EXPECT_NE(*ContentsCommitment(Salt('\x02'), "hello"), *ContentsCommitment(Salt('\x03'), "hello"));
  EXPECT_EQ(ContentsCommitment("short", "hello").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SealContents, OpensWhereItWasSealedAndHidesTheContents) {
  const LedgerSecret secret = Secret();
  const TxId txid{3, 1042};
  const std::string contents = std::string("before ") + kMarker + " after";
  auto sealed = SealContents(secret, txid, "orders", Salt(), contents);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), kContentsSaltBytes + contents.size() + kSealTagBytes);
  EXPECT_THAT(*sealed, Not(HasSubstr(kMarker)));
  auto opened = OpenContents(secret, txid, "orders", *sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->contents, contents);
  EXPECT_EQ(opened->salt, Salt());
  // Empty contents seal too (the salt is always there).
  auto empty = SealContents(secret, txid, "orders", Salt(), "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(OpenContents(secret, txid, "orders", *empty)->contents, "");
}

TEST(SealContents, EveryEntryHasItsOwnNonce) {
  // Same secret, salt and contents at two txids: different ciphertexts
  // (the nonce is the txid), and each only opens at its own.
  const LedgerSecret secret = Secret();
  auto a = SealContents(secret, TxId{1, 5}, "c", Salt(), "same");
  auto b = SealContents(secret, TxId{2, 5}, "c", Salt(), "same");
  auto c = SealContents(secret, TxId{1, 6}, "c", Salt(), "same");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_NE(*b, *c);
}

TEST(SealContents, AnotherTxidCollectionVersionOrSecretFailsAuthentication) {
  const LedgerSecret secret = Secret();
  const TxId txid{3, 1042};
  auto sealed = SealContents(secret, txid, "orders", Salt(), kMarker);
  ASSERT_TRUE(sealed.ok());
  struct Case {
    const char* name;
    LedgerSecret secret;
    TxId txid;
    std::string collection;
  };
  const Case cases[] = {
      {"another term", secret, TxId{4, 1042}, "orders"},
      {"another index", secret, TxId{3, 1043}, "orders"},
      {"another collection", secret, txid, "order"},
      {"another version of the same key", Secret(2), txid, "orders"},
      {"another key", Secret(1, 'x'), txid, "orders"},
  };
  for (const Case& c : cases) {
    auto opened = OpenContents(c.secret, c.txid, c.collection, *sealed);
    ASSERT_FALSE(opened.ok()) << c.name;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_THAT(opened.status().message(), HasSubstr("fail authentication")) << c.name;
    EXPECT_THAT(opened.status().message(), Not(HasSubstr(kMarker))) << c.name;
  }
}

TEST(SealContents, AFlippedByteAnywhereFailsAuthentication) {
  const LedgerSecret secret = Secret();
  auto sealed = SealContents(secret, TxId{1, 7}, "orders", Salt(), kMarker);
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto opened = OpenContents(secret, TxId{1, 7}, "orders", bad);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  }
  for (size_t n : {size_t{0}, size_t{5}, sealed->size() - 1}) {
    EXPECT_EQ(OpenContents(secret, TxId{1, 7}, "orders", sealed->substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << "truncated to " << n;
  }
}

TEST(SealContents, RefusesWhatCannotBeSealedSafely) {
  const LedgerSecret secret = Secret();
  EXPECT_EQ(SealContents(secret, TxId{1, 1}, "c", "short salt", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
  // The nonce holds 32 bits of the term: a larger one would repeat nonces.
  auto too_late = SealContents(secret, TxId{kSealTermMax + 1, 1}, "c", Salt(), "x");
  EXPECT_EQ(too_late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(SealContents(secret, TxId{kSealTermMax, 1}, "c", Salt(), "x").ok());
  EXPECT_EQ(LedgerSecret::FromBytes(0, std::string(32, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LedgerSecret::FromBytes(1, std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LedgerSecret, GeneratedSecretsDiffer) {
  auto a = LedgerSecret::Generate(1);
  auto b = LedgerSecret::Generate(1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->key().size(), kLedgerSecretBytes);
  EXPECT_NE(a->key(), b->key());
  auto s1 = NewContentsSalt();
  auto s2 = NewContentsSalt();
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(s1->size(), kContentsSaltBytes);
  EXPECT_NE(*s1, *s2);
}

class WrapTest : public ::testing::Test {
 protected:
  testing::TestLedger ledger_;  // its node certificate and key are a recipient
  testing::TestLedger other_;
  const std::string secret_ = std::string(kLedgerSecretBytes, 's');
  const std::string context_ = "ledger-secret v1 node 1";
};

TEST_F(WrapTest, OpensOnlyWithTheRecipientsKeyAndContext) {
  auto wrapped = WrapSecret(secret_, ledger_.node_cert(), context_);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  EXPECT_THAT(*wrapped, Not(HasSubstr(secret_)));
  auto opened = UnwrapSecret(*wrapped, ledger_.node_key(), context_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, secret_);
  // Each wrap uses a fresh key pair.
  EXPECT_NE(*WrapSecret(secret_, ledger_.node_cert(), context_), *wrapped);

  auto wrong_key = UnwrapSecret(*wrapped, other_.node_key(), context_);
  EXPECT_EQ(wrong_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_key.status().message(), HasSubstr("does not open with this key"));
  EXPECT_EQ(UnwrapSecret(*wrapped, ledger_.node_key(), "ledger-secret v1 node 2").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(WrapTest, AFlippedOrMissingByteIsRefused) {
  auto wrapped = WrapSecret(secret_, ledger_.node_cert(), context_);
  ASSERT_TRUE(wrapped.ok());
  for (size_t i = 0; i < wrapped->size(); ++i) {
    std::string bad = *wrapped;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    auto opened = UnwrapSecret(bad, ledger_.node_key(), context_);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument) << "byte " << i;
  }
  EXPECT_FALSE(
      UnwrapSecret(wrapped->substr(0, wrapped->size() - 1), ledger_.node_key(), context_).ok());
  EXPECT_FALSE(UnwrapSecret("", ledger_.node_key(), context_).ok());
  EXPECT_EQ(WrapSecret("", ledger_.node_cert(), context_).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class PrivateLeafTest : public ::testing::Test {
 protected:
  PrivateLeafTest() {
    ledger_.AppendUser("orders", "public one");
    target_ = ledger_.AppendPrivateUser(secret_, "orders", kMarker, salt_);
    ledger_.AppendPrivateUser(secret_, "orders", "another", Salt('\x09'));
    ledger_.AppendSignature();
    receipt_ = ledger_.ReceiptFor(target_);
  }

  absl::Status Verify(const ReceiptExpectations& expect) {
    return VerifyReceipt(receipt_, ledger_.service_cert(), expect);
  }

  const LedgerSecret secret_ = Secret();
  const std::string salt_ = Salt('\x07');
  testing::TestLedger ledger_;
  TxId target_;
  v1::Receipt receipt_;
};

TEST_F(PrivateLeafTest, TheLeafBindsTheCommitmentAndTheCiphertext) {
  const std::string& data = ledger_.entries().at(target_.index - 1).data;
  EXPECT_THAT(data, Not(HasSubstr(kMarker)));
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(data));
  auto leaf = LeafComponentsFor(target_.term, target_.index, data);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(leaf->kind(), v1::ENTRY_KIND_PRIVATE_USER);
  EXPECT_EQ(leaf->contents_digest(), HashToString(*ContentsCommitment(salt_, kMarker)));
  EXPECT_EQ(leaf->sealed_digest(), HashToString(SealedDigest(command.user().sealed())));
  // The encoding is the user layout plus the sealed digest at the end.
  auto encoded = EncodeLeaf(*leaf);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->substr(11, 1), std::string(1, '\x05'));
  EXPECT_EQ(encoded->substr(encoded->size() - 32), leaf->sealed_digest());
}

TEST_F(PrivateLeafTest, MalformedSealedEntriesAreNotLeaves) {
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(ledger_.entries().at(target_.index - 1).data));
  v1::LogCommand clear = command;
  clear.mutable_user()->set_contents("in the clear too");
  auto leaf = LeafComponentsFor(9, 9, clear.SerializeAsString());
  EXPECT_EQ(leaf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(leaf.status().message(), HasSubstr("in the clear"));
  v1::LogCommand short_commitment = command;
  short_commitment.mutable_user()->mutable_sealed()->set_commitment("short");
  EXPECT_EQ(LeafComponentsFor(9, 9, short_commitment.SerializeAsString()).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The encoding rules tie sealed_digest to the kind both ways.
  v1::LeafComponents user = receipt_.leaf();
  user.set_kind(v1::ENTRY_KIND_USER);
  EXPECT_THAT(std::string(EncodeLeaf(user).status().message()), HasSubstr("sealed_digest"));
  v1::LeafComponents bare = receipt_.leaf();
  bare.clear_sealed_digest();
  EXPECT_THAT(std::string(EncodeLeaf(bare).status().message()), HasSubstr("sealed_digest"));
}

TEST_F(PrivateLeafTest, TheReceiptVerifiesWithContentsAndSaltOnly) {
  EXPECT_TRUE(Verify({}).ok()) << Verify({});
  EXPECT_TRUE(Verify({.contents = kMarker, .contents_salt = salt_}).ok());
  const absl::Status no_salt = Verify({.contents = kMarker});
  EXPECT_THAT(std::string(no_salt.message()), StartsWith("leaf: "));
  EXPECT_THAT(no_salt.message(), HasSubstr("contents salt"));
  // Contents hashed as a public entry's would be do not pass either.
  EXPECT_FALSE(Verify({.contents = kMarker, .contents_salt = Salt('\x08')}).ok());
  EXPECT_FALSE(Verify({.contents = "other", .contents_salt = salt_}).ok());
  // A salt offered for a public entry is a mistake worth saying.
  const v1::Receipt public_receipt = ledger_.ReceiptFor(TxId{1, target_.index - 1});
  const absl::Status salted = VerifyReceipt(public_receipt, ledger_.service_cert(),
                                            {.contents = "public one", .contents_salt = salt_});
  EXPECT_THAT(salted.message(), HasSubstr("not a private entry"));
  // Changing the sealed digest breaks the proof.
  v1::Receipt forged = receipt_;
  forged.mutable_leaf()->set_sealed_digest(std::string(32, '\0'));
  EXPECT_THAT(std::string(VerifyReceipt(forged, ledger_.service_cert()).message()),
              StartsWith("inclusion proof: "));
}

TEST_F(PrivateLeafTest, TheReceiptJsonCarriesTheKindAndSealedDigest) {
  const std::string text = ReceiptToJson(receipt_);
  EXPECT_THAT(text, HasSubstr("\"kind\": \"private_user\""));
  EXPECT_THAT(text, HasSubstr("\"sealed_digest\""));
  auto parsed = ReceiptFromJson(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->SerializeAsString(), receipt_.SerializeAsString());
  // A public receipt's JSON has no such key.
  EXPECT_THAT(ReceiptToJson(ledger_.ReceiptFor(TxId{1, target_.index - 1})),
              Not(HasSubstr("sealed_digest")));
}

TEST_F(PrivateLeafTest, AnAuditWithoutTheSecretCatchesAChangedCiphertext) {
  testing::TempDir dir;
  const uint64_t end = ledger_.entries().size();
  ledger_.WriteSegments(dir.path(), {end});
  ASSERT_TRUE(Audit(dir.path(), ledger_.service_cert()).ok());
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    std::filesystem::remove(entry.path());
  }
  // One bit of the ciphertext flipped, every segment checksum recomputed.
  std::vector<testing::TestEntry> entries = ledger_.entries();
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(entries[target_.index - 1].data));
  std::string* ciphertext = command.mutable_user()->mutable_sealed()->mutable_ciphertext();
  char& byte = (*ciphertext)[ciphertext->size() / 2];
  byte = static_cast<char>(byte ^ 0x01);
  entries[target_.index - 1].data = command.SerializeAsString();
  SegmentWriter writer(1);
  for (const testing::TestEntry& e : entries) ASSERT_TRUE(writer.Add(e.term, e.index, e.data).ok());
  ASSERT_TRUE(writer.FinishToFile(dir.path()).ok());
  auto report = Audit(dir.path(), ledger_.service_cert());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("signed root"));
}

// The audit with the secret (ledger/sealed_audit.h): every sealed entry
// opens and matches its commitment. Its planted faults are ones a leader
// could sign, so the audit without the secret passes them: contents that do
// not match the commitment, and a ciphertext that does not open.
class SealedAuditTest : public ::testing::Test {
 protected:
  SealedAuditTest() {
    v1::LogCommand share;
    share.mutable_governance()->set_timestamp_unix_ms(1);
    *share.mutable_governance()->mutable_share_ledger_secrets()->add_secrets() =
        *WrapLedgerSecretForNode(secret_, 1, ledger_.node_cert(),
                                 ledger_.service_cert().Fingerprint());
    ledger_.AppendData(share.SerializeAsString());
    ledger_.AppendUser("orders", "public one");
    ledger_.AppendPrivateUser(secret_, "orders", kMarker, Salt('\x07'));
    ledger_.AppendPrivateUser(secret_, "orders", "another", Salt('\x09'));
  }

  // The audit of the ledger as written, without and with the secret.
  absl::Status AuditWithoutSecret() { return Audit(Written(), ledger_.service_cert()).status(); }
  absl::StatusOr<uint64_t> AuditWithSecret(uint64_t node_id, const PrivateKey& key) {
    SealedContentsChecker checker(node_id, &key, ledger_.service_cert().Fingerprint());
    auto report = Audit(Written(), ledger_.service_cert(),
                        [&](absl::string_view name, const Segment& segment) {
                          return checker.Check(name, segment);
                        });
    if (!report.ok()) return report.status();
    return checker.opened();
  }

  std::string Written() {
    if (!dir_.has_value()) {
      ledger_.AppendSignature();
      dir_.emplace();
      ledger_.WriteSegments(dir_->path(), {ledger_.entries().size()});
    }
    return dir_->path();
  }

  // A sealed entry as a leader could have written it: `contents` sealed,
  // committing to `committed`.
  std::string Forged(const std::string& contents, const std::string& committed) {
    const TxId txid{ledger_.term(), ledger_.entries().size() + 1};
    v1::LogCommand command;
    v1::UserTransaction* tx = command.mutable_user();
    tx->set_collection_id("orders");
    tx->set_user_id(std::string(64, 'a'));
    tx->set_timestamp_unix_ms(2);
    v1::SealedContents* sealed = tx->mutable_sealed();
    sealed->set_secret_version(1);
    sealed->set_ciphertext(*SealContents(secret_, txid, "orders", Salt('\x05'), contents));
    sealed->set_commitment(HashToString(*ContentsCommitment(Salt('\x05'), committed)));
    return command.SerializeAsString();
  }

  const LedgerSecret secret_ = Secret();
  testing::TestLedger ledger_;
  std::optional<testing::TempDir> dir_;
};

TEST_F(SealedAuditTest, OpensEveryEntryWithTheNodesCopy) {
  absl::StatusOr<uint64_t> opened = AuditWithSecret(1, ledger_.node_key());
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, 2u);
  // Another node's key: that node was not given the version.
  const PrivateKey other = *PrivateKey::Generate();
  EXPECT_THAT(AuditWithSecret(2, other).status().message(),
              HasSubstr("node 2 was not given (or its copy does not open with this key)"));
  EXPECT_THAT(AuditWithSecret(1, other).status().message(), HasSubstr("was not given"));
}

TEST_F(SealedAuditTest, CatchesContentsThatDoNotMatchTheirCommitment) {
  const TxId forged = ledger_.AppendData(Forged(kMarker, "what the tree was told"));
  ASSERT_TRUE(AuditWithoutSecret().ok());
  absl::StatusOr<uint64_t> opened = AuditWithSecret(1, ledger_.node_key());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(),
              HasSubstr(absl::StrCat("txid ", forged.ToString(),
                                     ": the contents sealed there do not match the commitment")));
  EXPECT_THAT(opened.status().message(), Not(HasSubstr(kMarker)));
}

TEST_F(SealedAuditTest, CatchesACiphertextThatDoesNotOpen) {
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(Forged(kMarker, kMarker)));
  std::string* ciphertext = command.mutable_user()->mutable_sealed()->mutable_ciphertext();
  (*ciphertext)[0] = static_cast<char>((*ciphertext)[0] ^ 0x01);
  const TxId forged = ledger_.AppendData(command.SerializeAsString());
  ASSERT_TRUE(AuditWithoutSecret().ok());  // the leader signed it as it is
  absl::StatusOr<uint64_t> opened = AuditWithSecret(1, ledger_.node_key());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), HasSubstr(absl::StrCat("txid ", forged.ToString())));
}

}  // namespace
}  // namespace cairn::ledger
