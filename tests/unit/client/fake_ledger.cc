// The fake nodes' ledger (see fake_ledger.h).
#include "fake_ledger.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cairn/base/check.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/log.pb.h"

namespace cairn::testing {
namespace {

std::string ReadPemOrDie(const std::string& path) {
  auto cert = ledger::ReadCertificateFile(path);
  CAIRN_CHECK_OK(cert.status()) << path;
  return cert->ToPem();
}

ledger::PrivateKey KeyOrDie(const std::string& path) {
  auto key = ledger::ReadPrivateKeyFile(path);
  CAIRN_CHECK_OK(key.status()) << path;
  return *std::move(key);
}

ledger::Certificate CertOrDie(const std::string& pem) {
  auto cert = ledger::Certificate::FromPem(pem);
  CAIRN_CHECK_OK(cert.status());
  return *std::move(cert);
}

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace

FakeLedger::FakeLedger(const std::string& service_cert_file, const std::string& node_cert_file,
                       const std::string& node_key_file, uint64_t node_id, uint64_t term)
    : service_cert_pem_(ReadPemOrDie(service_cert_file)),
      node_cert_pem_(ReadPemOrDie(node_cert_file)),
      service_cert_(CertOrDie(service_cert_pem_)),
      node_key_(KeyOrDie(node_key_file)),
      node_id_(node_id),
      term_(term),
      tree_(&store_),
      files_{service_cert_file, node_cert_file, node_key_file} {}

std::unique_ptr<FakeLedger> FakeLedger::ForkAt(uint64_t size, uint64_t term) const {
  auto fork = std::make_unique<FakeLedger>(files_[0], files_[1], files_[2], node_id_, term);
  absl::MutexLock lock(&mu_);
  absl::MutexLock fork_lock(&fork->mu_);
  CAIRN_CHECK(size <= entries_.size());
  for (uint64_t i = 0; i < size; ++i) {
    fork->entries_.push_back(entries_[i]);
    fork->tree_.Append(*ledger::LeafHashOf(entries_[i].leaf), fork->store_);
  }
  fork->users_ = users_;
  return fork;
}

void FakeLedger::PutUser(const std::string& user_id, v1::Role role) {
  absl::MutexLock lock(&mu_);
  v1::User& user = users_[user_id];
  user.set_user_id(user_id);
  user.set_role(role);
}

v1::Role FakeLedger::RoleOf(const std::string& user_id) const {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(user_id);
  return it == users_.end() ? v1::ROLE_UNSPECIFIED : it->second.role();
}

std::vector<v1::User> FakeLedger::Users() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::User> out;
  for (const auto& [id, user] : users_) out.push_back(user);
  return out;
}

std::string FakeLedger::AddLocked(const v1::LogCommand& command, v1::Entry entry) {
  const uint64_t index = entries_.size() + 1;
  auto leaf = ledger::LeafComponentsFor(term_, index, command.SerializeAsString());
  CAIRN_CHECK_OK(leaf.status());
  Stored stored;
  stored.entry = std::move(entry);
  stored.entry.set_txid(leaf->txid());
  stored.leaf = *leaf;
  tree_.Append(*ledger::LeafHashOf(*leaf), store_);
  entries_.push_back(std::move(stored));
  return leaf->txid();
}

absl::StatusOr<v1::AppendResponse> FakeLedger::Append(const v1::AppendRequest& request,
                                                      const std::string& user_id) {
  if (absl::Status s = ledger::ValidateUserCollectionId(request.collection_id()); !s.ok()) {
    return s;
  }
  if (request.contents().empty()) return absl::InvalidArgumentError("contents is empty");
  if (absl::Status s = ledger::ValidateClaimsDigest(request.claims_digest()); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  seen_keys_.push_back(request.idempotency_key());
  v1::AppendResponse response;
  const auto key = std::make_pair(user_id, request.idempotency_key());
  if (!request.idempotency_key().empty()) {
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      response.set_txid(it->second);
      response.set_status(v1::TRANSACTION_STATUS_COMMITTED);
      response.set_duplicate(true);
      return response;
    }
  }
  v1::LogCommand command;
  v1::UserTransaction* tx = command.mutable_user();
  tx->set_collection_id(request.collection_id());
  tx->set_contents(request.contents());
  tx->set_claims_digest(request.claims_digest());
  tx->set_user_id(user_id);
  tx->set_idempotency_key(request.idempotency_key());
  tx->set_timestamp_unix_ms(NowMs());
  v1::Entry entry;
  entry.set_collection_id(tx->collection_id());
  entry.set_contents(tx->contents());
  entry.set_claims_digest(tx->claims_digest());
  entry.set_user_id(user_id);
  entry.set_timestamp_unix_ms(tx->timestamp_unix_ms());
  const std::string txid = AddLocked(command, std::move(entry));
  if (request.wait() == v1::APPEND_WAIT_NONE) entries_.back().pending_polls_left = pending_polls_;
  if (!request.idempotency_key().empty()) by_key_[key] = txid;
  response.set_txid(txid);
  response.set_status(request.wait() == v1::APPEND_WAIT_NONE ? v1::TRANSACTION_STATUS_PENDING
                                                             : v1::TRANSACTION_STATUS_COMMITTED);
  return response;
}

std::string FakeLedger::RecordGovernance(const v1::GovernanceTransaction& change) {
  absl::MutexLock lock(&mu_);
  v1::LogCommand command;
  *command.mutable_governance() = change;
  command.mutable_governance()->set_timestamp_unix_ms(NowMs());
  v1::Entry entry;
  entry.set_collection_id(std::string(ledger::kGovernanceCollection));
  entry.set_user_id(change.user_id());
  entry.set_timestamp_unix_ms(command.governance().timestamp_unix_ms());
  return AddLocked(command, std::move(entry));
}

absl::StatusOr<const FakeLedger::Stored*> FakeLedger::FindLocked(const std::string& txid) const {
  absl::StatusOr<ledger::TxId> id = ledger::TxId::Parse(txid);
  if (!id.ok()) return id.status();
  if (id->index > entries_.size() || entries_[id->index - 1].entry.txid() != txid) {
    return absl::NotFoundError(absl::StrCat("no committed transaction ", txid));
  }
  return &entries_[id->index - 1];
}

absl::StatusOr<v1::Entry> FakeLedger::GetEntry(const std::string& txid) const {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<const Stored*> stored = FindLocked(txid);
  if (!stored.ok()) return stored.status();
  return (*stored)->entry;
}

absl::StatusOr<v1::Entry> FakeLedger::GetCurrentEntry(const std::string& collection_id) const {
  absl::MutexLock lock(&mu_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->entry.collection_id() == collection_id) return it->entry;
  }
  return absl::NotFoundError(absl::StrCat("collection ", collection_id, " has no entries"));
}

absl::StatusOr<v1::ListEntriesResponse> FakeLedger::ListEntries(
    const v1::ListEntriesRequest& request) const {
  const uint32_t page_size = request.page_size() == 0 ? 100 : request.page_size();
  if (page_size > 1000) {
    return absl::InvalidArgumentError("page_size is over page_size_max=1000");
  }
  uint64_t start = 0;
  if (!request.page_token().empty() && !absl::SimpleAtoi(request.page_token(), &start)) {
    return absl::InvalidArgumentError("page_token is malformed");
  }
  absl::MutexLock lock(&mu_);
  v1::ListEntriesResponse response;
  uint64_t i = start;
  for (; i < entries_.size() && static_cast<uint32_t>(response.entries_size()) < page_size; ++i) {
    if (entries_[i].entry.collection_id() != request.collection_id()) continue;
    v1::Entry* e = response.add_entries();
    *e = entries_[i].entry;
    if (!request.include_contents()) e->clear_contents();
  }
  // Another page only if a later entry of the collection exists.
  for (uint64_t j = i; j < entries_.size(); ++j) {
    if (entries_[j].entry.collection_id() == request.collection_id()) {
      response.set_next_page_token(absl::StrCat(i));
      break;
    }
  }
  return response;
}

v1::ListCollectionsResponse FakeLedger::ListCollections(
    const v1::ListCollectionsRequest& request) const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, v1::CollectionSummary> by_name;
  for (const Stored& s : entries_) {
    if (s.leaf.kind() != v1::ENTRY_KIND_USER) continue;
    v1::CollectionSummary& c = by_name[s.entry.collection_id()];
    if (c.entry_count() == 0) c.set_first_txid(s.entry.txid());
    c.set_collection_id(s.entry.collection_id());
    c.set_entry_count(c.entry_count() + 1);
    c.set_last_txid(s.entry.txid());
  }
  v1::ListCollectionsResponse response;
  const uint32_t page_size = request.page_size() == 0 ? 2 : request.page_size();
  for (auto it = by_name.upper_bound(request.page_token()); it != by_name.end(); ++it) {
    if (static_cast<uint32_t>(response.collections_size()) == page_size) {
      response.set_next_page_token(response.collections().rbegin()->collection_id());
      break;
    }
    *response.add_collections() = it->second;
  }
  return response;
}

absl::StatusOr<v1::GetTransactionStatusResponse> FakeLedger::Status(const std::string& txid) {
  absl::StatusOr<ledger::TxId> id = ledger::TxId::Parse(txid);
  if (!id.ok()) return id.status();
  absl::MutexLock lock(&mu_);
  v1::GetTransactionStatusResponse response;
  response.set_commit_index(entries_.size());
  if (id->index > entries_.size()) {
    response.set_status(v1::TRANSACTION_STATUS_UNKNOWN);
  } else if (Stored& s = entries_[id->index - 1]; s.entry.txid() != txid) {
    response.set_status(v1::TRANSACTION_STATUS_INVALID);
  } else if (s.pending_polls_left > 0) {
    --s.pending_polls_left;
    response.set_status(v1::TRANSACTION_STATUS_PENDING);
  } else {
    response.set_status(v1::TRANSACTION_STATUS_COMMITTED);
  }
  return response;
}

absl::StatusOr<v1::SignedCheckpoint> FakeLedger::SignLocked(uint64_t size) const {
  if (size == 0 || size > entries_.size()) {
    return absl::NotFoundError(absl::StrCat("no signed checkpoint of tree size ", size));
  }
  absl::StatusOr<ledger::Hash> root = tree_.RootAt(size);
  if (!root.ok()) return root.status();
  v1::Checkpoint checkpoint;
  checkpoint.set_service_id(service_cert_.Fingerprint());
  checkpoint.set_tree_size(size);
  checkpoint.set_root_hash(ledger::HashToString(*root));
  checkpoint.set_last_txid(entries_[size - 1].entry.txid());
  checkpoint.set_timestamp_unix_ms(NowMs());
  absl::StatusOr<std::string> encoded = ledger::EncodeCheckpoint(checkpoint);
  if (!encoded.ok()) return encoded.status();
  absl::StatusOr<std::string> signature = node_key_.Sign(*encoded);
  if (!signature.ok()) return signature.status();
  v1::SignedCheckpoint signed_checkpoint;
  *signed_checkpoint.mutable_checkpoint() = checkpoint;
  signed_checkpoint.set_signer_node_id(node_id_);
  signed_checkpoint.set_signature(*signature);
  return signed_checkpoint;
}

absl::StatusOr<v1::Receipt> FakeLedger::Receipt(const std::string& txid, uint64_t size) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<const Stored*> stored = FindLocked(txid);
  if (!stored.ok()) return stored.status();
  if (size == 0) size = entries_.size();
  const uint64_t leaf_index = ledger::TxId::Parse(txid)->leaf_index();
  if (leaf_index >= size) return absl::NotFoundError(absl::StrCat("no signature covers ", txid));
  absl::StatusOr<v1::SignedCheckpoint> checkpoint = SignLocked(size);
  if (!checkpoint.ok()) return checkpoint.status();
  auto proof = tree_.InclusionProof(leaf_index, size);
  if (!proof.ok()) return proof.status();
  v1::Receipt receipt;
  receipt.set_version(1);
  *receipt.mutable_leaf() = (*stored)->leaf;
  receipt.set_leaf_index(leaf_index);
  for (const ledger::Hash& h : *proof) receipt.add_inclusion_proof(ledger::HashToString(h));
  *receipt.mutable_checkpoint() = *checkpoint;
  receipt.set_node_certificate_pem(node_cert_pem_);
  return receipt;
}

absl::StatusOr<v1::ConsistencyProof> FakeLedger::ConsistencyProof(uint64_t from,
                                                                  uint64_t to) const {
  absl::MutexLock lock(&mu_);
  if (to == 0) to = entries_.size();
  if (from == 0 || from > to || to > entries_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("consistency proof from ", from, " to ", to,
                                                   " is out of range (latest signed size ",
                                                   entries_.size(), ")"));
  }
  auto hashes = tree_.ConsistencyProof(from, to);
  if (!hashes.ok()) return hashes.status();
  v1::ConsistencyProof proof;
  proof.set_from_tree_size(from);
  proof.set_to_tree_size(to);
  for (const ledger::Hash& h : *hashes) proof.add_hashes(ledger::HashToString(h));
  return proof;
}

absl::StatusOr<v1::GetLatestCheckpointResponse> FakeLedger::Checkpoint(uint64_t size) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::SignedCheckpoint> checkpoint = SignLocked(size == 0 ? entries_.size() : size);
  if (!checkpoint.ok()) return checkpoint.status();
  v1::GetLatestCheckpointResponse response;
  *response.mutable_checkpoint() = *checkpoint;
  response.set_node_certificate_pem(node_cert_pem_);
  return response;
}

v1::GetServiceIdentityResponse FakeLedger::Identity() const {
  v1::GetServiceIdentityResponse response;
  response.set_service_certificate_pem(service_cert_pem_);
  response.set_service_id(service_cert_.Fingerprint());
  v1::NodeCertificate* node = response.add_nodes();
  node->set_node_id(node_id_);
  node->set_certificate_pem(node_cert_pem_);
  response.set_node_id(node_id_);
  return response;
}

uint64_t FakeLedger::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

std::vector<std::string> FakeLedger::SeenKeys() const {
  absl::MutexLock lock(&mu_);
  return seen_keys_;
}

}  // namespace cairn::testing
