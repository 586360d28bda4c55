// The POSIX file helpers the modules that write files share: an error
// status for a failed system call, a write that survives short writes and
// signals, and the directory sync that makes a rename or link durable. For
// the edges (ledger files, the data directory, client state files); the pure
// modules never include it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::base {

// "<what> <path>: <strerror(err)>", coded by `err`: NotFound (ENOENT,
// ENOTDIR), AlreadyExists (EEXIST), PermissionDenied (EACCES, EPERM, EROFS),
// Internal otherwise. `what` names the failed step ("cannot write", "fsync").
absl::Status ErrnoStatus(absl::string_view what, absl::string_view path, int err);

// Writes all of `data` to `fd`, retrying short writes and EINTR. The error
// names `path` (the file behind `fd`).
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path);

// fsyncs the directory `dir`, so that a file created, renamed or linked in it
// survives a crash. The error says which step failed ("open directory",
// "sync directory") and names `dir`.
absl::Status SyncDirectory(const std::string& dir);

// Creates a file of a unique name in `dir` (`name_pattern` ends in "XXXXXX",
// which mkstemp replaces), with permission bits `mode`, holding `data`,
// synced and closed, and returns its path: ready to be renamed or linked into
// place. On an error nothing is left behind.
absl::StatusOr<std::string> WriteSyncedTempFile(const std::string& dir,
                                                absl::string_view name_pattern,
                                                absl::string_view data, int mode);

// The whole file at `path`. NotFound if it does not exist; InvalidArgument
// naming the limit if it is larger than `size_bytes_max`.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, uint64_t size_bytes_max);

struct NewFile {
  std::string path;
  std::string contents;
  int mode = 0644;  // permission bits the file is created with
};

// Creates every file in `files` with its contents and mode. Each is written
// to a temporary name in the same directory, synced, then linked into place,
// so a file is either absent or complete. AlreadyExists if any target exists
// (nothing is overwritten). On any error the files this call created are
// removed again: either all files exist afterwards or none does (a crash in
// the middle can leave the first ones).
absl::Status CreateNewFiles(const std::vector<NewFile>& files);

}  // namespace cairn::base
