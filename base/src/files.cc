// POSIX file helpers (see files.h).
#include "cairn/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cairn::base {

absl::Status ErrnoStatus(absl::string_view what, absl::string_view path, int err) {
  const std::string text = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(text);
  if (err == EEXIST) return absl::AlreadyExistsError(text);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(text);
  return absl::InternalError(text);
}

absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot sync directory", dir, err);
  return absl::OkStatus();
}

absl::StatusOr<std::string> WriteSyncedTempFile(const std::string& dir,
                                                absl::string_view name_pattern,
                                                absl::string_view data, int mode) {
  std::string tmp = absl::StrCat(dir, "/", name_pattern);
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoStatus("cannot create a temporary file in", dir, errno);
  absl::Status status = absl::OkStatus();
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0)
    status = ErrnoStatus("cannot chmod", tmp, errno);
  if (status.ok()) status = WriteAll(fd, data, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("cannot sync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("cannot close", tmp, errno);
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return tmp;
}

}  // namespace cairn::base
