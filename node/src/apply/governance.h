// The service's governance state in memory: service identity, users and
// their roles, members. Loaded from the ledger tables at start (and after a
// snapshot is installed), changed only by applying committed governance
// transactions, read by every RPC for authorization and routing.
//
// Thread-safe: the apply thread writes, RPC threads read.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "cairn/storage/apply_batch.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/v1/admin.pb.h"
#include "cairn/v1/log.pb.h"

namespace cairn::node {

// Names of the service values the governance state keeps in the ledger.
inline constexpr char kServiceCertificateValue[] = "service_certificate_pem";
// Decimal count of RecoverService transactions applied.
inline constexpr char kRecoveryCountValue[] = "recovery_count";
// The serialized cairn.v1.ResidencyPolicy (absent: no restriction).
inline constexpr char kResidencyValue[] = "residency_policy";
// The serialized cairn.v1.RecoverService last applied (absent: none).
inline constexpr char kLastRecoveryValue[] = "last_recovery";
// The serialized cairn.v1.ServiceSettings (absent: every setting off).
inline constexpr char kServiceSettingsValue[] = "service_settings";
// "private" for a private ledger (absent: public).
inline constexpr char kLedgerTypeValue[] = "ledger_type";
// A serialized cairn.v1.ShareLedgerSecrets holding every wrapped copy of the
// ledger secret the ledger recorded (absent: none).
inline constexpr char kLedgerSecretsValue[] = "ledger_secrets";
// The serialized cairn.v1.RecoveryKey of a private ledger created with
// recovery operators (absent: none).
inline constexpr char kRecoveryKeyValue[] = "recovery_key";

class Governance {
 public:
  // Replaces the in-memory state with what `store` holds.
  absl::Status Load(const storage::LedgerStore& store) ABSL_LOCKS_EXCLUDED(mu_);

  // Applies a committed governance transaction: writes the change into
  // `batch` and into memory. Deterministic: every node makes the same
  // change. A CreateService after the service exists changes nothing.
  void Apply(const v1::GovernanceTransaction& tx, storage::ApplyBatch* batch)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Checks a change before it is proposed (so that applying it is sensible):
  // FailedPrecondition / InvalidArgument naming the problem.
  absl::Status Validate(const v1::GovernanceTransaction& tx) const ABSL_LOCKS_EXCLUDED(mu_);

  // True once the genesis transaction (CreateService) is applied.
  bool created() const ABSL_LOCKS_EXCLUDED(mu_);
  // How many recoveries from the archive the ledger records (RecoverService).
  uint64_t recovery_count() const ABSL_LOCKS_EXCLUDED(mu_);
  // The last RecoverService applied, if any.
  std::optional<v1::RecoverService> last_recovery() const ABSL_LOCKS_EXCLUDED(mu_);
  // The residency policy's allowed regions (empty: no restriction).
  std::vector<std::string> allowed_regions() const ABSL_LOCKS_EXCLUDED(mu_);
  // Public or private, as the genesis recorded it (public before it).
  v1::LedgerType ledger_type() const ABSL_LOCKS_EXCLUDED(mu_);
  // Every wrapped copy of the ledger secret recorded, in the order recorded.
  std::vector<v1::WrappedLedgerSecret> ledger_secrets() const ABSL_LOCKS_EXCLUDED(mu_);
  // The newest version of the ledger secret recorded (0: none).
  uint32_t newest_ledger_secret_version() const ABSL_LOCKS_EXCLUDED(mu_);
  // A private ledger's recovery key, when it was created with one.
  std::optional<v1::RecoveryKey> recovery_key() const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether node `node_id` (0: the recovery key) has been given secret
  // `version`.
  bool HasLedgerSecret(uint64_t node_id, uint32_t version) const ABSL_LOCKS_EXCLUDED(mu_);
  // The service's settings (SetServiceSettings; all off until set).
  v1::ServiceSettings settings() const ABSL_LOCKS_EXCLUDED(mu_);
  // settings().geo_durable_by_default(), without a lock or a copy: read on
  // every append.
  bool geo_durable_by_default() const {
    return geo_durable_by_default_.load(std::memory_order_relaxed);
  }
  // OK when `region` may hold a copy of the ledger; FailedPrecondition
  // naming `who`, the region and the policy otherwise.
  absl::Status CheckResidency(absl::string_view region, absl::string_view who) const
      ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<v1::Role> RoleOf(const std::string& user_id) const ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<v1::User> User(const std::string& user_id) const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<v1::User> Users() const ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<v1::NodeInfo> Member(uint64_t node_id) const ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<v1::NodeInfo> Members() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status CheckResidencyLocked(absl::string_view region, absl::string_view who) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void AddLedgerSecretsLocked(
      const google::protobuf::RepeatedPtrField<v1::WrappedLedgerSecret>& secrets,
      storage::ApplyBatch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasLedgerSecretLocked(uint64_t node_id, uint32_t version) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  uint32_t NewestLedgerSecretLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool created_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t recovery_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<v1::RecoverService> last_recovery_ ABSL_GUARDED_BY(mu_);
  v1::ResidencyPolicy residency_ ABSL_GUARDED_BY(mu_);
  v1::ServiceSettings settings_ ABSL_GUARDED_BY(mu_);
  v1::LedgerType ledger_type_ ABSL_GUARDED_BY(mu_) = v1::LEDGER_TYPE_PUBLIC;
  v1::ShareLedgerSecrets ledger_secrets_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::RecoveryKey> recovery_key_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> geo_durable_by_default_{false};  // mirrors settings_
  std::map<std::string, v1::User> users_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, v1::NodeInfo> members_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cairn::node
