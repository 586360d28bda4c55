// A RocksDB FileSystem for tests that (1) fails fsync (or appends) on
// demand, to prove that the storage write path stops after a failed write,
// and (2) remembers how much of each file was synced, so a test can simulate
// a power loss by cutting WAL files back to their synced length after the
// database is closed.
#pragma once

#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace cairn::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  FaultFs() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "CairnFaultFs"; }

  // While set, every Sync/Fsync of a writable file fails with an IOError.
  std::atomic<bool> fail_sync{false};
  // While set, every Append to a writable file fails with an IOError.
  std::atomic<bool> fail_append{false};
  std::atomic<int> syncs{0};
  std::atomic<int> failed_syncs{0};

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) Wrap(f, r, /*size=*/0);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    uint64_t size = 0;
    target()->GetFileSize(f, rocksdb::IOOptions(), &size, dbg).PermitUncheckedError();
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, dbg);
    if (s.ok()) Wrap(f, r, size);
    return s;
  }

  // Cuts every WAL file (*.log) back to the bytes that were synced: what a
  // power loss would leave of data that only reached the page cache. Call
  // only while no database is open on the files.
  void DropUnsyncedWalData() {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, synced] : synced_bytes_) {
      if (name.size() < 4 || name.compare(name.size() - 4, 4, ".log") != 0) continue;
      if (::truncate(name.c_str(), static_cast<off_t>(synced)) != 0) {
        // The WAL may have been deleted after a flush; nothing to cut then.
      }
    }
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(FaultFs* fs, std::string name, std::unique_ptr<rocksdb::FSWritableFile> f, uint64_t size)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), name_(std::move(name)), size_(size) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->fail_append.load()) return InjectedWriteFailure();
      rocksdb::IOStatus s = target()->Append(data, o, dbg);
      if (s.ok()) size_.fetch_add(data.size(), std::memory_order_relaxed);
      return s;
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_->fail_append.load()) return InjectedWriteFailure();
      rocksdb::IOStatus s = target()->Append(data, o, info, dbg);
      if (s.ok()) size_.fetch_add(data.size(), std::memory_order_relaxed);
      return s;
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return Synced(target()->Sync(o, dbg));
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      return Synced(target()->Fsync(o, dbg));
    }

   private:
    static rocksdb::IOStatus InjectedWriteFailure() {
      return rocksdb::IOStatus::IOError("injected write failure");
    }
    rocksdb::IOStatus Synced(rocksdb::IOStatus s) {
      if (fs_->fail_sync.load()) {
        s.PermitUncheckedError();
        ++fs_->failed_syncs;
        return rocksdb::IOStatus::IOError("injected fsync failure");
      }
      if (s.ok()) {
        ++fs_->syncs;
        absl::MutexLock lock(&fs_->mu_);
        fs_->synced_bytes_[name_] = size_.load(std::memory_order_relaxed);
      }
      return s;
    }

    FaultFs* fs_;
    std::string name_;
    // Atomic although RocksDB never calls one file from two threads at once:
    // the WAL is appended to by whichever thread leads the current write
    // group, and leadership passes between threads through RocksDB's own
    // atomics (WriteThread), which are not instrumented, so ThreadSanitizer
    // cannot see that order. The fake relies on nothing it cannot see.
    std::atomic<uint64_t> size_;
  };

  void Wrap(const std::string& name, std::unique_ptr<rocksdb::FSWritableFile>* r, uint64_t size) {
    {
      absl::MutexLock lock(&mu_);
      auto it = synced_bytes_.find(name);
      if (it == synced_bytes_.end() || size == 0) synced_bytes_[name] = size;
    }
    r->reset(new File(this, name, std::move(*r), size));
  }

  absl::Mutex mu_;
  std::map<std::string, uint64_t> synced_bytes_ ABSL_GUARDED_BY(mu_);  // by file name
};

// An Env that runs RocksDB on a FaultFs.
struct FaultEnv {
  std::shared_ptr<FaultFs> fs = std::make_shared<FaultFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
};

}  // namespace cairn::testing
