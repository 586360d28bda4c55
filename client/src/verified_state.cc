// Verified client state (see verified_state.h).
#include "verified_state.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cairn/base/atomic_file.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/checkpoint.h"

namespace cairn::client::internal {
namespace {

// Concurrent observers that keep replacing the trusted checkpoint under each
// other make a round start over; past this many, Observe gives up (Aborted).
constexpr int kRoundsMax = 16;
constexpr size_t kStateFileBytesMax = 1 << 20;

absl::Status ForkError(absl::string_view what) {
  return absl::DataLossError(absl::StrCat(kForkPrefix, what));
}

std::string Describe(const v1::Checkpoint& c) {
  return absl::StrCat("tree size ", c.tree_size(), " root ",
                      base::HexEncode(c.root_hash()).substr(0, 16), "… last txid ", c.last_txid());
}

bool SameCheckpoint(const v1::Checkpoint& a, const v1::Checkpoint& b) {
  return a.tree_size() == b.tree_size() && a.root_hash() == b.root_hash() &&
         a.last_txid() == b.last_txid() && a.service_id() == b.service_id();
}

// The saved checkpoint in `path` (nullopt when there is none), parsed but not
// verified.
absl::StatusOr<std::optional<v1::GetLatestCheckpointResponse>> ReadStateFile(
    const std::string& path) {
  if (path.empty() || !std::filesystem::exists(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in || buf.str().size() > kStateFileBytesMax) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read verified-state file ", path));
  }
  v1::GetLatestCheckpointResponse state;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (!google::protobuf::util::JsonStringToMessage(buf.str(), &state, options).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("verified-state file ", path, " is not a saved checkpoint"));
  }
  return state;
}

// An exclusive advisory lock on "<state file>.lock", held while it lives, so
// that processes sharing a state file take turns reading and replacing it.
class StateFileLock {
 public:
  explicit StateFileLock(const std::string& state_file) {
    const std::string path = state_file + ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      status_ = absl::UnavailableError(
          absl::StrCat("cannot open lock file ", path, ": ", std::strerror(errno)));
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      status_ =
          absl::UnavailableError(absl::StrCat("cannot lock ", path, ": ", std::strerror(errno)));
      return;
    }
  }
  ~StateFileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  StateFileLock(const StateFileLock&) = delete;
  StateFileLock& operator=(const StateFileLock&) = delete;
  const absl::Status& status() const { return status_; }

 private:
  int fd_ = -1;
  absl::Status status_;
};

}  // namespace

VerifiedState::VerifiedState(ledger::Certificate service_cert, std::string state_file)
    : service_cert_(std::move(service_cert)), state_file_(std::move(state_file)) {}

absl::Status VerifiedState::Load() {
  auto read = ReadStateFile(state_file_);
  if (!read.ok()) return read.status();
  if (!read->has_value()) return absl::OkStatus();
  v1::GetLatestCheckpointResponse state = **std::move(read);
  auto node_cert = ledger::Certificate::FromPem(state.node_certificate_pem());
  absl::Status verified = node_cert.status();
  if (verified.ok())
    verified = ledger::VerifySignedCheckpoint(state.checkpoint(), *node_cert, service_cert_);
  if (!verified.ok()) {
    return absl::DataLossError(
        absl::StrCat("verified-state file ", state_file_,
                     " holds an unverifiable checkpoint: ", verified.message()));
  }
  absl::MutexLock lock(&mu_);
  trusted_ = std::move(state);
  return absl::OkStatus();
}

absl::Status VerifiedState::Observe(const v1::SignedCheckpoint& checkpoint,
                                    absl::string_view node_certificate_pem, Source source,
                                    const ProofFetcher& fetch_proof) {
  auto node_cert = ledger::Certificate::FromPem(node_certificate_pem);
  absl::Status verified = node_cert.status();
  if (verified.ok())
    verified = ledger::VerifySignedCheckpoint(checkpoint, *node_cert, service_cert_);
  if (!verified.ok()) {
    return absl::DataLossError(absl::StrCat("unverifiable checkpoint: ", verified.message()));
  }
  v1::GetLatestCheckpointResponse candidate;
  *candidate.mutable_checkpoint() = checkpoint;
  candidate.set_node_certificate_pem(std::string(node_certificate_pem));
  for (int round = 0; round < kRoundsMax; ++round) {
    std::optional<v1::GetLatestCheckpointResponse> held = trusted();
    bool accept = true;  // trust on first use, once the signature verified
    if (held.has_value()) {
      if (absl::Status s = CheckAgainst(*held, checkpoint, source, fetch_proof, &accept); !s.ok()) {
        return s;
      }
      if (!accept) return absl::OkStatus();
    }
    {
      absl::MutexLock lock(&mu_);
      const bool unchanged =
          held.has_value()
              ? trusted_.has_value() && SameCheckpoint(trusted_->checkpoint().checkpoint(),
                                                       held->checkpoint().checkpoint())
              : !trusted_.has_value();
      if (!unchanged) continue;  // someone else moved it: check again
      trusted_ = candidate;
    }
    return Save(candidate);
  }
  return absl::AbortedError("verified state: the trusted checkpoint kept changing; try again");
}

absl::Status VerifiedState::CheckAgainst(const v1::GetLatestCheckpointResponse& held,
                                         const v1::SignedCheckpoint& checkpoint, Source source,
                                         const ProofFetcher& fetch_proof, bool* accept) {
  const v1::Checkpoint& trusted = held.checkpoint().checkpoint();
  const v1::Checkpoint& seen = checkpoint.checkpoint();
  *accept = false;
  if (seen.tree_size() == trusted.tree_size()) {
    if (SameCheckpoint(seen, trusted)) return absl::OkStatus();
    return ForkError(absl::StrCat("two checkpoints of the same size differ: trusted ",
                                  Describe(trusted), ", now ", Describe(seen)));
  }
  if (seen.tree_size() < trusted.tree_size() && source == Source::kLatest) {
    return ForkError(absl::StrCat("rollback: a node's latest checkpoint (", Describe(seen),
                                  ") is older than the trusted one (", Describe(trusted), ")"));
  }
  const bool newer = seen.tree_size() > trusted.tree_size();
  const v1::Checkpoint& earlier = newer ? trusted : seen;
  const v1::Checkpoint& later = newer ? seen : trusted;
  absl::StatusOr<v1::ConsistencyProof> proof = fetch_proof(earlier.tree_size(), later.tree_size());
  if (!proof.ok()) return proof.status();
  if (absl::Status s = ledger::VerifyCheckpointExtends(earlier, later, *proof); !s.ok()) {
    return ForkError(absl::StrCat(Describe(later), " does not extend ", Describe(earlier), " (the ",
                                  newer ? "trusted" : "receipt's", " checkpoint): ", s.message()));
  }
  *accept = newer;
  return absl::OkStatus();
}

std::optional<v1::GetLatestCheckpointResponse> VerifiedState::trusted() const {
  absl::MutexLock lock(&mu_);
  return trusted_;
}

absl::Status VerifiedState::Save(const v1::GetLatestCheckpointResponse& state) {
  if (state_file_.empty()) return absl::OkStatus();
  absl::MutexLock file_lock(&file_mu_);
  StateFileLock process_lock(state_file_);
  if (!process_lock.status().ok()) return process_lock.status();
  // Write whatever is trusted now, which is at least as new as `state`...
  v1::GetLatestCheckpointResponse latest = trusted().value_or(state);
  // ... unless another process sharing the file saved a larger checkpoint
  // meanwhile: the file never goes backwards (whoever loads it next checks
  // what it sees against that one).
  auto on_disk = ReadStateFile(state_file_);
  if (on_disk.ok() && on_disk->has_value() &&
      (*on_disk)->checkpoint().checkpoint().tree_size() >=
          latest.checkpoint().checkpoint().tree_size()) {
    return absl::OkStatus();
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(latest, &json, options).ok()) {
    return absl::InternalError("cannot encode the verified state");
  }
  // 0600: the file decides what this user trusts. A unique temporary file
  // per write, so processes sharing the file cannot clobber each other's.
  return base::ReplaceFileAtomically(state_file_, json, 0600);
}

}  // namespace cairn::client::internal
