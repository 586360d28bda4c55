// Bounded reads and all-or-nothing creation of new files (see file_util.h).
#include "file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "cairn/base/files.h"

namespace cairn::ledger::internal {
namespace {

std::string DirOf(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Writes `file` under a temporary name, syncs it, and links it into place.
absl::Status CreateOne(const NewFile& file) {
  auto tmp =
      base::WriteSyncedTempFile(DirOf(file.path), ".cairn-tmp-XXXXXX", file.contents, file.mode);
  if (!tmp.ok()) return tmp.status();
  // link() fails with EEXIST instead of replacing: nothing is overwritten.
  absl::Status status = absl::OkStatus();
  if (::link(tmp->c_str(), file.path.c_str()) != 0) {
    status = base::ErrnoStatus("cannot create", file.path, errno);
  }
  ::unlink(tmp->c_str());
  return status;
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path, uint64_t size_bytes_max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return base::ErrnoStatus("cannot open", path, errno);
  std::string out;
  char buf[1 << 16];
  absl::Status status = absl::OkStatus();
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      status = base::ErrnoStatus("cannot read", path, errno);
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
      status = base::SyncDirectory(DirOf(f.path));
    }
    if (!status.ok()) {
      for (const std::string& path : created) ::unlink(path.c_str());
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger::internal
