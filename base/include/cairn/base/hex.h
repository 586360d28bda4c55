// Lowercase hexadecimal encoding, used wherever Cairn shows a hash or a key
// fingerprint to a person (CLI output, logs, JSON forms).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::base {

// Returns the lowercase hex form of `bytes` (two characters per byte).
std::string HexEncode(absl::string_view bytes);

// Decodes hex (either case). Returns InvalidArgument naming `what` when the
// input has an odd length or a character that is not a hex digit.
absl::StatusOr<std::string> HexDecode(absl::string_view hex, absl::string_view what = "hex");

}  // namespace cairn::base
