// Verified client state: the latest checkpoint this client verified, and the
// rule for accepting another. A checkpoint is verified when its signature
// checks under a node certificate issued by the pinned service certificate.
// A newer one (larger tree) is accepted only with an RFC 9162 consistency
// proof from the trusted one; one of the same size must be identical; an
// older one is a rollback when a node offers it as its latest, and must be
// consistent with the trusted one when it comes inside a receipt (receipts
// of old transactions legitimately carry old checkpoints). Every violation is
// DataLoss starting "ledger fork or rollback detected: ", which callers must
// surface, never retry away.
//
// The trusted checkpoint can be kept in a file (protobuf JSON of a
// GetLatestCheckpointResponse), so a restarted client keeps its memory; the
// file is re-verified when loaded. Each save replaces it atomically through a
// temporary file of its own, so processes sharing the file never corrupt it;
// between processes the last save wins (within one, it never goes back).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "cairn/ledger/identity.h"
#include "cairn/v1/ledger.pb.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::client::internal {

// The prefix of every fork/rollback error.
inline constexpr absl::string_view kForkPrefix = "ledger fork or rollback detected: ";

class VerifiedState {
 public:
  // Fetches the consistency proof between two tree sizes (from any node:
  // the proof is verified, not trusted).
  using ProofFetcher =
      std::function<absl::StatusOr<v1::ConsistencyProof>(uint64_t from_size, uint64_t to_size)>;

  // How a checkpoint reached the client.
  enum class Source {
    kLatest,   // a node's answer to GetLatestCheckpoint: must not be older
    kReceipt,  // inside a receipt: may be older, but must be consistent
  };

  // `state_file` may be empty (memory only).
  VerifiedState(ledger::Certificate service_cert, std::string state_file);

  // Loads the state file if it exists. DataLoss when it does not verify
  // against the service certificate; the read or parse error otherwise.
  absl::Status Load();

  // Checks `checkpoint`, signed by the node whose certificate is
  // `node_certificate_pem`, against the trusted checkpoint (see above) and
  // makes it the trusted one when it is newer. DataLoss ("unverifiable
  // checkpoint: ..." or kForkPrefix ...) on a violation; the fetcher's error
  // when a needed proof cannot be fetched.
  absl::Status Observe(const v1::SignedCheckpoint& checkpoint,
                       absl::string_view node_certificate_pem, Source source,
                       const ProofFetcher& fetch_proof);

  std::optional<v1::GetLatestCheckpointResponse> trusted() const;

 private:
  // One round of Observe against the trusted checkpoint `held`: OK with
  // *accept set when `checkpoint` should replace it.
  absl::Status CheckAgainst(const v1::GetLatestCheckpointResponse& held,
                            const v1::SignedCheckpoint& checkpoint, Source source,
                            const ProofFetcher& fetch_proof, bool* accept);
  absl::Status Save(const v1::GetLatestCheckpointResponse& state);

  const ledger::Certificate service_cert_;
  const std::string state_file_;
  mutable absl::Mutex mu_;
  std::optional<v1::GetLatestCheckpointResponse> trusted_ ABSL_GUARDED_BY(mu_);
  // Serializes this process's writes of the state file; across processes an
  // flock on "<state file>.lock" does, and a save never replaces a larger
  // checkpoint another process saved.
  absl::Mutex file_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

}  // namespace cairn::client::internal
