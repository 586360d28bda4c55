// Checkpoints, signature transactions, consistency between checkpoints, and
// receipts: verification in order, every field tampered with is rejected
// with the check that caught it, a wrong service certificate is rejected.
#include "cairn/ledger/receipt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "cairn/base/check.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/cosignature.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/merkle.h"
#include "test_ledger.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TestLedger;

class ReceiptTest : public ::testing::Test {
 protected:
  ReceiptTest() {
    for (int i = 0; i < 5; ++i) ledger_.AppendUser("orders", "order " + std::to_string(i));
    claims_ = HashToString(Sha256("claims"));
    target_ = ledger_.AppendUser("payments", "pay 1", claims_);
    ledger_.AppendGovernance();
    ledger_.AppendInternal();
    ledger_.AppendUser("orders", "order 9");
    ledger_.AppendSignature();
    receipt_ = ledger_.ReceiptFor(target_);
  }

  absl::Status Verify(const v1::Receipt& receipt, const ReceiptExpectations& expect = {}) {
    return VerifyReceipt(receipt, ledger_.service_cert(), expect);
  }

  TestLedger ledger_;
  std::string claims_;
  TxId target_;
  v1::Receipt receipt_;
};

TEST_F(ReceiptTest, GenuineReceiptVerifiesWithAndWithoutContentsAndClaims) {
  EXPECT_TRUE(Verify(receipt_).ok()) << Verify(receipt_);
  EXPECT_TRUE(Verify(receipt_, {.contents = "pay 1"}).ok());
  EXPECT_TRUE(Verify(receipt_, {.claims_digest = claims_}).ok());
  EXPECT_TRUE(Verify(receipt_, {.contents = "pay 1", .claims_digest = claims_}).ok());
  EXPECT_EQ(receipt_.leaf_index(), target_.index - 1);
  EXPECT_EQ(receipt_.checkpoint().checkpoint().tree_size(), ledger_.entries().size() - 1);
  // Every entry kind, including the genesis and the last before the signature.
  for (uint64_t index = 1; index < ledger_.entries().size(); ++index) {
    const v1::Receipt r = ledger_.ReceiptFor(TxId{1, index});
    EXPECT_TRUE(Verify(r).ok()) << index << ": " << Verify(r);
  }
}

TEST_F(ReceiptTest, WrongContentsOrClaimsFailTheLeafCheck) {
  EXPECT_THAT(std::string(Verify(receipt_, {.contents = "pay 2"}).message()), StartsWith("leaf: "));
  EXPECT_THAT(std::string(Verify(receipt_, {.claims_digest = ""}).message()), StartsWith("leaf: "));
  EXPECT_THAT(
      std::string(Verify(receipt_, {.claims_digest = HashToString(Sha256("other"))}).message()),
      StartsWith("leaf: "));
}

TEST_F(ReceiptTest, WrongServiceCertificateIsRejectedFirst) {
  TestLedger other;
  absl::Status s = VerifyReceipt(receipt_, other.service_cert());
  EXPECT_THAT(std::string(s.message()), StartsWith("node certificate: "));
  EXPECT_THAT(s.message(), HasSubstr("does not chain"));
  // The receipt's own node certificate is no service certificate either.
  EXPECT_FALSE(VerifyReceipt(receipt_, ledger_.node_cert()).ok());
}

struct Tamper {
  const char* name;
  std::function<void(v1::Receipt&)> change;
  const char* check;  // prefix of the error: which check catches it
};

Hash Flip(const std::string& bytes) {
  Hash h = *HashFromBytes(bytes, "test");
  h[5] ^= 0x10;
  return h;
}

TEST_F(ReceiptTest, EveryTamperedFieldIsRejectedWithTheCheckThatCaughtIt) {
  TestLedger other;  // another service
  const std::string other_node_pem = other.node_cert().ToPem();
  // A second node of the same service, with its own key.
  const PrivateKey node2_key = testing::NewKey();
  const std::string node2_pem = ledger_.MakeNodeCert(2, node2_key).ToPem();
  const std::string node1_again = ledger_.MakeNodeCert(1, testing::NewKey()).ToPem();

  const std::vector<Tamper> tampers = {
      {"version", [](auto& r) { r.set_version(2); }, "receipt: "},
      {"node cert garbage", [](auto& r) { r.set_node_certificate_pem("junk"); },
       "node certificate: "},
      {"node cert of another service", [&](auto& r) { r.set_node_certificate_pem(other_node_pem); },
       "node certificate: "},
      {"node cert of another node", [&](auto& r) { r.set_node_certificate_pem(node2_pem); },
       "node certificate: it is the certificate of node 2, not of signer_node_id 1"},
      {"node cert of the same id, other key",
       [&](auto& r) { r.set_node_certificate_pem(node1_again); }, "checkpoint signature: "},
      {"leaf.encoding_version", [](auto& r) { r.mutable_leaf()->set_encoding_version(2); },
       "leaf: "},
      {"leaf.kind", [](auto& r) { r.mutable_leaf()->set_kind(v1::ENTRY_KIND_GOVERNANCE); },
       "leaf: "},
      {"leaf.txid term",
       [](auto& r) {
         r.mutable_leaf()->set_txid(TxId{2, r.leaf_index() + 1}.ToString());
       },
       "inclusion proof: "},
      {"leaf.txid index",
       [](auto& r) {
         r.mutable_leaf()->set_txid(TxId{1, r.leaf_index() + 2}.ToString());
       },
       "leaf: "},
      {"leaf.collection_id", [](auto& r) { r.mutable_leaf()->set_collection_id("orders"); },
       "inclusion proof: "},
      {"leaf.contents_digest",
       [](auto& r) {
         r.mutable_leaf()->set_contents_digest(HashToString(Flip(r.leaf().contents_digest())));
       },
       "inclusion proof: "},
      {"leaf.claims_digest removed", [](auto& r) { r.mutable_leaf()->clear_claims_digest(); },
       "inclusion proof: "},
      {"leaf.claims_digest short", [](auto& r) { r.mutable_leaf()->set_claims_digest("x"); },
       "leaf: "},
      {"leaf.user_id", [](auto& r) { r.mutable_leaf()->set_user_id(std::string(64, 'b')); },
       "inclusion proof: "},
      {"leaf.timestamp_unix_ms",
       [](auto& r) { r.mutable_leaf()->set_timestamp_unix_ms(r.leaf().timestamp_unix_ms() + 1); },
       "inclusion proof: "},
      {"leaf_index", [](auto& r) { r.set_leaf_index(r.leaf_index() + 1); }, "leaf: "},
      {"inclusion_proof element",
       [](auto& r) { r.set_inclusion_proof(0, HashToString(Flip(r.inclusion_proof(0)))); },
       "inclusion proof: "},
      {"inclusion_proof truncated", [](auto& r) { r.mutable_inclusion_proof()->RemoveLast(); },
       "inclusion proof: "},
      {"inclusion_proof extended", [](auto& r) { r.add_inclusion_proof(std::string(32, 'x')); },
       "inclusion proof: "},
      {"inclusion_proof short hash", [](auto& r) { r.set_inclusion_proof(1, "short"); },
       "inclusion proof: "},
      {"checkpoint.service_id",
       [&](auto& r) {
         r.mutable_checkpoint()->mutable_checkpoint()->set_service_id(
             other.service_cert().Fingerprint());
       },
       "checkpoint signature: service id"},
      // One more leaf keeps this proof's shape, so the proof still leads to
      // the root; the signature then fails (the signed size differs).
      {"checkpoint.tree_size + 1",
       [](auto& r) {
         auto* c = r.mutable_checkpoint()->mutable_checkpoint();
         c->set_tree_size(c->tree_size() + 1);
       },
       "checkpoint signature: "},
      {"checkpoint.tree_size * 2",
       [](auto& r) {
         auto* c = r.mutable_checkpoint()->mutable_checkpoint();
         c->set_tree_size(c->tree_size() * 2);
       },
       "inclusion proof: "},
      {"checkpoint.tree_size below the leaf",
       [](auto& r) { r.mutable_checkpoint()->mutable_checkpoint()->set_tree_size(3); },
       "inclusion proof: "},
      {"checkpoint.root_hash",
       [](auto& r) {
         auto* c = r.mutable_checkpoint()->mutable_checkpoint();
         c->set_root_hash(HashToString(Flip(c->root_hash())));
       },
       "inclusion proof: "},
      {"checkpoint.last_txid",
       [](auto& r) {
         auto* c = r.mutable_checkpoint()->mutable_checkpoint();
         c->set_last_txid(TxId{2, c->tree_size()}.ToString());
       },
       "checkpoint signature: "},
      {"checkpoint.timestamp_unix_ms",
       [](auto& r) {
         auto* c = r.mutable_checkpoint()->mutable_checkpoint();
         c->set_timestamp_unix_ms(c->timestamp_unix_ms() + 1);
       },
       "checkpoint signature: "},
      {"checkpoint.timestamp_unix_ms outside the certificate",
       [](auto& r) {
         r.mutable_checkpoint()->mutable_checkpoint()->set_timestamp_unix_ms(
             testing::kTestEpochMs + 400LL * 24 * 3600 * 1000);
       },
       "node certificate: "},
      {"checkpoint.signer_node_id", [](auto& r) { r.mutable_checkpoint()->set_signer_node_id(2); },
       "node certificate: it is the certificate of node 1, not of signer_node_id 2"},
      {"checkpoint.signature",
       [](auto& r) {
         std::string sig = r.checkpoint().signature();
         sig[sig.size() / 2] ^= 0x01;
         r.mutable_checkpoint()->set_signature(sig);
       },
       "checkpoint signature: "},
      {"checkpoint.signature empty", [](auto& r) { r.mutable_checkpoint()->clear_signature(); },
       "checkpoint signature: "},
      {"checkpoint.signature_txid before the leaves",
       [](auto& r) { r.mutable_checkpoint()->set_signature_txid("1.3"); },
       "checkpoint signature: checkpoint: signature_txid"},
      {"checkpoint.signature_txid malformed",
       [](auto& r) { r.mutable_checkpoint()->set_signature_txid("1.x"); },
       "checkpoint signature: checkpoint: signature_txid"},
  };
  for (const Tamper& t : tampers) {
    v1::Receipt r = receipt_;
    t.change(r);
    const absl::Status s = Verify(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << t.name;
    EXPECT_THAT(std::string(s.message()), StartsWith(t.check)) << t.name;
  }
}

TEST_F(ReceiptTest, BuildRejectsLeavesTheCheckpointDoesNotCover) {
  const TxId later = ledger_.AppendUser("orders", "after the signature");
  const auto leaf = LeafComponentsFor(later.term, later.index, ledger_.entries().back().data);
  auto receipt =
      BuildReceipt(*leaf, ledger_.tree(), ledger_.last_signed(), ledger_.node_cert().ToPem());
  EXPECT_THAT(receipt.status().message(), HasSubstr("not covered"));
}

// ---- Checkpoints and signature transactions --------------------------------

TEST(CheckpointTest, SignAndVerify) {
  TestLedger ledger;
  ledger.AppendUser("c", "x");
  ledger.AppendSignature();
  const v1::SignedCheckpoint& sc = ledger.last_signed();
  EXPECT_TRUE(VerifySignedCheckpoint(sc, ledger.node_cert(), ledger.service_cert()).ok());
  TestLedger other;
  EXPECT_THAT(
      std::string(VerifySignedCheckpoint(sc, ledger.node_cert(), other.service_cert()).message()),
      StartsWith("node certificate: "));
  EXPECT_THAT(
      std::string(VerifySignedCheckpoint(sc, other.node_cert(), other.service_cert()).message()),
      StartsWith("service id: "));
  v1::Checkpoint bad = sc.checkpoint();
  bad.set_tree_size(0);
  EXPECT_FALSE(SignCheckpoint(bad, 1, ledger.node_key()).ok());
}

// A user certificate from the same service CA cannot sign checkpoints, so a
// user cannot forge a receipt that verifies offline.
TEST(CheckpointTest, UserCertificatesOfTheServiceCannotSignCheckpoints) {
  TestLedger ledger;
  ledger.AppendUser("c", "x");
  ledger.AppendSignature();
  const PrivateKey user_key = *PrivateKey::Generate();
  UserCertificateOptions options;
  options.name = "mallory";
  options.now = absl::FromUnixMillis(testing::kTestEpochMs);
  const Certificate user =
      *IssueUserCertificate(ledger.service_cert(), ledger.service_key(), user_key, options);
  ASSERT_EQ(user.NodeId(), 0u);
  EXPECT_EQ(ledger.node_cert().NodeId(), 1u);
  auto forged = SignCheckpoint(ledger.last_signed().checkpoint(), 1, user_key);
  ASSERT_TRUE(forged.ok());
  EXPECT_THAT(std::string(VerifySignedCheckpoint(*forged, user, ledger.service_cert()).message()),
              HasSubstr("is not a node certificate"));
  // Nor can a user be given a node's name to pass a check by name.
  options.name = "node-1";
  EXPECT_THAT(IssueUserCertificate(ledger.service_cert(), ledger.service_key(), user_key, options)
                  .status()
                  .message(),
              HasSubstr("reserved"));
}

TEST(CheckpointTest, SignatureTransactionsAreCheckedAgainstTheLocalTree) {
  TestLedger ledger;
  for (int i = 0; i < 4; ++i) ledger.AppendUser("c", std::to_string(i));
  const TxId sig = ledger.AppendSignature();
  v1::LogCommand command;
  ASSERT_TRUE(command.ParseFromString(ledger.entries().back().data));
  auto term_at = [&](uint64_t index) -> absl::StatusOr<uint64_t> {
    return ledger.entries().at(index - 1).term;
  };
  // A replica's tree holds the leaves before the signature entry.
  MemoryMerkleStore store;
  MerkleTree replica(&store);
  for (size_t i = 0; i + 1 < ledger.entries().size(); ++i) {
    const testing::TestEntry& e = ledger.entries()[i];
    replica.Append(*LeafHashFor(e.term, e.index, e.data), store);
  }
  const v1::SignatureTransaction& tx = command.signature();
  EXPECT_TRUE(
      CheckSignatureTransaction(tx, sig.index, replica, term_at, ledger.service_cert()).ok());

  // A replica whose history differs must halt.
  MemoryMerkleStore forked_store;
  MerkleTree forked(&forked_store);
  for (size_t i = 0; i + 1 < ledger.entries().size(); ++i) {
    forked.Append(LeafHash(std::to_string(i)), forked_store);
  }
  EXPECT_EQ(CheckSignatureTransaction(tx, sig.index, forked, term_at, ledger.service_cert()).code(),
            absl::StatusCode::kFailedPrecondition);
  // The last txid's term must be the entry's.
  auto wrong_term = [](uint64_t) -> absl::StatusOr<uint64_t> { return 7; };
  EXPECT_THAT(CheckSignatureTransaction(tx, sig.index, replica, wrong_term, ledger.service_cert())
                  .message(),
              HasSubstr("last_txid"));
  // A checkpoint may not cover its own entry or later ones.
  EXPECT_FALSE(
      CheckSignatureTransaction(tx, sig.index - 1, replica, term_at, ledger.service_cert()).ok());
  TestLedger other;
  EXPECT_THAT(
      std::string(CheckSignatureTransaction(tx, sig.index, replica, term_at, other.service_cert())
                      .message()),
      StartsWith("node certificate"));
}

// ---- Consistency between checkpoints ---------------------------------------

v1::ConsistencyProof ProofBetween(const MerkleTree& tree, uint64_t from, uint64_t to) {
  v1::ConsistencyProof proof;
  proof.set_from_tree_size(from);
  proof.set_to_tree_size(to);
  const std::vector<Hash> hashes = *tree.ConsistencyProof(from, to);
  for (const Hash& h : hashes) proof.add_hashes(HashToString(h));
  return proof;
}

TEST(CheckpointConsistencyTest, LaterCheckpointsExtendEarlierOnes) {
  TestLedger ledger;
  ledger.AppendUser("c", "1");
  ledger.AppendSignature();
  const v1::Checkpoint first = ledger.last_signed().checkpoint();
  for (int i = 0; i < 6; ++i) ledger.AppendUser("c", std::to_string(i));
  ledger.set_term(3);
  ledger.AppendUser("c", "new term");
  ledger.AppendSignature();
  const v1::Checkpoint second = ledger.last_signed().checkpoint();
  const auto proof = ProofBetween(ledger.tree(), first.tree_size(), second.tree_size());
  EXPECT_TRUE(VerifyCheckpointExtends(first, second, proof).ok());
  EXPECT_TRUE(
      VerifyCheckpointExtends(second, second,
                              ProofBetween(ledger.tree(), second.tree_size(), second.tree_size()))
          .ok());

  // Rollback: the "later" one is the earlier.
  EXPECT_THAT(VerifyCheckpointExtends(second, first, proof).message(), HasSubstr("rollback"));
  // A proof for other sizes.
  EXPECT_THAT(VerifyCheckpointExtends(first, second, ProofBetween(ledger.tree(), 1, 4)).message(),
              HasSubstr("proof is from"));
  // Tampered proof.
  v1::ConsistencyProof bad = proof;
  bad.set_hashes(0, HashToString(Flip(bad.hashes(0))));
  EXPECT_THAT(VerifyCheckpointExtends(first, second, bad).message(), HasSubstr("fork"));

  // A fork: another history with the same service and sizes.
  v1::Checkpoint forked = second;
  forked.set_root_hash(HashToString(Sha256("another history")));
  EXPECT_THAT(VerifyCheckpointExtends(first, forked, proof).message(), HasSubstr("fork"));
  v1::Checkpoint same_size_other_end = second;
  same_size_other_end.set_last_txid("2." + std::to_string(second.tree_size()));
  EXPECT_THAT(
      VerifyCheckpointExtends(second, same_size_other_end,
                              ProofBetween(ledger.tree(), second.tree_size(), second.tree_size()))
          .message(),
      HasSubstr("fork"));
  // Terms never go back along the log.
  v1::Checkpoint older_term = second;
  older_term.set_last_txid("1." + std::to_string(second.tree_size()));
  v1::Checkpoint first_term3 = first;
  first_term3.set_last_txid("3." + std::to_string(first.tree_size()));
  EXPECT_THAT(VerifyCheckpointExtends(first_term3, older_term, proof).message(), HasSubstr("fork"));
  // Another service.
  TestLedger other;
  v1::Checkpoint other_service = second;
  other_service.set_service_id(other.service_cert().Fingerprint());
  EXPECT_THAT(VerifyCheckpointExtends(first, other_service, proof).message(),
              HasSubstr("different services"));
}

}  // namespace
}  // namespace cairn::ledger

// ---- Archive cosignatures (docs/formats.md "Archive cosignature v1") -------

namespace cairn::ledger {
namespace {

v1::ArchiveCosignature Cosigned(TestLedger& ledger) {
  ledger.AppendUser("c", "x");
  ledger.AppendSignature();
  v1::ArchiveCosignature c;
  *c.mutable_checkpoint() = ledger.last_signed().checkpoint();
  c.set_signature_txid("1.3");
  c.set_region("paired");
  c.set_timestamp_unix_ms(ledger.last_signed().checkpoint().timestamp_unix_ms() + 5);
  CAIRN_CHECK_OK(
      Cosign(&c, ledger.node_cert().NodeId(), ledger.node_key(), ledger.node_cert().ToPem()));
  return c;
}

TEST(CosignatureTest, VerifiesWithTheServiceCertificateOnly) {
  TestLedger ledger;
  const v1::ArchiveCosignature c = Cosigned(ledger);
  EXPECT_TRUE(VerifyCosignature(c, ledger.service_cert()).ok())
      << VerifyCosignature(c, ledger.service_cert());
  TestLedger other;
  EXPECT_THAT(std::string(VerifyCosignature(c, other.service_cert()).message()),
              HasSubstr("node certificate"));
}

TEST(CosignatureTest, EveryStatementFieldIsSigned) {
  TestLedger ledger;
  const v1::ArchiveCosignature genuine = Cosigned(ledger);
  std::vector<std::function<void(v1::ArchiveCosignature*)>> tampers = {
      [](auto* c) { c->mutable_checkpoint()->set_tree_size(c->checkpoint().tree_size() + 1); },
      [](auto* c) { c->mutable_checkpoint()->set_timestamp_unix_ms(7); },
      [](auto* c) { c->set_signature_txid("1.4"); },
      [](auto* c) { c->set_region("elsewhere"); },
      [](auto* c) { c->set_timestamp_unix_ms(c->timestamp_unix_ms() + 1); },
      [](auto* c) {
        std::string sig = c->signature();
        sig[sig.size() / 2] ^= 1;
        c->set_signature(sig);
      },
  };
  for (size_t i = 0; i < tampers.size(); ++i) {
    v1::ArchiveCosignature c = genuine;
    tampers[i](&c);
    const absl::Status s = VerifyCosignature(c, ledger.service_cert());
    EXPECT_FALSE(s.ok()) << "tamper " << i;
    EXPECT_THAT(std::string(s.message()), HasSubstr("signature")) << "tamper " << i << ": " << s;
  }
  // A signer id that is not the certificate's.
  v1::ArchiveCosignature c = genuine;
  c.set_signer_node_id(c.signer_node_id() + 1);
  EXPECT_THAT(std::string(VerifyCosignature(c, ledger.service_cert()).message()),
              HasSubstr("it is the certificate of node 1, not of signer_node_id 2"));
}

// The statement's bytes are fixed by docs/formats.md: magic, then
// length-prefixed checkpoint encoding, txid and region, then the time.
TEST(CosignatureTest, StatementLayout) {
  TestLedger ledger;
  const v1::ArchiveCosignature c = Cosigned(ledger);
  absl::StatusOr<std::string> st = CosignatureStatement(c);
  ASSERT_TRUE(st.ok());
  absl::StatusOr<std::string> cp = EncodeCheckpoint(c.checkpoint());
  ASSERT_TRUE(cp.ok());
  std::string expected = "cairn-archive-cosignature-v1\n";
  expected += std::string("\0\0\0\x73", 4) + *cp;
  expected += std::string("\0\0\0\x03", 4) + "1.3";
  expected += std::string("\0\0\0\x06", 4) + "paired";
  for (int shift = 56; shift >= 0; shift -= 8) {
    expected.push_back(static_cast<char>((c.timestamp_unix_ms() >> shift) & 0xff));
  }
  EXPECT_EQ(*st, expected);
  EXPECT_EQ(cp->size(), 115u);
}

SnapshotAttestation Attested(TestLedger& ledger) {
  SnapshotAttestation a;
  a.index = 4711;
  a.term = 3;
  a.payload_sha256 = std::string(32, '\x5a');
  a.payload_bytes = 123456;
  a.region = "paired";
  a.timestamp_unix_ms = ledger.last_signed().checkpoint().timestamp_unix_ms() + 5;
  CAIRN_CHECK_OK(
      SignSnapshot(&a, ledger.node_cert().NodeId(), ledger.node_key(), ledger.node_cert().ToPem()));
  return a;
}

TEST(SnapshotAttestationTest, EveryFieldIsSignedAndTheSignerChecked) {
  TestLedger ledger;
  ledger.AppendUser("c", "x");
  ledger.AppendSignature();
  const SnapshotAttestation genuine = Attested(ledger);
  ASSERT_TRUE(VerifySnapshotAttestation(genuine, ledger.service_cert()).ok())
      << VerifySnapshotAttestation(genuine, ledger.service_cert());
  std::vector<std::function<void(SnapshotAttestation*)>> tampers = {
      [](auto* a) { ++a->index; },
      [](auto* a) { ++a->term; },
      [](auto* a) { a->payload_sha256[31] ^= 1; },
      [](auto* a) { ++a->payload_bytes; },
      [](auto* a) { a->region = "elsewhere"; },
      [](auto* a) { ++a->timestamp_unix_ms; },
      [](auto* a) { a->signature[a->signature.size() / 2] ^= 1; },
  };
  for (size_t i = 0; i < tampers.size(); ++i) {
    SnapshotAttestation a = genuine;
    tampers[i](&a);
    const absl::Status s = VerifySnapshotAttestation(a, ledger.service_cert());
    EXPECT_FALSE(s.ok()) << "tamper " << i;
    EXPECT_THAT(std::string(s.message()), HasSubstr("signature")) << "tamper " << i << ": " << s;
  }
  SnapshotAttestation a = genuine;
  ++a.signer_node_id;
  EXPECT_THAT(std::string(VerifySnapshotAttestation(a, ledger.service_cert()).message()),
              HasSubstr("it is the certificate of node 1, not of signer_node_id 2"));
  a = genuine;
  a.payload_sha256.resize(31);
  EXPECT_THAT(std::string(VerifySnapshotAttestation(a, ledger.service_cert()).message()),
              HasSubstr("not 32"));
  TestLedger other;
  EXPECT_THAT(std::string(VerifySnapshotAttestation(genuine, other.service_cert()).message()),
              HasSubstr("node certificate"));
}

// The statement's bytes are fixed by docs/formats.md.
TEST(SnapshotAttestationTest, StatementLayout) {
  TestLedger ledger;
  ledger.AppendUser("c", "x");
  ledger.AppendSignature();
  const SnapshotAttestation a = Attested(ledger);
  auto u64 = [](uint64_t v) {
    std::string out;
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
    return out;
  };
  std::string expected = "cairn-archive-snapshot-v1\n";
  expected += u64(4711) + u64(3) + u64(123456);
  expected += std::string("\0\0\0\x20", 4) + std::string(32, '\x5a');
  expected += std::string("\0\0\0\x06", 4) + "paired";
  expected += u64(static_cast<uint64_t>(a.timestamp_unix_ms));
  EXPECT_EQ(SnapshotStatement(a), expected);
}

}  // namespace
}  // namespace cairn::ledger
