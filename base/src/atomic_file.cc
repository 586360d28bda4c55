// Whole-file replacement through mkstemp, fsync and rename (see atomic_file.h).
#include "cairn/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace cairn::base {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  const std::string text = absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(text);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(text);
  return absl::InternalError(text);
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("sync directory", dir, err);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReplaceFileAtomically(const std::string& path, absl::string_view data, int mode) {
  const std::filesystem::path target(path);
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : std::string(".");
  // Hidden and unique: a concurrent writer of the same path gets its own.
  std::string tmp = absl::StrCat(dir, "/.", target.filename().string(), ".tmp-XXXXXX");
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoError("create a temporary file in", dir, errno);
  absl::Status status = absl::OkStatus();
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) status = ErrnoError("chmod", tmp, errno);
  if (status.ok()) status = WriteAll(fd, data, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("sync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close", tmp, errno);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename a temporary file onto", path, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  if (absl::Status synced = SyncDir(dir); !synced.ok()) {
    return absl::Status(synced.code(), absl::StrCat(path,
                                                    " was replaced but may not survive a "
                                                    "crash: ",
                                                    synced.message()));
  }
  return absl::OkStatus();
}

}  // namespace cairn::base
