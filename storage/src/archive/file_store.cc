// The file:// archive store: a directory, one file per object and its
// SHA-256 beside it in NAME.sha256 (see archive_store.h).
//
// Put creates the digest file and then the object, each written under a
// temporary name, synced, and linked into place (never replacing). A crash
// in between leaves a digest file without its object; the next Put of that
// name replaces the orphan. A reader never sees an object without its
// digest, except one that somebody removed by hand (DataLoss).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cairn/base/atomic_file.h"
#include "cairn/base/files.h"
#include "cairn/ledger/hash.h"
#include "stores.h"

namespace cairn::storage::internal {
namespace {

constexpr absl::string_view kDigestSuffix = ".sha256";
// A concurrent Replace can be seen half done (new digest, old object);
// reads of a mutable object try again this many times.
constexpr int kReadAttempts = 3;

// "HEX  BASENAME\n": the line `sha256sum` writes and `sha256sum -c` reads.
std::string DigestLine(absl::string_view bytes, const std::string& path) {
  return absl::StrCat(ledger::HashToHex(ledger::Sha256(bytes)), "  ",
                      std::filesystem::path(path).filename().string(), "\n");
}

class FileStore final : public ArchiveStore {
 public:
  FileStore(std::string url, std::string root) : url_(std::move(url)), root_(std::move(root)) {}

  const std::string& url() const override { return url_; }

  absl::Status Check() override {
    std::error_code ec;
    if (std::filesystem::is_directory(root_, ec)) return Writable();
    const std::filesystem::path parent = std::filesystem::path(root_).parent_path();
    if (!std::filesystem::is_directory(parent, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat("archive ", url_, ": neither the directory nor its parent ", parent.string(),
                       " exists (is the paired region's volume mounted?)"));
    }
    if (!std::filesystem::create_directory(root_, ec) && ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("archive ", url_, ": cannot create ", root_, ": ", ec.message()));
    }
    return Writable();
  }

  absl::Status Put(absl::string_view name, absl::string_view bytes) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    const std::string path = PathOf(name);
    if (absl::Status s = MakeParent(path); !s.ok()) return s;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (Exists(path)) return SameBytes(name, bytes);
      // No object: a digest file alone is an orphan of an interrupted Put.
      ::unlink((path + std::string(kDigestSuffix)).c_str());
      absl::Status s =
          base::CreateNewFiles({{path + std::string(kDigestSuffix), DigestLine(bytes, path), 0444},
                                {path, std::string(bytes), 0444}});
      if (s.ok()) return s;
      if (!absl::IsAlreadyExists(s)) return Named(name, s);
      // Another writer got there first: compare with what it wrote.
    }
    return SameBytes(name, bytes);
  }

  absl::Status Replace(absl::string_view name, absl::string_view bytes) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    const std::string path = PathOf(name);
    if (absl::Status s = MakeParent(path); !s.ok()) return s;
    if (absl::Status s =
            base::ReplaceFileAtomically(path + std::string(kDigestSuffix), DigestLine(bytes, path));
        !s.ok()) {
      return Named(name, s);
    }
    if (absl::Status s = base::ReplaceFileAtomically(path, bytes); !s.ok()) return Named(name, s);
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Get(absl::string_view name) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    const std::string path = PathOf(name);
    absl::Status last;
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
      absl::StatusOr<std::string> bytes = base::ReadFileToString(path, kArchiveObjectBytesMax);
      if (!bytes.ok()) {
        if (absl::IsNotFound(bytes.status())) {
          return absl::NotFoundError(absl::StrCat("archive ", url_, " has no object ", name));
        }
        return Named(name, bytes.status());
      }
      absl::StatusOr<std::string> recorded = RecordedDigest(name, path);
      if (!recorded.ok()) return recorded.status();
      const std::string actual = ledger::HashToHex(ledger::Sha256(*bytes));
      if (actual == *recorded) return bytes;
      last = absl::DataLossError(absl::StrCat("archive ", url_, ": object ", name,
                                              " is damaged: its SHA-256 is ", actual,
                                              " but it was written with ", *recorded));
    }
    return last;
  }

  absl::StatusOr<ArchiveObjectInfo> Stat(absl::string_view name) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    const std::string path = PathOf(name);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        return absl::NotFoundError(absl::StrCat("archive ", url_, " has no object ", name));
      }
      return Named(name, base::ErrnoStatus("cannot stat", path, errno));
    }
    absl::StatusOr<std::string> recorded = RecordedDigest(name, path);
    if (!recorded.ok()) return recorded.status();
    return ArchiveObjectInfo{static_cast<uint64_t>(st.st_size), *std::move(recorded)};
  }

 private:
  std::string PathOf(absl::string_view name) const { return absl::StrCat(root_, "/", name); }

  static bool Exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
  }

  absl::Status Named(absl::string_view name, const absl::Status& s) const {
    return absl::Status(s.code(),
                        absl::StrCat("archive ", url_, ": object ", name, ": ", s.message()));
  }

  absl::Status Writable() const {
    if (::access(root_.c_str(), W_OK | X_OK) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("archive ", url_, ": cannot write in ", root_, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  }

  // Creates the directories between the archive's root and `path`; never
  // the root itself (only Check does): a directory that vanished (an
  // unmounted volume) is an error, not a new, empty archive.
  absl::Status MakeParent(const std::string& path) const {
    std::error_code ec;
    if (!std::filesystem::is_directory(root_, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "archive ", url_, ": the directory ", root_,
          " is gone (is the paired region's volume mounted?); not creating a new archive"));
    }
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("archive ", url_, ": cannot create ", parent.string(), ": ", ec.message()));
    }
    return absl::OkStatus();
  }

  // The hex digest in NAME.sha256.
  absl::StatusOr<std::string> RecordedDigest(absl::string_view name,
                                             const std::string& path) const {
    absl::StatusOr<std::string> line =
        base::ReadFileToString(path + std::string(kDigestSuffix), 4096);
    if (!line.ok()) {
      return absl::DataLossError(absl::StrCat("archive ", url_, ": object ", name,
                                              " carries no SHA-256 (", line.status().message(),
                                              ")"));
    }
    absl::string_view hex = absl::string_view(*line).substr(0, line->find(' '));
    if (!ledger::HashFromHex(hex, "digest").ok()) {
      return absl::DataLossError(absl::StrCat("archive ", url_, ": the digest file of object ",
                                              name, " does not hold a SHA-256"));
    }
    return absl::AsciiStrToLower(hex);
  }

  absl::Status SameBytes(absl::string_view name, absl::string_view bytes) {
    absl::StatusOr<std::string> existing = Get(name);
    if (!existing.ok()) return existing.status();
    if (*existing == bytes) return absl::OkStatus();
    return absl::AlreadyExistsError(absl::StrCat(
        "archive ", url_, ": object ", name, " already exists with other contents (SHA-256 ",
        ledger::HashToHex(ledger::Sha256(*existing)), ", new ",
        ledger::HashToHex(ledger::Sha256(bytes)), "); archive objects are never overwritten"));
  }

  const std::string url_;
  const std::string root_;
};

}  // namespace

std::unique_ptr<ArchiveStore> MakeFileStore(std::string url, std::string root) {
  return std::make_unique<FileStore>(std::move(url), std::move(root));
}

}  // namespace cairn::storage::internal
