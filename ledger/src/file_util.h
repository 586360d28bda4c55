// Private file helpers: bounded whole-file reads and all-or-nothing creation
// of new files. Files that hold keys, certificates and ledger segments are
// never overwritten and never left half-written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cairn::ledger::internal {

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
// removed again: either all files exist afterwards or none does.
absl::Status CreateNewFiles(const std::vector<NewFile>& files);

}  // namespace cairn::ledger::internal
