// POSIX file helpers (see files.h).
#include "cairn/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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

namespace {

std::string DirOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Writes `file` under a temporary name, syncs it, and links it into place.
absl::Status CreateOne(const NewFile& file) {
  auto tmp = WriteSyncedTempFile(DirOf(file.path), ".cairn-tmp-XXXXXX", file.contents, file.mode);
  if (!tmp.ok()) return tmp.status();
  // link() fails with EEXIST instead of replacing: nothing is overwritten.
  absl::Status status = absl::OkStatus();
  if (::link(tmp->c_str(), file.path.c_str()) != 0) {
    status = ErrnoStatus("cannot create", file.path, errno);
  }
  ::unlink(tmp->c_str());
  return status;
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path, uint64_t size_bytes_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open", path, errno);
  std::string out;
  char buf[1 << 16];
  absl::Status status = absl::OkStatus();
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoStatus("cannot read", path, errno);
      break;
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > size_bytes_max) {
      status = absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than the limit of ", size_bytes_max, " bytes"));
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!status.ok()) return status;
  return out;
}

absl::Status CreateNewFiles(const std::vector<NewFile>& files) {
  for (const NewFile& f : files) {
    struct stat st;
    if (::lstat(f.path.c_str(), &st) == 0) {
      return absl::AlreadyExistsError(absl::StrCat(f.path, " already exists; not overwriting it"));
    }
  }
  std::vector<std::string> created;
  for (const NewFile& f : files) {
    // CreateOne links the file into place as its last step, so on failure
    // it has created nothing; everything in `created` is ours to remove.
    absl::Status status = CreateOne(f);
    if (status.ok()) {
      created.push_back(f.path);
      status = SyncDirectory(DirOf(f.path));
    }
    if (!status.ok()) {
      for (const std::string& path : created) ::unlink(path.c_str());
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn::base
