// ADAPTER (see ledger_adapter.h): forwards to ledger/ when its checkpoint and
// receipt code is present, else falls back to an equivalent built on the
// ledger primitives already merged. Delete the fallback half after the merge.
#include "ledger_adapter.h"

#if __has_include("cairn/ledger/receipt.h") && __has_include("cairn/ledger/checkpoint.h") && \
    __has_include("cairn/ledger/receipt_json.h")
#define CAIRN_CLIENT_HAVE_LEDGER_RECEIPTS 1
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#else
#define CAIRN_CLIENT_HAVE_LEDGER_RECEIPTS 0
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/txid.h"
#endif

namespace cairn::client::internal {

#if CAIRN_CLIENT_HAVE_LEDGER_RECEIPTS

bool UsingLedgerImplementation() { return true; }

absl::Status VerifySignedCheckpoint(const v1::SignedCheckpoint& signed_checkpoint,
                                    const ledger::Certificate& node_cert,
                                    const ledger::Certificate& service_cert) {
  return ledger::VerifySignedCheckpoint(signed_checkpoint, node_cert, service_cert);
}

absl::Status VerifyCheckpointExtends(const v1::Checkpoint& earlier, const v1::Checkpoint& later,
                                     const v1::ConsistencyProof& proof) {
  return ledger::VerifyCheckpointExtends(earlier, later, proof);
}

absl::Status VerifyReceipt(const v1::Receipt& receipt, const ledger::Certificate& service_cert,
                           const std::optional<std::string>& contents,
                           const std::optional<std::string>& claims_digest) {
  ledger::ReceiptExpectations expect;
  expect.contents = contents;
  expect.claims_digest = claims_digest;
  return ledger::VerifyReceipt(receipt, service_cert, expect);
}

std::string ReceiptToJson(const v1::Receipt& receipt) { return ledger::ReceiptToJson(receipt); }

absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes) {
  return ledger::ParseReceipt(bytes);
}

#else  // fallback until the ledger branch is merged

namespace {

constexpr size_t kReceiptBytesMax = 1 << 20;

absl::Status Failed(absl::string_view check, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(check, ": ", why));
}

absl::Status CheckSignatureTxid(const v1::SignedCheckpoint& sc) {
  if (sc.signature_txid().empty()) return absl::OkStatus();
  absl::StatusOr<ledger::TxId> txid = ledger::TxId::Parse(sc.signature_txid(), "signature_txid");
  if (!txid.ok()) return Failed("checkpoint", txid.status().message());
  const ledger::TxId last = *ledger::TxId::Parse(sc.checkpoint().last_txid());
  if (txid->index <= last.index || txid->term < last.term) {
    return Failed("checkpoint", absl::StrCat("signature_txid ", sc.signature_txid(),
                                             " is not after last_txid ", last.ToString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ledger::Hash> CheckLeaf(const v1::Receipt& receipt,
                                       const std::optional<std::string>& contents,
                                       const std::optional<std::string>& claims_digest) {
  const v1::LeafComponents& leaf = receipt.leaf();
  absl::StatusOr<ledger::Hash> leaf_hash = ledger::LeafHashOf(leaf);
  if (!leaf_hash.ok()) return Failed("leaf", leaf_hash.status().message());
  const ledger::TxId txid = *ledger::TxId::Parse(leaf.txid());
  if (receipt.leaf_index() != txid.leaf_index()) {
    return Failed("leaf", absl::StrCat("leaf_index ", receipt.leaf_index(), " is not txid ",
                                       leaf.txid(), "'s index - 1"));
  }
  if (contents.has_value() &&
      ledger::HashToString(ledger::Sha256(*contents)) != leaf.contents_digest()) {
    return Failed("leaf", "the contents do not match contents_digest");
  }
  if (claims_digest.has_value() && *claims_digest != leaf.claims_digest()) {
    return Failed("leaf", "the claims digest does not match claims_digest");
  }
  return leaf_hash;
}

absl::Status CheckInclusion(const v1::Receipt& receipt, const ledger::Hash& leaf_hash) {
  const v1::Checkpoint& checkpoint = receipt.checkpoint().checkpoint();
  auto proof = ledger::ProofFromBytes(receipt.inclusion_proof(), "hash");
  if (!proof.ok()) return Failed("inclusion proof", proof.status().message());
  auto root = ledger::HashFromBytes(checkpoint.root_hash(), "checkpoint root_hash");
  if (!root.ok()) return Failed("inclusion proof", root.status().message());
  auto computed = ledger::RootFromInclusionProof(receipt.leaf_index(), checkpoint.tree_size(),
                                                 leaf_hash, *proof);
  if (!computed.ok()) return Failed("inclusion proof", computed.status().message());
  if (*computed != *root) {
    return Failed("inclusion proof",
                  absl::StrCat("leads to root ", ledger::HashToHex(*computed),
                               ", the checkpoint's is ", ledger::HashToHex(*root)));
  }
  return absl::OkStatus();
}

using ordered_json = nlohmann::ordered_json;

const char* KindName(v1::EntryKind kind) {
  switch (kind) {
    case v1::ENTRY_KIND_USER:
      return "user";
    case v1::ENTRY_KIND_GOVERNANCE:
      return "governance";
    case v1::ENTRY_KIND_SIGNATURE:
      return "signature";
    case v1::ENTRY_KIND_INTERNAL:
      return "internal";
    default:
      return "unspecified";
  }
}

v1::EntryKind KindFromName(const std::string& name) {
  for (v1::EntryKind k : {v1::ENTRY_KIND_USER, v1::ENTRY_KIND_GOVERNANCE,
                          v1::ENTRY_KIND_SIGNATURE, v1::ENTRY_KIND_INTERNAL}) {
    if (name == KindName(k)) return k;
  }
  return v1::ENTRY_KIND_UNSPECIFIED;
}

std::string Unhex(const nlohmann::json& j, const char* key) {
  auto bytes = base::HexDecode(j.at(key).get<std::string>(), key);
  if (!bytes.ok()) throw std::invalid_argument(std::string(bytes.status().message()));
  return *bytes;
}

v1::Receipt ReceiptFromJsonValue(const nlohmann::json& j) {
  v1::Receipt r;
  r.set_version(j.at("version").get<uint32_t>());
  const nlohmann::json& leaf = j.at("leaf");
  v1::LeafComponents* l = r.mutable_leaf();
  l->set_encoding_version(leaf.at("encoding_version").get<uint32_t>());
  l->set_kind(KindFromName(leaf.at("kind").get<std::string>()));
  l->set_txid(leaf.at("txid").get<std::string>());
  l->set_collection_id(leaf.at("collection_id").get<std::string>());
  l->set_contents_digest(Unhex(leaf, "contents_digest"));
  l->set_claims_digest(Unhex(leaf, "claims_digest"));
  l->set_user_id(leaf.at("user_id").get<std::string>());
  l->set_timestamp_unix_ms(leaf.at("timestamp_unix_ms").get<int64_t>());
  r.set_leaf_index(j.at("leaf_index").get<uint64_t>());
  for (const auto& h : j.at("inclusion_proof")) {
    auto bytes = base::HexDecode(h.get<std::string>(), "inclusion_proof");
    if (!bytes.ok()) throw std::invalid_argument(std::string(bytes.status().message()));
    r.add_inclusion_proof(*bytes);
  }
  const nlohmann::json& sc = j.at("checkpoint");
  const nlohmann::json& cp = sc.at("checkpoint");
  v1::Checkpoint* c = r.mutable_checkpoint()->mutable_checkpoint();
  c->set_service_id(cp.at("service_id").get<std::string>());
  c->set_tree_size(cp.at("tree_size").get<uint64_t>());
  c->set_root_hash(Unhex(cp, "root_hash"));
  c->set_last_txid(cp.at("last_txid").get<std::string>());
  c->set_timestamp_unix_ms(cp.at("timestamp_unix_ms").get<int64_t>());
  r.mutable_checkpoint()->set_signer_node_id(sc.at("signer_node_id").get<uint64_t>());
  r.mutable_checkpoint()->set_signature(Unhex(sc, "signature"));
  r.mutable_checkpoint()->set_signature_txid(sc.at("signature_txid").get<std::string>());
  r.set_node_certificate_pem(j.at("node_certificate_pem").get<std::string>());
  return r;
}

}  // namespace

bool UsingLedgerImplementation() { return false; }

absl::Status VerifySignedCheckpoint(const v1::SignedCheckpoint& signed_checkpoint,
                                    const ledger::Certificate& node_cert,
                                    const ledger::Certificate& service_cert) {
  const v1::Checkpoint& checkpoint = signed_checkpoint.checkpoint();
  const absl::Time signed_at = absl::FromUnixMillis(checkpoint.timestamp_unix_ms());
  if (absl::Status s = node_cert.VerifyIssuedBy(service_cert, signed_at); !s.ok()) {
    return Failed("node certificate", s.message());
  }
  const std::string service_id = service_cert.Fingerprint();
  if (checkpoint.service_id() != service_id) {
    return Failed("service id", absl::StrCat("checkpoint is for service ",
                                             checkpoint.service_id().substr(0, 64), ", not ",
                                             service_id));
  }
  absl::StatusOr<std::string> encoded = ledger::EncodeCheckpoint(checkpoint);
  if (!encoded.ok()) return Failed("checkpoint", encoded.status().message());
  if (absl::Status s = node_cert.VerifySignature(*encoded, signed_checkpoint.signature());
      !s.ok()) {
    return Failed("checkpoint signature", s.message());
  }
  const std::string signer = absl::StrCat("node-", signed_checkpoint.signer_node_id());
  if (node_cert.CommonName() != signer) {
    return Failed("checkpoint signature",
                  absl::StrCat("signer_node_id ", signed_checkpoint.signer_node_id(),
                               " is not the node certificate's (",
                               node_cert.CommonName().substr(0, 64), ")"));
  }
  return CheckSignatureTxid(signed_checkpoint);
}

absl::Status VerifyCheckpointExtends(const v1::Checkpoint& earlier, const v1::Checkpoint& later,
                                     const v1::ConsistencyProof& proof) {
  if (earlier.service_id() != later.service_id()) {
    return Failed("consistency", "checkpoints are of different services");
  }
  if (later.tree_size() < earlier.tree_size()) {
    return Failed("consistency", absl::StrCat("rollback: tree size went from ",
                                              earlier.tree_size(), " to ", later.tree_size()));
  }
  if (proof.from_tree_size() != earlier.tree_size() || proof.to_tree_size() != later.tree_size()) {
    return Failed("consistency",
                  absl::StrCat("proof is from ", proof.from_tree_size(), " to ",
                               proof.to_tree_size(), ", the checkpoints are ",
                               earlier.tree_size(), " and ", later.tree_size()));
  }
  auto root1 = ledger::HashFromBytes(earlier.root_hash(), "earlier.root_hash");
  if (!root1.ok()) return Failed("consistency", root1.status().message());
  auto root2 = ledger::HashFromBytes(later.root_hash(), "later.root_hash");
  if (!root2.ok()) return Failed("consistency", root2.status().message());
  auto hashes = ledger::ProofFromBytes(proof.hashes(), "proof.hashes");
  if (!hashes.ok()) return Failed("consistency", hashes.status().message());
  auto last1 = ledger::TxId::Parse(earlier.last_txid(), "earlier.last_txid");
  if (!last1.ok()) return Failed("consistency", last1.status().message());
  auto last2 = ledger::TxId::Parse(later.last_txid(), "later.last_txid");
  if (!last2.ok()) return Failed("consistency", last2.status().message());
  if (earlier.tree_size() == later.tree_size() ? last1->term != last2->term
                                               : last2->term < last1->term) {
    return Failed("consistency", absl::StrCat("fork: last txid went from ", earlier.last_txid(),
                                              " to ", later.last_txid()));
  }
  if (absl::Status s = ledger::VerifyConsistency(earlier.tree_size(), later.tree_size(), *root1,
                                                 *root2, *hashes);
      !s.ok()) {
    return Failed("consistency", absl::StrCat("fork: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status VerifyReceipt(const v1::Receipt& receipt, const ledger::Certificate& service_cert,
                           const std::optional<std::string>& contents,
                           const std::optional<std::string>& claims_digest) {
  if (receipt.version() != 1) {
    return Failed("receipt",
                  absl::StrCat("version ", receipt.version(), " is not supported (only 1)"));
  }
  auto node_cert = ledger::Certificate::FromPem(receipt.node_certificate_pem());
  if (!node_cert.ok()) return Failed("node certificate", node_cert.status().message());
  const absl::Time signed_at =
      absl::FromUnixMillis(receipt.checkpoint().checkpoint().timestamp_unix_ms());
  if (absl::Status s = node_cert->VerifyIssuedBy(service_cert, signed_at); !s.ok()) {
    return Failed("node certificate", s.message());
  }
  absl::StatusOr<ledger::Hash> leaf_hash = CheckLeaf(receipt, contents, claims_digest);
  if (!leaf_hash.ok()) return leaf_hash.status();
  if (absl::Status s = CheckInclusion(receipt, *leaf_hash); !s.ok()) return s;
  if (absl::Status s = VerifySignedCheckpoint(receipt.checkpoint(), *node_cert, service_cert);
      !s.ok()) {
    return Failed("checkpoint signature", s.message());
  }
  return absl::OkStatus();
}

std::string ReceiptToJson(const v1::Receipt& r) {
  const v1::LeafComponents& l = r.leaf();
  ordered_json leaf = {{"encoding_version", l.encoding_version()},
                       {"kind", KindName(l.kind())},
                       {"txid", l.txid()},
                       {"collection_id", l.collection_id()},
                       {"contents_digest", base::HexEncode(l.contents_digest())},
                       {"claims_digest", base::HexEncode(l.claims_digest())},
                       {"user_id", l.user_id()},
                       {"timestamp_unix_ms", l.timestamp_unix_ms()}};
  ordered_json proof = ordered_json::array();
  for (const std::string& h : r.inclusion_proof()) proof.push_back(base::HexEncode(h));
  const v1::Checkpoint& c = r.checkpoint().checkpoint();
  ordered_json checkpoint = {{"service_id", c.service_id()},
                             {"tree_size", c.tree_size()},
                             {"root_hash", base::HexEncode(c.root_hash())},
                             {"last_txid", c.last_txid()},
                             {"timestamp_unix_ms", c.timestamp_unix_ms()}};
  ordered_json signed_checkpoint = {{"checkpoint", checkpoint},
                                    {"signer_node_id", r.checkpoint().signer_node_id()},
                                    {"signature", base::HexEncode(r.checkpoint().signature())},
                                    {"signature_txid", r.checkpoint().signature_txid()}};
  ordered_json j = {{"version", r.version()},
                    {"leaf", leaf},
                    {"leaf_index", r.leaf_index()},
                    {"inclusion_proof", proof},
                    {"checkpoint", signed_checkpoint},
                    {"node_certificate_pem", r.node_certificate_pem()}};
  return j.dump(2) + "\n";
}

absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes) {
  if (bytes.size() > kReceiptBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt is ", bytes.size(), " bytes; the limit is ", kReceiptBytesMax));
  }
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != absl::string_view::npos && bytes[first] == '{') {
    try {
      return ReceiptFromJsonValue(nlohmann::json::parse(bytes.begin(), bytes.end()));
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat("receipt JSON: ", e.what()));
    }
  }
  v1::Receipt receipt;
  if (!receipt.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("receipt: neither JSON nor a binary cairn.v1.Receipt");
  }
  return receipt;
}

#endif  // CAIRN_CLIENT_HAVE_LEDGER_RECEIPTS

}  // namespace cairn::client::internal
