// Data directory format version and exclusive lock (see data_dir.h).
#include "cairn/storage/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cairn/base/files.h"

namespace cairn::storage {
namespace {

namespace fs = std::filesystem;

constexpr char kFormatPrefix[] = "cairn-data-dir ";

// Every failure to set up the data directory is FailedPrecondition (fix the
// directory, then start again), whatever the errno.
absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(base::ErrnoStatus(what, path, errno).message());
}

// Writes FORMAT durably: temp file, fsync, rename, fsync the directory. The
// temporary name is fixed (not base::WriteSyncedTempFile's unique one) so a
// first start that died before the rename leaves a name Open recognizes.
absl::Status WriteFormat(const std::string& dir) {
  const std::string tmp = dir + "/FORMAT.tmp";
  const std::string contents = absl::StrCat(kFormatPrefix, kDataDirFormatVersion, "\n");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  absl::Status st = base::WriteAll(fd, contents, tmp);
  if (st.ok() && ::fsync(fd) != 0) st = base::ErrnoStatus("cannot sync", tmp, errno);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), (dir + "/FORMAT").c_str()) != 0) {
    st = base::ErrnoStatus("cannot rename", tmp, errno);
  }
  if (st.ok()) st = base::SyncDirectory(dir);
  if (!st.ok()) return absl::FailedPreconditionError(st.message());
  return absl::OkStatus();
}

// True when `dir` holds nothing but what Open itself leaves before FORMAT
// exists: LOCK, and FORMAT.tmp when a first start died before the rename (its
// contents are unknown, so it is rewritten, never read). Anything else means
// the directory belongs to someone. A listing error is returned, never taken
// for "empty": that would stamp FORMAT on a directory we could not inspect.
absl::StatusOr<bool> HoldsOnlyCreationLeftovers(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  bool fresh = true;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != "LOCK" && name != "FORMAT.tmp") fresh = false;
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list data directory ", dir, ": ", ec.message()));
  }
  return fresh;
}

absl::Status CheckFormat(const std::string& dir) {
  std::ifstream in(dir + "/FORMAT");
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", dir, " is not empty but has no FORMAT file; refusing to use it"));
  }
  std::string line;
  std::getline(in, line);
  absl::string_view rest = line;
  int version = 0;
  if (!absl::ConsumePrefix(&rest, kFormatPrefix) || !absl::SimpleAtoi(rest, &version)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", dir, ": unreadable FORMAT file: \"", line, "\""));
  }
  if (version != kDataDirFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", dir, " has format version ", version,
                     "; this cairn-node reads only version ", kDataDirFormatVersion));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path,
                                                       bool create_if_missing) {
  std::error_code ec;
  const bool existed = fs::exists(path, ec);
  if (!existed) {
    if (!create_if_missing) {
      return absl::NotFoundError(absl::StrCat("data directory ", path, " does not exist"));
    }
    fs::create_directories(path, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create data directory ", path, ": ", ec.message()));
    }
  } else if (!fs::is_directory(path, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a directory"));
  }

  const std::string lock_path = path + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open lock file", lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", path, " is in use by another process (", lock_path, " is locked)"));
    }
    errno = err;
    return ErrnoError("cannot lock", lock_path);
  }

  // Under the lock: a directory holding only LOCK, FORMAT.tmp, or nothing is new.
  absl::StatusOr<bool> fresh = HoldsOnlyCreationLeftovers(path);
  if (!fresh.ok()) {
    ::close(fd);
    return fresh.status();
  }
  absl::Status st = absl::OkStatus();
  bool created = false;
  if (*fresh && create_if_missing) {
    st = WriteFormat(path);
    created = st.ok();
  } else {
    st = CheckFormat(path);
  }
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  return std::unique_ptr<DataDir>(new DataDir(path, fd, created));
}

DataDir::~DataDir() { ::close(lock_fd_); }

}  // namespace cairn::storage
