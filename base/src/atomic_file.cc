// Whole-file replacement through a synced temporary file and rename (see atomic_file.h).
#include "cairn/base/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "cairn/base/files.h"

namespace cairn::base {

absl::Status ReplaceFileAtomically(const std::string& path, absl::string_view data, int mode) {
  const std::filesystem::path target(path);
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : std::string(".");
  // Hidden and unique: a concurrent writer of the same path gets its own.
  auto tmp = WriteSyncedTempFile(dir, absl::StrCat(".", target.filename().string(), ".tmp-XXXXXX"),
                                 data, mode);
  if (!tmp.ok()) return tmp.status();
  if (::rename(tmp->c_str(), path.c_str()) != 0) {
    const absl::Status status = ErrnoStatus("cannot rename a temporary file onto", path, errno);
    ::unlink(tmp->c_str());
    return status;
  }
  if (absl::Status synced = SyncDirectory(dir); !synced.ok()) {
    return absl::Status(synced.code(), absl::StrCat(path,
                                                    " was replaced but may not survive a "
                                                    "crash: ",
                                                    synced.message()));
  }
  return absl::OkStatus();
}

}  // namespace cairn::base
