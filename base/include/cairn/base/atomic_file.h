// Replacing a whole file so that nobody sees half of it: readers find the old
// contents or the new, never a mix, and a crash leaves one of the two. Used
// for files a client rewrites in place (its verified-state file, a saved
// service certificate), possibly from several processes at once.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cairn::base {

// Replaces the file at `path` with `data`, with permission bits `mode`. The
// bytes go to a temporary file of a unique name (mkstemp) in the same
// directory, which is synced, renamed onto `path`, and the directory synced.
// Concurrent writers of one `path` never share a temporary file, so the last
// rename wins and the file is always one writer's whole contents.
//
// On an error before the rename, `path` is unchanged and the temporary file
// is removed; the error names the file and the failed step (NotFound when the
// directory does not exist, PermissionDenied, else Internal). If only the
// final directory sync fails, `path` already holds `data` but may not after a
// crash; the error says so.
absl::Status ReplaceFileAtomically(const std::string& path, absl::string_view data,
                                   int mode = 0644);

}  // namespace cairn::base
