// Governance state: load, apply, validate, query (see governance.h).
#include "apply/governance.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/base/check.h"
#include "cairn/ledger/encoding.h"

namespace cairn::node {
namespace {

size_t CountAdministrators(const std::map<std::string, v1::User>& users) {
  size_t n = 0;
  for (const auto& [id, u] : users) n += u.role() == v1::ROLE_ADMINISTRATOR;
  return n;
}

void PutMember(const v1::NodeInfo& info, storage::ApplyBatch* batch,
               std::map<uint64_t, v1::NodeInfo>* members) {
  batch->PutMember(info.node_id(), info.SerializeAsString());
  (*members)[info.node_id()] = info;
}

void PutUser(const v1::User& user, storage::ApplyBatch* batch,
             std::map<std::string, v1::User>* users) {
  batch->PutUser(user.user_id(), user.SerializeAsString());
  (*users)[user.user_id()] = user;
}

}  // namespace

absl::Status Governance::Load(const storage::LedgerStore& store) {
  auto users = store.ListUsers();
  if (!users.ok()) return users.status();
  auto members = store.ListMembers();
  if (!members.ok()) return members.status();
  auto cert = store.GetServiceValue(kServiceCertificateValue);
  if (!cert.ok() && !absl::IsNotFound(cert.status())) return cert.status();
  auto recoveries = store.GetServiceValue(kRecoveryCountValue);
  if (!recoveries.ok() && !absl::IsNotFound(recoveries.status())) return recoveries.status();
  auto residency = store.GetServiceValue(kResidencyValue);
  if (!residency.ok() && !absl::IsNotFound(residency.status())) return residency.status();
  auto settings = store.GetServiceValue(kServiceSettingsValue);
  if (!settings.ok() && !absl::IsNotFound(settings.status())) return settings.status();
  auto ledger_type = store.GetServiceValue(kLedgerTypeValue);
  if (!ledger_type.ok() && !absl::IsNotFound(ledger_type.status())) return ledger_type.status();
  auto ledger_secrets = store.GetServiceValue(kLedgerSecretsValue);
  if (!ledger_secrets.ok() && !absl::IsNotFound(ledger_secrets.status())) {
    return ledger_secrets.status();
  }
  auto last_recovery = store.GetServiceValue(kLastRecoveryValue);
  if (!last_recovery.ok() && !absl::IsNotFound(last_recovery.status())) {
    return last_recovery.status();
  }
  auto recovery_key = store.GetServiceValue(kRecoveryKeyValue);
  if (!recovery_key.ok() && !absl::IsNotFound(recovery_key.status())) {
    return recovery_key.status();
  }
  absl::MutexLock lock(&mu_);
  users_.clear();
  members_.clear();
  for (const auto& [id, bytes] : *users) {
    v1::User u;
    CAIRN_CHECK(u.ParseFromString(bytes)) << "stored user " << id << " does not parse";
    users_[id] = std::move(u);
  }
  for (const auto& [id, bytes] : *members) {
    v1::NodeInfo n;
    CAIRN_CHECK(n.ParseFromString(bytes)) << "stored member " << id << " does not parse";
    members_[id] = std::move(n);
  }
  created_ = cert.ok();
  recovery_count_ = 0;
  residency_.Clear();
  last_recovery_.reset();
  if (last_recovery.ok()) {
    last_recovery_.emplace();
    CAIRN_CHECK(last_recovery_->ParseFromString(*last_recovery))
        << "stored last recovery does not parse";
  }
  if (residency.ok()) {
    CAIRN_CHECK(residency_.ParseFromString(*residency)) << "stored residency policy does not parse";
  }
  settings_.Clear();
  if (settings.ok()) {
    CAIRN_CHECK(settings_.ParseFromString(*settings)) << "stored service settings do not parse";
  }
  geo_durable_by_default_.store(settings_.geo_durable_by_default(), std::memory_order_relaxed);
  ledger_type_ = v1::LEDGER_TYPE_PUBLIC;
  if (ledger_type.ok()) {
    CAIRN_CHECK(*ledger_type == "private") << "stored ledger type is not known: " << *ledger_type;
    ledger_type_ = v1::LEDGER_TYPE_PRIVATE;
  }
  ledger_secrets_.Clear();
  if (ledger_secrets.ok()) {
    CAIRN_CHECK(ledger_secrets_.ParseFromString(*ledger_secrets))
        << "stored ledger secrets do not parse";
  }
  recovery_key_.reset();
  if (recovery_key.ok()) {
    recovery_key_.emplace();
    CAIRN_CHECK(recovery_key_->ParseFromString(*recovery_key))
        << "stored recovery key does not parse";
  }
  if (recoveries.ok()) {
    CAIRN_CHECK(absl::SimpleAtoi(*recoveries, &recovery_count_))
        << "stored recovery count does not parse: " << *recoveries;
  }
  return absl::OkStatus();
}

void Governance::Apply(const v1::GovernanceTransaction& tx, storage::ApplyBatch* batch) {
  absl::MutexLock lock(&mu_);
  switch (tx.change_case()) {
    case v1::GovernanceTransaction::kCreateService: {
      if (created_) return;  // a second genesis (proposed by a later leader) changes nothing
      const v1::CreateService& cs = tx.create_service();
      batch->PutServiceValue(kServiceCertificateValue, cs.service_certificate_pem());
      for (const auto& m : cs.members()) PutMember(m, batch, &members_);
      PutUser(cs.first_administrator(), batch, &users_);
      if (cs.ledger_type() == v1::LEDGER_TYPE_PRIVATE) {
        ledger_type_ = v1::LEDGER_TYPE_PRIVATE;
        batch->PutServiceValue(kLedgerTypeValue, "private");
        AddLedgerSecretsLocked(cs.ledger_secrets(), batch);
        if (cs.has_recovery_key()) {
          recovery_key_ = cs.recovery_key();
          batch->PutServiceValue(kRecoveryKeyValue, cs.recovery_key().SerializeAsString());
        }
      }
      created_ = true;
      return;
    }
    case v1::GovernanceTransaction::kShareLedgerSecrets: {
      if (ledger_type_ != v1::LEDGER_TYPE_PRIVATE) return;  // nothing to share in a public ledger
      // An Administrator's is a rotation: all of it starts version newest+1,
      // or, when another rotation got there first, none of it does (two
      // secrets under one version would open for some nodes only). The
      // leader's own shares only give versions the ledger has.
      const uint32_t newest = NewestLedgerSecretLocked();
      const bool rotation = !tx.user_id().empty();
      google::protobuf::RepeatedPtrField<v1::WrappedLedgerSecret> accepted;
      for (const v1::WrappedLedgerSecret& w : tx.share_ledger_secrets().secrets()) {
        if (rotation && w.version() != newest + 1) return;
        if (!rotation && w.version() > newest) continue;
        *accepted.Add() = w;
      }
      AddLedgerSecretsLocked(accepted, batch);
      return;
    }
    case v1::GovernanceTransaction::kPutUser:
      PutUser(tx.put_user(), batch, &users_);
      return;
    case v1::GovernanceTransaction::kRemoveUserId:
      batch->RemoveUser(tx.remove_user_id());
      users_.erase(tx.remove_user_id());
      return;
    case v1::GovernanceTransaction::kAddLearner: {
      v1::NodeInfo info = tx.add_learner();
      info.set_membership(v1::MEMBERSHIP_LEARNER);
      PutMember(info, batch, &members_);
      return;
    }
    case v1::GovernanceTransaction::kPromoteLearnerNodeId: {
      auto it = members_.find(tx.promote_learner_node_id());
      if (it == members_.end()) return;
      v1::NodeInfo info = it->second;
      info.set_membership(v1::MEMBERSHIP_VOTER);
      PutMember(info, batch, &members_);
      return;
    }
    case v1::GovernanceTransaction::kRemoveNodeId:
      batch->RemoveMember(tx.remove_node_id());
      members_.erase(tx.remove_node_id());
      return;
    case v1::GovernanceTransaction::kRecoverService: {
      const v1::RecoverService& r = tx.recover_service();
      if (r.recovery_count() <= recovery_count_) return;  // recorded already
      for (const auto& [id, info] : members_) batch->RemoveMember(id);
      members_.clear();
      for (const auto& m : r.members()) PutMember(m, batch, &members_);
      recovery_count_ = r.recovery_count();
      batch->PutServiceValue(kRecoveryCountValue, absl::StrCat(recovery_count_));
      last_recovery_ = r;
      batch->PutServiceValue(kLastRecoveryValue, r.SerializeAsString());
      // A private ledger's recovered service seals with a new version.
      if (ledger_type_ == v1::LEDGER_TYPE_PRIVATE) {
        AddLedgerSecretsLocked(r.ledger_secrets(), batch);
      }
      return;
    }
    case v1::GovernanceTransaction::kSetResidency:
      residency_ = tx.set_residency();
      batch->PutServiceValue(kResidencyValue, residency_.SerializeAsString());
      return;
    case v1::GovernanceTransaction::kSetServiceSettings:
      settings_ = tx.set_service_settings();
      geo_durable_by_default_.store(settings_.geo_durable_by_default(), std::memory_order_relaxed);
      batch->PutServiceValue(kServiceSettingsValue, settings_.SerializeAsString());
      return;
    case v1::GovernanceTransaction::CHANGE_NOT_SET:
      return;
  }
}

absl::Status Governance::Validate(const v1::GovernanceTransaction& tx) const {
  absl::MutexLock lock(&mu_);
  switch (tx.change_case()) {
    case v1::GovernanceTransaction::kPutUser: {
      const v1::User& u = tx.put_user();
      if (absl::Status st =
              ledger::ValidateUserId(u.user_id(), /*allow_empty=*/false, "user.user_id");
          !st.ok()) {
        return st;
      }
      if (u.role() < v1::ROLE_READER || u.role() > v1::ROLE_ADMINISTRATOR) {
        return absl::InvalidArgumentError("user.role must be READER, CONTRIBUTOR or ADMINISTRATOR");
      }
      if (u.description().size() > 256) {
        return absl::InvalidArgumentError("user.description is longer than 256 bytes");
      }
      auto it = users_.find(u.user_id());
      if (it != users_.end() && it->second.role() == v1::ROLE_ADMINISTRATOR &&
          u.role() != v1::ROLE_ADMINISTRATOR && CountAdministrators(users_) == 1) {
        return absl::FailedPreconditionError("cannot demote the last Administrator");
      }
      return absl::OkStatus();
    }
    case v1::GovernanceTransaction::kRemoveUserId: {
      auto it = users_.find(tx.remove_user_id());
      if (it == users_.end()) {
        return absl::NotFoundError(absl::StrCat("no user ", tx.remove_user_id()));
      }
      if (it->second.role() == v1::ROLE_ADMINISTRATOR && CountAdministrators(users_) == 1) {
        return absl::FailedPreconditionError("cannot remove the last Administrator");
      }
      return absl::OkStatus();
    }
    case v1::GovernanceTransaction::kAddLearner: {
      const v1::NodeInfo& n = tx.add_learner();
      if (n.node_id() == 0) return absl::InvalidArgumentError("node.node_id must be positive");
      if (members_.count(n.node_id())) {
        return absl::FailedPreconditionError(
            absl::StrCat("node ", n.node_id(), " is already a member"));
      }
      if (n.peer_address().empty() || n.client_address().empty()) {
        return absl::InvalidArgumentError("node.peer_address and node.client_address are required");
      }
      if (!n.region().empty()) {
        if (absl::Status st = ledger::ValidateRegion(n.region(), "node.region"); !st.ok())
          return st;
      }
      return CheckResidencyLocked(n.region(), absl::StrCat("node ", n.node_id()));
    }
    case v1::GovernanceTransaction::kPromoteLearnerNodeId:
    case v1::GovernanceTransaction::kRemoveNodeId: {
      const uint64_t id =
          tx.has_promote_learner_node_id() ? tx.promote_learner_node_id() : tx.remove_node_id();
      if (!members_.count(id))
        return absl::NotFoundError(absl::StrCat("node ", id, " is not a member"));
      return absl::OkStatus();
    }
    case v1::GovernanceTransaction::kCreateService:
      return created_ ? absl::FailedPreconditionError("the service already exists")
                      : absl::OkStatus();
    case v1::GovernanceTransaction::kSetResidency: {
      for (const std::string& r : tx.set_residency().allowed_regions()) {
        if (absl::Status st = ledger::ValidateRegion(r, "allowed region"); !st.ok()) return st;
      }
      if (tx.set_residency().allowed_regions().empty()) return absl::OkStatus();
      for (const auto& [id, m] : members_) {
        const auto& allowed = tx.set_residency().allowed_regions();
        if (!m.region().empty() &&
            std::find(allowed.begin(), allowed.end(), m.region()) == allowed.end()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "node ", id, " runs in region ", m.region(),
              ", which the new policy leaves out; remove it first (cairnctl nodes remove)"));
        }
      }
      return absl::OkStatus();
    }
    case v1::GovernanceTransaction::kSetServiceSettings:
      return absl::OkStatus();
    case v1::GovernanceTransaction::kShareLedgerSecrets:
      if (ledger_type_ != v1::LEDGER_TYPE_PRIVATE) {
        return absl::FailedPreconditionError("this ledger is public: it has no ledger secret");
      }
      for (const auto& w : tx.share_ledger_secrets().secrets()) {
        if (w.version() == 0 || w.wrapped().empty()) {
          return absl::InvalidArgumentError(
              "a shared ledger secret needs a version and the wrapped secret");
        }
        // Node id 0 is the recovery key: only a rotation gives it a version
        // (the new one), and only a ledger that has one.
        if (w.node_id() == 0 && (!recovery_key_.has_value() || tx.user_id().empty() ||
                                 w.version() != NewestLedgerSecretLocked() + 1)) {
          return absl::InvalidArgumentError(
              "a shared ledger secret needs a node id (0, the recovery key, only in a rotation "
              "of a ledger that has one)");
        }
        // One above the newest starts a rotation; nothing may skip a version.
        if (w.version() > NewestLedgerSecretLocked() + 1) {
          return absl::FailedPreconditionError(absl::StrCat("ledger secret version ", w.version(),
                                                            " would skip version ",
                                                            NewestLedgerSecretLocked() + 1));
        }
      }
      return absl::OkStatus();
    case v1::GovernanceTransaction::kRecoverService:
      return absl::InvalidArgumentError(
          "a recovery is recorded by cairn-node recover, not proposed to a running service");
    case v1::GovernanceTransaction::CHANGE_NOT_SET:
      return absl::InvalidArgumentError("governance transaction has no change");
  }
  return absl::OkStatus();
}

void Governance::AddLedgerSecretsLocked(
    const google::protobuf::RepeatedPtrField<v1::WrappedLedgerSecret>& secrets,
    storage::ApplyBatch* batch) {
  bool added = false;
  for (const v1::WrappedLedgerSecret& w : secrets) {
    if (HasLedgerSecretLocked(w.node_id(), w.version())) continue;  // the first copy stands
    *ledger_secrets_.add_secrets() = w;
    added = true;
  }
  if (added) batch->PutServiceValue(kLedgerSecretsValue, ledger_secrets_.SerializeAsString());
}

bool Governance::HasLedgerSecretLocked(uint64_t node_id, uint32_t version) const {
  for (const v1::WrappedLedgerSecret& w : ledger_secrets_.secrets()) {
    if (w.node_id() == node_id && w.version() == version) return true;
  }
  return false;
}

uint32_t Governance::NewestLedgerSecretLocked() const {
  uint32_t newest = 0;
  for (const v1::WrappedLedgerSecret& w : ledger_secrets_.secrets()) {
    newest = std::max(newest, w.version());
  }
  return newest;
}

uint32_t Governance::newest_ledger_secret_version() const {
  absl::MutexLock lock(&mu_);
  return NewestLedgerSecretLocked();
}

v1::LedgerType Governance::ledger_type() const {
  absl::MutexLock lock(&mu_);
  return ledger_type_;
}

std::vector<v1::WrappedLedgerSecret> Governance::ledger_secrets() const {
  absl::MutexLock lock(&mu_);
  return {ledger_secrets_.secrets().begin(), ledger_secrets_.secrets().end()};
}

bool Governance::HasLedgerSecret(uint64_t node_id, uint32_t version) const {
  absl::MutexLock lock(&mu_);
  return HasLedgerSecretLocked(node_id, version);
}

v1::ServiceSettings Governance::settings() const {
  absl::MutexLock lock(&mu_);
  return settings_;
}

std::vector<std::string> Governance::allowed_regions() const {
  absl::MutexLock lock(&mu_);
  return {residency_.allowed_regions().begin(), residency_.allowed_regions().end()};
}

absl::Status Governance::CheckResidency(absl::string_view region, absl::string_view who) const {
  absl::MutexLock lock(&mu_);
  return CheckResidencyLocked(region, who);
}

absl::Status Governance::CheckResidencyLocked(absl::string_view region,
                                              absl::string_view who) const {
  const auto& allowed = residency_.allowed_regions();
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), region) != allowed.end()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      who, region.empty() ? " names no region" : absl::StrCat(" runs in region ", region),
      ", which the residency policy does not allow (allowed: ", absl::StrJoin(allowed, ", "), ")"));
}

std::optional<v1::RecoveryKey> Governance::recovery_key() const {
  absl::MutexLock lock(&mu_);
  return recovery_key_;
}

std::optional<v1::RecoverService> Governance::last_recovery() const {
  absl::MutexLock lock(&mu_);
  return last_recovery_;
}

uint64_t Governance::recovery_count() const {
  absl::MutexLock lock(&mu_);
  return recovery_count_;
}

bool Governance::created() const {
  absl::MutexLock lock(&mu_);
  return created_;
}

std::optional<v1::Role> Governance::RoleOf(const std::string& user_id) const {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(user_id);
  if (it == users_.end()) return std::nullopt;
  return it->second.role();
}

std::optional<v1::User> Governance::User(const std::string& user_id) const {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(user_id);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<v1::User> Governance::Users() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::User> out;
  for (const auto& [id, u] : users_) out.push_back(u);
  return out;
}

std::optional<v1::NodeInfo> Governance::Member(uint64_t node_id) const {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(node_id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

std::vector<v1::NodeInfo> Governance::Members() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::NodeInfo> out;
  for (const auto& [id, n] : members_) out.push_back(n);
  return out;
}

}  // namespace cairn::node
