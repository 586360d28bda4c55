// Bounded reads and all-or-nothing creation of new files (see file_util.h).
#include "file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace cairn::ledger::internal {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  const std::string text = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(text);
  if (err == EEXIST) return absl::AlreadyExistsError(text);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(text);
  return absl::InternalError(text);
}

std::string DirOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

absl::Status WriteAll(int fd, const std::string& contents, const std::string& path) {
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync directory", dir, err);
  return absl::OkStatus();
}

// Writes `file` under a temporary name, syncs it, and links it into place.
absl::Status CreateOne(const NewFile& file) {
  std::string tmp = absl::StrCat(DirOf(file.path), "/.cairn-tmp-XXXXXX");
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return ErrnoError("create temporary file in", DirOf(file.path), errno);
  absl::Status status = absl::OkStatus();
  if (::fchmod(fd, static_cast<mode_t>(file.mode)) != 0) {
    status = ErrnoError("chmod", tmp, errno);
  }
  if (status.ok()) status = WriteAll(fd, file.contents, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync", tmp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close", tmp, errno);
  // link() fails with EEXIST instead of replacing: nothing is overwritten.
  if (status.ok() && ::link(tmp.c_str(), file.path.c_str()) != 0) {
    status = ErrnoError("create", file.path, errno);
  }
  ::unlink(tmp.c_str());
  return status;
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path, uint64_t size_bytes_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  std::string out;
  char buf[1 << 16];
  absl::Status status = absl::OkStatus();
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      status = ErrnoError("read", path, errno);
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
      status = SyncDir(DirOf(f.path));
    }
    if (!status.ok()) {
      for (const std::string& path : created) ::unlink(path.c_str());
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger::internal
