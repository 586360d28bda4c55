// A small, real ledger for tests: a service identity, a node identity, and a
// log of user, governance, internal and signature entries applied to a
// Merkle tree exactly as the node does (LeafComponentsFor -> LeafHashOf ->
// MerkleTree::Append), with signed checkpoints. Receipts, segments and
// audits are built from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "cairn/base/check.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/private_entry.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/segment.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::testing {

inline constexpr int64_t kTestEpochMs = 1'700'000'000'000;

struct TestEntry {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string data;  // serialized cairn.v1.LogCommand ("" for internal)
};

inline ledger::PrivateKey NewKey() {
  auto key = ledger::PrivateKey::Generate();
  CAIRN_CHECK_OK(key.status());
  return std::move(*key);
}

class TestLedger {
 public:
  explicit TestLedger(uint64_t node_id = 1)
      : service_key_(NewKey()),
        service_cert_(MakeServiceCert(service_key_)),
        node_key_(NewKey()),
        node_cert_(MakeNodeCert(node_id, node_key_)),
        node_id_(node_id) {
    v1::LogCommand genesis;
    genesis.mutable_governance()->set_timestamp_unix_ms(Now());
    genesis.mutable_governance()->mutable_create_service()->set_service_certificate_pem(
        service_cert_.ToPem());
    Append(genesis);
  }

  // A node certificate of this service for another node (or key).
  ledger::Certificate MakeNodeCert(uint64_t node_id, const ledger::PrivateKey& key) const {
    ledger::NodeCertificateOptions options;
    options.node_id = node_id;
    options.now = absl::FromUnixMillis(kTestEpochMs);
    auto cert = ledger::IssueNodeCertificate(service_cert_, service_key_, key, options);
    CAIRN_CHECK_OK(cert.status());
    return *cert;
  }

  void set_term(uint64_t term) { term_ = term; }
  uint64_t term() const { return term_; }

  ledger::TxId AppendUser(const std::string& collection, const std::string& contents,
                          const std::string& claims_digest = "") {
    v1::LogCommand command;
    v1::UserTransaction* tx = command.mutable_user();
    tx->set_collection_id(collection);
    tx->set_contents(contents);
    tx->set_claims_digest(claims_digest);
    tx->set_user_id(std::string(64, 'a'));
    tx->set_idempotency_key("key-" + std::to_string(entries_.size()));
    tx->set_timestamp_unix_ms(Now());
    return Append(command);
  }

  // A private ledger's user entry: `contents` sealed under `secret` with
  // `salt` at the next txid (docs/formats.md, "Private entries v1").
  ledger::TxId AppendPrivateUser(const ledger::LedgerSecret& secret, const std::string& collection,
                                 const std::string& contents, const std::string& salt) {
    const ledger::TxId txid{term_, entries_.size() + 1};
    v1::LogCommand command;
    v1::UserTransaction* tx = command.mutable_user();
    tx->set_collection_id(collection);
    tx->set_user_id(std::string(64, 'a'));
    tx->set_timestamp_unix_ms(Now());
    v1::SealedContents* sealed = tx->mutable_sealed();
    sealed->set_secret_version(secret.version());
    auto ciphertext = ledger::SealContents(secret, txid, collection, salt, contents);
    CAIRN_CHECK_OK(ciphertext.status());
    sealed->set_ciphertext(*ciphertext);
    auto commitment = ledger::ContentsCommitment(salt, contents);
    CAIRN_CHECK_OK(commitment.status());
    sealed->set_commitment(ledger::HashToString(*commitment));
    return Append(command);
  }

  ledger::TxId AppendGovernance() {
    v1::LogCommand command;
    command.mutable_governance()->set_user_id(std::string(64, 'b'));
    command.mutable_governance()->set_timestamp_unix_ms(Now());
    command.mutable_governance()->set_remove_user_id(std::string(64, 'c'));
    return Append(command);
  }

  ledger::TxId AppendInternal() { return AppendData(""); }

  // A signature transaction over every leaf before it (or the first `size`).
  ledger::TxId AppendSignature(uint64_t size = 0) {
    if (size == 0) size = tree_.size();
    const ledger::TxId last{entries_.at(size - 1).term, size};
    auto root = tree_.RootAt(size);
    CAIRN_CHECK_OK(root.status());
    v1::Checkpoint cp =
        ledger::MakeCheckpoint(service_cert_.Fingerprint(), size, *root, last, Now());
    auto signed_cp = ledger::SignCheckpoint(cp, node_id_, node_key_);
    CAIRN_CHECK_OK(signed_cp.status());
    const ledger::TxId txid = Append(ledger::MakeSignatureCommand(*signed_cp, node_cert_));
    signed_cp->set_signature_txid(txid.ToString());
    last_signed_ = *signed_cp;
    return txid;
  }

  // Appends raw entry data (a LogCommand serialization, or anything).
  ledger::TxId AppendData(const std::string& data) {
    const ledger::TxId txid{term_, entries_.size() + 1};
    auto leaf_hash = ledger::LeafHashFor(txid.term, txid.index, data);
    CAIRN_CHECK_OK(leaf_hash.status());
    tree_.Append(*leaf_hash, store_);
    entries_.push_back(TestEntry{txid.term, txid.index, data});
    return txid;
  }

  // The receipt of `txid` under the latest signature.
  v1::Receipt ReceiptFor(const ledger::TxId& txid) const {
    const TestEntry& e = entries_.at(txid.index - 1);
    auto leaf = ledger::LeafComponentsFor(e.term, e.index, e.data);
    CAIRN_CHECK_OK(leaf.status());
    auto receipt = ledger::BuildReceipt(*leaf, tree_, last_signed_, node_cert_.ToPem());
    CAIRN_CHECK_OK(receipt.status());
    return *receipt;
  }

  const ledger::Certificate& service_cert() const { return service_cert_; }
  const ledger::PrivateKey& service_key() const { return service_key_; }
  const ledger::Certificate& node_cert() const { return node_cert_; }
  const ledger::PrivateKey& node_key() const { return node_key_; }
  uint64_t node_id() const { return node_id_; }
  const ledger::MerkleTree& tree() const { return tree_; }
  const std::vector<TestEntry>& entries() const { return entries_; }
  const v1::SignedCheckpoint& last_signed() const { return last_signed_; }

  // Writes the entries as segments ending at each of `ends` (log indexes of
  // signature transactions, increasing) into `dir`; returns the paths.
  std::vector<std::string> WriteSegments(const std::string& dir,
                                         const std::vector<uint64_t>& ends) const {
    std::vector<std::string> paths;
    uint64_t next = 1;
    for (uint64_t end : ends) {
      ledger::SegmentWriter writer(next);
      for (; next <= end; ++next) {
        const TestEntry& e = entries_.at(next - 1);
        CAIRN_CHECK_OK(writer.Add(e.term, e.index, e.data));
      }
      auto path = writer.FinishToFile(dir);
      CAIRN_CHECK_OK(path.status());
      paths.push_back(*path);
    }
    return paths;
  }

 private:
  static ledger::Certificate MakeServiceCert(const ledger::PrivateKey& key) {
    ledger::ServiceCertificateOptions options;
    options.common_name = "test ledger";
    options.now = absl::FromUnixMillis(kTestEpochMs);
    auto cert = ledger::CreateServiceCertificate(key, options);
    CAIRN_CHECK_OK(cert.status());
    return *cert;
  }

  ledger::TxId Append(const v1::LogCommand& command) {
    std::string data;
    CAIRN_CHECK(command.SerializeToString(&data));
    return AppendData(data);
  }

  int64_t Now() { return kTestEpochMs + 1000 * static_cast<int64_t>(++clock_); }

  ledger::PrivateKey service_key_;
  ledger::Certificate service_cert_;
  ledger::PrivateKey node_key_;
  ledger::Certificate node_cert_;
  uint64_t node_id_;
  uint64_t term_ = 1;
  uint64_t clock_ = 0;
  ledger::MemoryMerkleStore store_;
  ledger::MerkleTree tree_{&store_};
  std::vector<TestEntry> entries_;
  v1::SignedCheckpoint last_signed_;
};

}  // namespace cairn::testing
