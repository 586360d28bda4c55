// cairn::client::Client: the C++ SDK an application links to write to and
// read from a Cairn ledger, fetch and verify receipts, and administer the
// service. See docs/sdk.md for a guided tour.
//
// - Routing: calls go to the node that last accepted a write (the leader)
//   when known, else to the configured endpoints in turn. A node that is not
//   the leader answers NOT_LEADER naming the leader (leader_address, and the
//   "cairn-leader" trailer); the client follows it. The error reason decides
//   what is retried, with exponential backoff and jitter, within
//   RetryPolicy::total_timeout_ms (errors.h; docs/sdk.md has the table).
// - Exactly once: every Append carries an idempotency key (128 random bits in
//   hex unless the caller gives one), the same for every retry of it, so an
//   append retried across a leader failover is committed once.
// - Verified state (VerifiedStateOptions): checkpoints the client sees, in
//   GetLatestCheckpoint answers and in receipts, must extend the one it
//   trusts; otherwise the call fails with DataLoss ("ledger fork or rollback
//   detected: ..."). Receipts are verified against the pinned service
//   certificate before they are returned.
// - Threads: a Client is thread-safe and holds no global state. Asynchronous
//   calls complete on gRPC's threads: callbacks must not block. Destroying the
//   Client cancels the calls still in flight and waits for their callbacks to
//   return (so never destroy it from inside one).
//
// Errors are absl::Status with the gRPC code the service answered (see
// proto/cairn/v1/ledger.proto) and the machine-readable reason it attached
// (cairn/client/errors.h: ReasonOf, DefinitelyNotWritten, MayHaveBeenWritten);
// retries exhausted give the last node's error with the number of attempts
// added to the message. A write that fails after an attempt that may have
// reached the leader fails with reason OUTCOME_UNKNOWN (DEADLINE_EXCEEDED
// when its time ran out), never with a bare UNAVAILABLE.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/client/entry_iterator.h"
#include "cairn/client/errors.h"
#include "cairn/client/options.h"
#include "cairn/client/verify.h"
#include "cairn/v1/admin.pb.h"
#include "cairn/v1/ledger.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::client {

namespace internal {
class Core;
}  // namespace internal

struct AppendOptions {
  // Empty, or exactly 32 bytes (e.g. ClaimsDigest(claims)); the receipt proves it.
  std::string claims_digest;
  // Empty: the client generates one. At most 128 bytes.
  std::string idempotency_key;
  // True: answer once the entry is committed. False: once the leader has it
  // in its log (status PENDING); follow up with WaitForCommit.
  bool wait_for_commit = true;
  // True: answer only once a geo-replica's archive in the paired region
  // covers the entry (RPO 0 for it; APPEND_WAIT_GEO_DURABLE). A time-out
  // then is NOT_GEO_DURABLE with the txid: written, not yet archived.
  bool geo_durable = false;
};

struct AppendResult {
  std::string txid;
  v1::TransactionStatus status = v1::TRANSACTION_STATUS_UNKNOWN;  // COMMITTED or PENDING
  bool duplicate = false;       // a retry of an append already in the ledger
  std::string idempotency_key;  // the key the append was sent with
};

// One entry of an AppendBatch.
struct BatchEntry {
  std::string collection_id;
  std::string contents;
  // Empty, or exactly 32 bytes; the entry's receipt proves it.
  std::string claims_digest;
  // Empty: "<batch key>/<position>" (see AppendBatchOptions). At most 128
  // bytes; no two entries of a batch may share one.
  std::string idempotency_key;
};

struct AppendBatchOptions {
  // The batch's key. Empty: the client generates one. An entry without a
  // key of its own is sent with "<this key>/<its position>", so a retry of
  // the same batch with the same key is recognised entry by entry and
  // writes only what the first attempt did not. At most 100 bytes.
  std::string idempotency_key;
  // As AppendOptions, for every entry (GEO_DURABLE: until an archived
  // checkpoint covers the last of them).
  bool wait_for_commit = true;
  bool geo_durable = false;
};

struct ReceiptOptions {
  // Wait (up to timeout_ms) for a signature to cover the txid instead of
  // failing with NotFound.
  bool wait = false;
  int64_t timeout_ms = 30000;
  // Checked against the receipt's leaf when set (see ReceiptExpectations).
  ReceiptExpectations expect;
};

using AppendCallback = std::function<void(absl::StatusOr<AppendResult>)>;
using AppendBatchCallback = std::function<void(absl::StatusOr<std::vector<AppendResult>>)>;

class Client {
 public:
  // Reads the credentials, opens no connection yet (channels connect on first
  // use), and loads the verified-state file when one is configured.
  // InvalidArgument naming the field for bad options; the file's error when a
  // credential or state file cannot be read; DataLoss when the state file holds a
  // checkpoint that does not verify against the pinned service certificate.
  static absl::StatusOr<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- Data plane (LedgerService) ----

  // Appends one entry to `collection_id` and returns its txid. On failure,
  // DefinitelyNotWritten(status) says nothing was written; otherwise the
  // reason is OUTCOME_UNKNOWN (metadata "idempotency_key", and "txid" when a
  // node assigned one): retry with that key, or look the txid up.
  absl::StatusOr<AppendResult> Append(absl::string_view collection_id, absl::string_view contents,
                                      const AppendOptions& options = {});
  // Same, without blocking: many appends may be in flight at once.
  std::future<absl::StatusOr<AppendResult>> AppendAsync(absl::string_view collection_id,
                                                        absl::string_view contents,
                                                        const AppendOptions& options = {});
  // Same, calling `done` (on a gRPC thread, exactly once) instead.
  void AppendAsync(absl::string_view collection_id, absl::string_view contents,
                   const AppendOptions& options, AppendCallback done);

  // Appends `entries` in one call (LedgerService.AppendBatch): each becomes
  // a transaction of its own, with its own txid and receipt; the results
  // come in the order of `entries`. Validation is all or nothing: an error
  // about one entry names it ("entries[i]: ...", metadata "entry_index") and
  // nothing was written. Otherwise, as Append: on OUTCOME_UNKNOWN (metadata
  // "idempotency_key": the batch's key) retry the same entries with that key.
  absl::StatusOr<std::vector<AppendResult>> AppendBatch(std::vector<BatchEntry> entries,
                                                        const AppendBatchOptions& options = {});
  std::future<absl::StatusOr<std::vector<AppendResult>>> AppendBatchAsync(
      std::vector<BatchEntry> entries, const AppendBatchOptions& options = {});
  void AppendBatchAsync(std::vector<BatchEntry> entries, const AppendBatchOptions& options,
                        AppendBatchCallback done);

  // Polls GetTransactionStatus, with backoff, until `txid` is COMMITTED or
  // INVALID and returns that status; DeadlineExceeded (reason
  // NOT_YET_AVAILABLE, metadata txid) after `timeout_ms`.
  absl::StatusOr<v1::TransactionStatus> WaitForCommit(absl::string_view txid,
                                                      int64_t timeout_ms = 30000);

  // One committed entry. Nodes that have not applied it yet pass the call on
  // (UNAVAILABLE, retried elsewhere); NotFound when it is not in the ledger.
  absl::StatusOr<v1::Entry> GetEntry(absl::string_view txid);
  absl::StatusOr<v1::Entry> GetCurrentEntry(
      absl::string_view collection_id,
      v1::ReadConsistency consistency = v1::READ_CONSISTENCY_LINEARIZABLE);
  // Entries of a collection in txid order; pages are fetched as the iterator advances.
  EntryIterator ListEntries(absl::string_view collection_id, const ListOptions& options = {});
  // Every collection, following pages up to `collections_max`.
  absl::StatusOr<std::vector<v1::CollectionSummary>> ListCollections(
      size_t collections_max = 100000);
  absl::StatusOr<v1::GetTransactionStatusResponse> GetTransactionStatus(absl::string_view txid);

  // The receipt of `txid`, verified (VerifyReceipt against the pinned service
  // certificate and options.expect; failure is DataLoss) and, with verified
  // state on, its checkpoint checked against the trusted one.
  absl::StatusOr<v1::Receipt> GetReceipt(absl::string_view txid,
                                         const ReceiptOptions& options = {});
  // to_tree_size 0 means the latest signed size.
  absl::StatusOr<v1::ConsistencyProof> GetConsistencyProof(uint64_t from_tree_size,
                                                           uint64_t to_tree_size = 0);
  // The latest signed checkpoint, verified; with verified state on it must
  // extend the trusted one (a smaller tree size is a rollback), and becomes it.
  absl::StatusOr<v1::GetLatestCheckpointResponse> GetLatestCheckpoint();
  absl::StatusOr<v1::GetServiceIdentityResponse> GetServiceIdentity();

  // The checkpoint the verified state trusts, if any.
  std::optional<v1::GetLatestCheckpointResponse> TrustedCheckpoint() const;
  // The endpoint that last accepted a write ("" when none has yet).
  std::string LeaderHint() const;
  // The pinned service certificate (PEM).
  const std::string& service_certificate_pem() const;

  // ---- Administration (AdminService; Administrator role) ----
  // Governance changes return the txid of the transaction that recorded them.

  // Adds or changes a user: give user.user_id, or leave it empty and give the
  // user's certificate.
  absl::StatusOr<std::string> PutUser(const v1::User& user, absl::string_view certificate_pem = "");
  absl::StatusOr<std::string> RemoveUser(absl::string_view user_id);
  absl::StatusOr<v1::User> GetUser(absl::string_view user_id);
  absl::StatusOr<std::vector<v1::User>> ListUsers();
  absl::StatusOr<std::string> AddLearner(const v1::NodeInfo& node);
  absl::StatusOr<std::string> PromoteLearner(uint64_t node_id);
  absl::StatusOr<std::string> RemoveNode(uint64_t node_id);
  // target_node_id 0 lets the leader pick.
  absl::StatusOr<v1::TransferLeadershipResponse> TransferLeadership(uint64_t target_node_id = 0);
  // Snapshots the node at `endpoint` (any address; "" = the first configured
  // endpoint). Retried only against that node.
  absl::StatusOr<v1::TriggerSnapshotResponse> TriggerSnapshot(absl::string_view endpoint = "");
  absl::StatusOr<v1::ClusterStatus> GetClusterStatus();
  // Disaster recovery as the leader sees it: each geo-replica's region,
  // archive, latest cosignature (verify it with ledger::VerifyCosignature),
  // lag and last error. Requires Reader.
  absl::StatusOr<v1::DrStatus> GetDrStatus();
  // Sets the residency policy: the regions where copies of the ledger may
  // be (empty lifts it); single_region: the leader's region only. Returns
  // the governance txid. FAILED_PRECONDITION when a member's region is left
  // out.
  absl::StatusOr<std::string> SetResidency(const std::vector<std::string>& allowed_regions,
                                           bool single_region = false);
  // Replaces the service's settings (Administrator); returns the governance
  // txid. GetDrStatus().settings() shows them.
  absl::StatusOr<std::string> SetServiceSettings(const v1::ServiceSettings& settings);
  // A private ledger: starts a new version of the ledger secret for new
  // entries (Administrator); returns the governance txid. FAILED_PRECONDITION
  // on a public ledger.
  absl::StatusOr<std::string> RotateLedgerSecret();

 private:
  explicit Client(std::shared_ptr<internal::Core> core);

  // Checks a checkpoint served by the node at `endpoint` against the
  // verified state, fetching consistency proofs from that node.
  // A fork or rollback error, with the entries this client saw that the
  // ledger lost when the service reports a recovery from its archive.
  absl::Status WithLostEntries(const absl::Status& fork,
                               const std::optional<v1::GetLatestCheckpointResponse>& trusted);
  absl::Status ObserveCheckpoint(const v1::SignedCheckpoint& checkpoint,
                                 absl::string_view node_certificate_pem, bool is_latest,
                                 const std::string& endpoint);

  std::shared_ptr<internal::Core> core_;
};

}  // namespace cairn::client
