// A node's data directory: a format version and an exclusive lock.
//
// Layout:
//   <dir>/FORMAT   "cairn-data-dir <version>\n", written when the directory is created
//   <dir>/LOCK     flock()ed for as long as a process has the directory open
//   <dir>/db/      the RocksDB database (see database.h)
//
// Two processes can never open one directory: the second gets
// FailedPrecondition naming the directory. A directory with another format
// version, or with files but no FORMAT, is refused, never "repaired".
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cairn::storage {

inline constexpr int kDataDirFormatVersion = 1;

class DataDir {
 public:
  // Opens `path`, creating it (and writing FORMAT) when `create_if_missing`
  // is set and it does not exist, is empty, or holds only what an
  // interrupted first start leaves (LOCK, FORMAT.tmp). A directory that
  // cannot be listed is FailedPrecondition, never taken for empty.
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(const std::string& path,
                                                       bool create_if_missing);
  ~DataDir();  // releases the lock
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }
  // Where the RocksDB database lives.
  std::string db_path() const { return path_ + "/db"; }
  // True when Open created the directory (a brand-new node).
  bool created() const { return created_; }

 private:
  DataDir(std::string path, int lock_fd, bool created)
      : path_(std::move(path)), lock_fd_(lock_fd), created_(created) {}

  std::string path_;
  int lock_fd_;
  bool created_;
};

}  // namespace cairn::storage
