// Write failures made fatal one level below RocksDB (see fatal_write_fs.h):
// wrappers around the writable files, read-write files and directories a
// file system hands out, each of which stops the node the moment an
// operation that writes fails, with the file, the operation and the error.
#include "fatal_write_fs.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cairn/base/check.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace cairn::storage::internal {
namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// Prints the one line an operator reads, then aborts. Runs on the thread
// whose I/O failed, with the failed status still in hand: RocksDB never
// sees it, so no RocksDB code runs on a failed writer.
[[noreturn]] void StopTheNode(absl::string_view file, absl::string_view op, const IOStatus& s) {
  // A dying disk fails several writes at once (the WAL sync and a
  // background flush, say). The first failure speaks; the other threads
  // wait here for the abort instead of returning the error into RocksDB or
  // printing a second message.
  static std::atomic<bool> stopping{false};
  if (stopping.exchange(true)) {
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  CAIRN_CHECK(s.ok()) << "storage: the disk failed while writing " << file << " (" << op
                      << "): " << s.ToString()
                      << ". The node stops so that nothing is acknowledged after a failed "
                         "write; check the disk, then restart the node.";
  std::abort();  // not reached: `s` is not OK
}

// Returns `s` when it is OK or NotSupported (an optional operation RocksDB
// falls back from, not a disk failure); stops the node otherwise.
IOStatus CheckWrite(IOStatus s, absl::string_view file, absl::string_view op) {
  if (!s.ok() && !s.IsNotSupported()) StopTheNode(file, op, s);
  return s;
}

// The four calls every writable kind of file has (flush, sync, fsync,
// close), checked once for both wrappers below; `Wrapper` is one of
// RocksDB's owner wrappers, which forward everything else to target().
template <typename Wrapper>
class FatalFileCalls : public Wrapper {
 public:
  template <typename File>
  FatalFileCalls(std::string name, std::unique_ptr<File> file)
      : Wrapper(std::move(file)), name_(std::move(name)) {}

  IOStatus Flush(const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(this->target()->Flush(o, dbg), name_, "Flush");
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(this->target()->Sync(o, dbg), name_, "Sync");
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(this->target()->Fsync(o, dbg), name_, "Fsync");
  }
  IOStatus Close(const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(this->target()->Close(o, dbg), name_, "Close");
  }

 protected:
  const std::string& name() const { return name_; }

 private:
  const std::string name_;
};

class FatalWritableFile final : public FatalFileCalls<rocksdb::FSWritableFileOwnerWrapper> {
 public:
  using FatalFileCalls::FatalFileCalls;

  IOStatus Append(const rocksdb::Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(target()->Append(data, o, dbg), name(), "Append");
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return CheckWrite(target()->Append(data, o, info, dbg), name(), "Append");
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    return CheckWrite(target()->PositionedAppend(data, offset, o, dbg), name(), "PositionedAppend");
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return CheckWrite(target()->PositionedAppend(data, offset, o, info, dbg), name(),
                      "PositionedAppend");
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(target()->Truncate(size, o, dbg), name(), "Truncate");
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    return CheckWrite(target()->RangeSync(offset, nbytes, o, dbg), name(), "RangeSync");
  }
};

// A file RocksDB writes in place (e.g. an ingested file's global sequence
// number).
class FatalRandomRWFile final : public FatalFileCalls<rocksdb::FSRandomRWFileOwnerWrapper> {
 public:
  using FatalFileCalls::FatalFileCalls;

  IOStatus Write(uint64_t offset, const rocksdb::Slice& data, const IOOptions& o,
                 IODebugContext* dbg) override {
    return CheckWrite(target()->Write(offset, data, o, dbg), name(), "Write");
  }
};

// A directory's fsync is what makes a new file's name (a new WAL, SST or
// MANIFEST) survive a power loss: failing it loses the file as surely as a
// failed fsync of the file loses its data.
class FatalDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  FatalDirectory(std::string name, std::unique_ptr<rocksdb::FSDirectory> dir)
      : FSDirectoryWrapper(std::move(dir)), name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(FSDirectoryWrapper::Fsync(o, dbg), name_, "directory Fsync");
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    return CheckWrite(FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, dir_options), name_,
                      "directory Fsync");
  }
  IOStatus Close(const IOOptions& o, IODebugContext* dbg) override {
    return CheckWrite(FSDirectoryWrapper::Close(o, dbg), name_, "directory Close");
  }

 private:
  const std::string name_;
};

class FatalWriteFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit FatalWriteFs(const std::shared_ptr<rocksdb::FileSystem>& target)
      : FileSystemWrapper(target) {}
  const char* Name() const override { return "CairnFatalWriteFs"; }

  IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                           std::unique_ptr<rocksdb::FSWritableFile>* r,
                           IODebugContext* dbg) override {
    IOStatus s = CheckWrite(target()->NewWritableFile(f, o, r, dbg), f, "NewWritableFile");
    if (s.ok()) *r = std::make_unique<FatalWritableFile>(f, std::move(*r));
    return s;
  }
  IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                              std::unique_ptr<rocksdb::FSWritableFile>* r,
                              IODebugContext* dbg) override {
    IOStatus s = CheckWrite(target()->ReopenWritableFile(f, o, r, dbg), f, "ReopenWritableFile");
    if (s.ok()) *r = std::make_unique<FatalWritableFile>(f, std::move(*r));
    return s;
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old_f,
                             const rocksdb::FileOptions& o,
                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                             IODebugContext* dbg) override {
    IOStatus s = CheckWrite(target()->ReuseWritableFile(f, old_f, o, r, dbg), f,
                            absl::StrCat("ReuseWritableFile of ", old_f));
    if (s.ok()) *r = std::make_unique<FatalWritableFile>(f, std::move(*r));
    return s;
  }
  IOStatus NewRandomRWFile(const std::string& f, const rocksdb::FileOptions& o,
                           std::unique_ptr<rocksdb::FSRandomRWFile>* r,
                           IODebugContext* dbg) override {
    IOStatus s = CheckWrite(target()->NewRandomRWFile(f, o, r, dbg), f, "NewRandomRWFile");
    if (s.ok()) *r = std::make_unique<FatalRandomRWFile>(f, std::move(*r));
    return s;
  }
  // Opening a directory reads; only its fsync and close write.
  IOStatus NewDirectory(const std::string& d, const IOOptions& o,
                        std::unique_ptr<rocksdb::FSDirectory>* r, IODebugContext* dbg) override {
    IOStatus s = target()->NewDirectory(d, o, r, dbg);
    if (s.ok()) *r = std::make_unique<FatalDirectory>(d, std::move(*r));
    return s;
  }
  IOStatus RenameFile(const std::string& src, const std::string& dst, const IOOptions& o,
                      IODebugContext* dbg) override {
    return CheckWrite(target()->RenameFile(src, dst, o, dbg), src,
                      absl::StrCat("RenameFile to ", dst));
  }
};

}  // namespace

std::unique_ptr<rocksdb::Env> NewFatalWriteEnv(rocksdb::Env* base) {
  std::shared_ptr<rocksdb::FileSystem> fs =
      base != nullptr ? base->GetFileSystem() : rocksdb::FileSystem::Default();
  return rocksdb::NewCompositeEnv(std::make_shared<FatalWriteFs>(fs));
}

}  // namespace cairn::storage::internal
