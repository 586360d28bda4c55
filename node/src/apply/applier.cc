// Applying committed entries to the ledger state (see applier.h).
#include "apply/applier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "apply/idempotency.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/checkpoint.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "cairn/v1/log.pb.h"
#include "observe/log.h"

namespace cairn::node {
namespace {

// A halt: a committed entry this node cannot accept. Restarting will not help;
// an operator must look (the message says what and where).
[[noreturn]] void Halt(const std::string& message) {
  spdlog::critical("HALT: {}", message);
  spdlog::default_logger()->flush();
  CAIRN_CHECK(false) << "HALT: " << message;
  std::abort();
}

}  // namespace

Applier::Applier(storage::Database* db, Governance* governance, ledger::Certificate service_cert)
    : db_(db),
      governance_(governance),
      service_cert_(std::move(service_cert)),
      service_id_(service_cert_.Fingerprint()),
      reader_(&db->ledger()),
      tree_(&reader_) {}

absl::Status Applier::Load() {
  reader_.set_batch(nullptr);
  const uint64_t applied = db_->ledger().applied_index();
  auto tree = ledger::MerkleTree::Open(&reader_, applied);
  if (!tree.ok()) return tree.status();
  tree_ = *std::move(tree);
  if (tile_backfill_ != nullptr) tile_backfill_->Request(applied);
  auto checkpoint = db_->ledger().LatestCheckpoint();
  uint64_t signed_size = 0;
  if (checkpoint.ok()) {
    signed_size = checkpoint->tree_size;
  } else if (!absl::IsNotFound(checkpoint.status())) {
    return checkpoint.status();
  }
  signed_tree_size_.store(signed_size, std::memory_order_release);
  // Conservatively assume unsigned entries may follow the last checkpoint.
  last_signable_index_ = applied;
  unsigned_since_ = std::chrono::steady_clock::now();
  applied_term_ = db_->ledger().applied().term;
  applied_index_.store(applied, std::memory_order_release);
  // Entries are stored at the clock, so the latest one that has a time holds
  // it (only internal entries have none, and they are few).
  clock_unix_ms_ = 0;
  for (uint64_t i = applied; i > 0 && clock_unix_ms_ == 0; --i) {
    auto entry = db_->ledger().Get(i);
    if (!entry.ok()) return entry.status();
    clock_unix_ms_ = entry->timestamp_unix_ms;
  }
  if (absl::Status st = governance_->Load(db_->ledger()); !st.ok()) return st;
  RefreshSecrets();
  return absl::OkStatus();
}

std::vector<ApplyResult> Applier::Apply(const std::vector<consensus::Entry>& entries) {
  std::vector<ApplyResult> results;
  results.reserve(entries.size());
  std::unique_ptr<storage::ApplyBatch> batch = db_->ledger().NewBatch();
  reader_.set_batch(batch.get());
  uint64_t signed_size = signed_tree_size_.load(std::memory_order_relaxed);
  bool secrets_changed = false;
  for (const consensus::Entry& e : entries) {
    CAIRN_CHECK(e.index == tree_.size() + 1)
        << "applying index " << e.index << " onto a tree of " << tree_.size() << " leaves";
    storage::StoredEntry se;
    se.term = e.term;
    se.index = e.index;
    se.data = e.data;
    ApplyResult result{ledger::TxId{e.term, e.index}, std::nullopt, std::nullopt, {}};
    v1::LogCommand command;
    if (e.data.empty()) {
      se.kind = storage::EntryKind::kInternal;
    } else if (!command.ParseFromString(e.data)) {
      Halt(absl::StrCat("committed entry ", result.txid.ToString(), " is not a LogCommand"));
    } else if (command.has_user()) {
      ApplyUser(command.user(), entries, &se, batch.get(), &result);
    } else if (command.has_governance()) {
      se.kind = storage::EntryKind::kGovernance;
      se.collection_id = std::string(ledger::kGovernanceCollection);
      se.user_id = command.governance().user_id();
      se.timestamp_unix_ms = Tick(command.governance().timestamp_unix_ms());
      governance_->Apply(command.governance(), batch.get());
      secrets_changed |= command.governance().has_create_service() ||
                         command.governance().has_share_ledger_secrets();
    } else if (command.has_signature()) {
      se.kind = storage::EntryKind::kSignature;
      se.collection_id = std::string(ledger::kSignaturesCollection);
      se.timestamp_unix_ms =
          Tick(command.signature().checkpoint().checkpoint().timestamp_unix_ms());
      VerifySignature(e, command.signature());
      const uint64_t size = command.signature().checkpoint().checkpoint().tree_size();
      // Leaders sign only after applying an entry of their own term, so
      // committed checkpoints grow; a smaller one would read as a rollback.
      if (size < signed_size) {
        Halt(absl::StrCat("signature transaction ", result.txid.ToString(), " signs ", size,
                          " leaves, fewer than the ", signed_size,
                          " an earlier checkpoint signed (checkpoints never shrink)"));
      }
      signed_size = size;
      // Entries this checkpoint missed (the leader signed before they
      // applied) wait a whole interval from it, not from the older entries
      // it did cover: otherwise the next signature falls due at once.
      if (last_signable_index_ > signed_size) unsigned_since_ = std::chrono::steady_clock::now();
      batch->AddCheckpoint(
          {{e.term, e.index}, signed_size, command.signature().SerializeAsString()});
    } else {
      Halt(absl::StrCat("committed entry ", result.txid.ToString(), " holds no command"));
    }
    auto leaf = ledger::LeafHashFor(e.term, e.index, command, e.data);  // parsed once, above
    if (!leaf.ok()) Halt(std::string(leaf.status().message()));
    CAIRN_CHECK_OK(batch->AddEntry(se)) << "at " << result.txid.ToString();
    tree_.Append(*leaf, *batch);
    if (se.kind == storage::EntryKind::kUser || se.kind == storage::EntryKind::kGovernance) {
      if (last_signable_index_ <= signed_size) unsigned_since_ = std::chrono::steady_clock::now();
      last_signable_index_ = e.index;
    }
    results.push_back(std::move(result));
  }
  if (clock_unix_ms_ > 0) {
    auto expired = batch->ExpireIdempotencyKeys(clock_unix_ms_);
    if (!expired.ok())
      Halt(absl::StrCat("cannot expire idempotency keys: ", expired.status().message()));
  }
  const absl::Status st = db_->ledger().Commit(*batch);
  reader_.set_batch(nullptr);
  if (!st.ok()) Halt(absl::StrCat("cannot write applied entries: ", st.message()));
  if (secrets_changed) RefreshSecrets();
  applied_term_ = entries.back().term;
  applied_index_.store(entries.back().index, std::memory_order_release);
  signed_tree_size_.store(signed_size, std::memory_order_release);
  return results;
}

void Applier::ApplyUser(const v1::UserTransaction& tx, const std::vector<consensus::Entry>& entries,
                        storage::StoredEntry* se, storage::ApplyBatch* batch, ApplyResult* result) {
  se->kind = storage::EntryKind::kUser;
  se->user_id = tx.user_id();
  se->timestamp_unix_ms = Tick(tx.timestamp_unix_ms());
  if (!tx.idempotency_key().empty()) {
    const AppendIdentity identity = IdentityOf(tx);
    result->key = identity.key;
    auto held =
        batch->LookupIdempotencyKey(tx.user_id(), tx.idempotency_key(), se->timestamp_unix_ms);
    if (held.ok()) {
      // A retry of an append already in the ledger: a leaf, but not a second
      // entry of the collection. It is a duplicate only of the same contents.
      const ledger::TxId holder{held->term, held->index};
      if (IdentityOfEntry(DataAt(held->index, entries)) == identity) {
        result->duplicate_of = holder;
      } else {
        result->key_held_by = holder;
      }
      return;
    }
    CAIRN_CHECK(absl::IsNotFound(held.status())) << held.status();
  }
  se->collection_id = tx.collection_id();
  se->idempotency_key = tx.idempotency_key();
}

// Unwraps what the governance state now gives this node. A copy that does
// not open is logged, not fatal: this node then cannot read or seal private
// entries of that version, which its answers say.
void Applier::RefreshSecrets() {
  if (secrets_ == nullptr) return;
  if (absl::Status st = secrets_->Refresh(*governance_); !st.ok()) {
    spdlog::error("private ledger: {}", st.message());
  }
}

std::string Applier::DataAt(uint64_t index, const std::vector<consensus::Entry>& entries) const {
  if (!entries.empty() && index >= entries.front().index && index <= entries.back().index) {
    return entries[index - entries.front().index].data;
  }
  auto stored = db_->ledger().Get(index);
  CAIRN_CHECK_OK(stored.status()) << "reading the entry at " << index
                                  << " that holds an idempotency key";
  return stored->data;
}

int64_t Applier::Tick(int64_t timestamp_unix_ms) {
  clock_unix_ms_ = std::max(clock_unix_ms_, timestamp_unix_ms);
  return clock_unix_ms_;
}

uint64_t Applier::TermOfIndex(uint64_t index) const {
  auto stored = db_->ledger().Get(index);
  if (stored.ok()) return stored->term;
  auto term = db_->raft_log().TermAt(index);
  return term.ok() ? *term : 0;
}

void Applier::VerifySignature(const consensus::Entry& entry, const v1::SignatureTransaction& sig) {
  const ledger::Certificate* node_cert = nullptr;
  if (auto it = node_certs_.find(sig.node_certificate_pem()); it != node_certs_.end()) {
    node_cert = &it->second;
  } else if (auto parsed = ledger::Certificate::FromPem(sig.node_certificate_pem()); parsed.ok()) {
    if (node_certs_.size() >= 64) node_certs_.clear();
    node_cert = &node_certs_.emplace(sig.node_certificate_pem(), *std::move(parsed)).first->second;
  }  // else the check below parses it again and names the error
  const absl::Status st = ledger::CheckSignatureTransaction(
      sig, entry.index, tree_,
      [this](uint64_t index) -> absl::StatusOr<uint64_t> { return TermOfIndex(index); },
      service_cert_, node_cert);
  if (!st.ok()) {
    Halt(absl::StrCat(
        "signature transaction ", ledger::TxId{entry.term, entry.index}.ToString(), " by node ",
        sig.checkpoint().signer_node_id(), " is not acceptable: ", st.message(),
        absl::IsFailedPrecondition(st) ? " (the leader signed a history this node does not hold)"
                                       : ""));
  }
}

SignState Applier::sign_state() const {
  SignState s;
  s.applied_index = applied_index();
  s.applied_term = applied_term_;
  s.root = tree_.Root();
  s.signed_tree_size = signed_tree_size();
  s.last_signable_index = last_signable_index_;
  s.unsigned_since = unsigned_since_;
  return s;
}

}  // namespace cairn::node
