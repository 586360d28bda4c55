// The JSON form of receipts and signed checkpoints (docs/formats.md,
// "Receipt JSON"): the protobuf structure with the same field names, bytes as
// lowercase hex, entry kinds by name, integers as JSON numbers.
//
// Parsing is strict, because its input comes from outside: every key is
// required, unknown and duplicate keys are rejected, hex must be lowercase,
// integers must be integers in range, and documents are at most 1 MiB and 16
// levels deep. Errors are InvalidArgument naming the key path.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/v1/receipt.pb.h"

namespace cairn::ledger {

inline constexpr size_t kReceiptBytesMax = 1 << 20;

// Pretty-printed JSON (2-space indent, keys in documented order, trailing newline).
std::string ReceiptToJson(const v1::Receipt& receipt);
absl::StatusOr<v1::Receipt> ReceiptFromJson(absl::string_view json);

std::string SignedCheckpointToJson(const v1::SignedCheckpoint& signed_checkpoint);
absl::StatusOr<v1::SignedCheckpoint> SignedCheckpointFromJson(absl::string_view json);

// A receipt in either form: JSON when the first non-whitespace byte is '{',
// binary protobuf otherwise. At most kReceiptBytesMax bytes.
absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes);

}  // namespace cairn::ledger
