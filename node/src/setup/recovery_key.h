// A private ledger's recovery key (docs/formats.md, "Recovery shares"):
// made with the genesis when the service is created with recovery operators,
// and rebuilt by `cairn-node recover` from k of their shares. Shamir secret
// sharing over GF(2^8) is libgfshare's; the randomness is OpenSSL's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/recovery_share.h"
#include "cairn/v1/log.pb.h"

namespace cairn::node {

// The operators' certificates of --recovery-operator-cert-file, in order:
// each readable, with a P-256 key, and no certificate twice.
// FailedPrecondition naming the file otherwise.
absl::StatusOr<std::vector<ledger::Certificate>> ReadRecoveryOperators(
    const std::vector<std::string>& files);

// A fresh recovery key for service `service_id`: a P-256 key pair whose
// private key is sealed under a fresh 32-byte recovery secret, and that
// secret split into one share per operator (index i+1 for operators[i]),
// any `threshold` of which rebuild it, each wrapped to its operator's
// certificate. Nothing secret is kept. InvalidArgument unless 1 <=
// threshold <= operators.size() <= 255.
absl::StatusOr<v1::RecoveryKey> MakeRecoveryKey(const std::vector<ledger::Certificate>& operators,
                                                uint32_t threshold, absl::string_view service_id);

// The recovery key's private key, rebuilt from operators' shares.
// FailedPrecondition naming what is wrong, before anything is used: a share
// of another service or another recovery key, an index the key does not
// have or given twice, fewer than the threshold, or shares that do not
// rebuild the key (one of them altered).
absl::StatusOr<ledger::PrivateKey> RebuildRecoveryKey(
    const v1::RecoveryKey& record, absl::string_view service_id,
    const std::vector<ledger::RecoveryShareFile>& shares);

}  // namespace cairn::node
