// A private ledger's recovery shares as operators hold them (docs/formats.md,
// "Recovery shares"). The ledger records each operator's share of the
// recovery secret wrapped to the operator's certificate (v1::RecoveryKey);
// `cairnctl recovery share` opens one with the operator's key and writes
// it as a share file, and `cairn-node recover --recovery-share` takes k of
// them. Splitting and rebuilding the secret is the node's
// (node/src/setup/recovery_key.h); this is what both sides read and write.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/identity.h"
#include "cairn/v1/log.pb.h"

namespace cairn::ledger {

inline constexpr absl::string_view kRecoveryShareFormat = "cairn-recovery-share-v1";
// The recovery secret, and so each share, is this long.
inline constexpr size_t kRecoverySecretBytes = 32;

// One operator's share, opened. Secret: whoever holds k of them can read
// every entry of the ledger. Wipes itself.
struct RecoveryShareFile {
  RecoveryShareFile() = default;
  RecoveryShareFile(const RecoveryShareFile&) = default;
  RecoveryShareFile& operator=(const RecoveryShareFile&) = default;
  ~RecoveryShareFile();

  std::string service_id;    // the service certificate's fingerprint
  std::string recovery_key;  // hex SHA-256 of RecoveryKey.public_key_der
  uint32_t index = 0;        // the share's x-coordinate, 1..255
  std::string share;         // kRecoverySecretBytes bytes
};

// Hex SHA-256 of `record.public_key_der`: names a recovery key.
std::string RecoveryKeyFingerprint(const v1::RecoveryKey& record);

// The share `record` holds for the operator whose certificate is
// `operator_cert`, opened with its private key. NotFound when the record
// has no share for this certificate; InvalidArgument when the key is not
// the certificate's or the share does not open.
absl::StatusOr<RecoveryShareFile> OpenRecoveryShare(const v1::RecoveryKey& record,
                                                    absl::string_view service_id,
                                                    const Certificate& operator_cert,
                                                    const PrivateKey& operator_key);

// The file's bytes: one JSON object {"format": "cairn-recovery-share-v1",
// "service_id", "recovery_key", "index", "share" (hex)} and a newline.
std::string EncodeRecoveryShareFile(const RecoveryShareFile& share);
// InvalidArgument naming what is wrong when `bytes` is not such a file.
absl::StatusOr<RecoveryShareFile> DecodeRecoveryShareFile(absl::string_view bytes);

}  // namespace cairn::ledger
