// The file system the node's RocksDB runs on: the real one (or a test's),
// with every failed write-path I/O made fatal to the process at the moment
// it fails, before RocksDB sees the error (DatabaseOptions::on_write_failure,
// WriteFailure::kAbortProcess).
//
// Why not let the error come back as a Status and stop there (the latch in
// DbCore)? Because the error reaches every thread inside RocksDB, not only
// the one whose write failed. The Raft loop's synced Save and the apply
// stage's unsynced Commit write concurrently, and RocksDB flushes in the
// background: after a failed fsync another writer, or RocksDB itself, reuses
// the failed WAL or file writer, and Debian's librocksdb (built with
// assertions) dies in its own assert (writable_file_writer.h, "Writer has
// previous error") before Cairn can say anything. Failing here, one level
// below RocksDB, means the failure never returns into it: the process
// prints one line saying which file, which operation and which error, and
// aborts. STYLE.md §6: fsync failure is fatal to the write path (leveldb's
// RecordBackgroundError); after a failed fsync the kernel may have dropped
// the dirty pages, so retrying cannot make that data durable.
#pragma once

#include <memory>

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace cairn::storage::internal {

// An Env that runs RocksDB on `base`'s file system (the default one when
// null; `base` must then outlive the result) with write failures fatal.
// Threads and clock are Env::Default()'s, as in rocksdb::NewCompositeEnv.
//
// Fatal: any failure other than NotSupported of Append, PositionedAppend,
// Truncate, Close, Flush, Sync, Fsync or RangeSync on a writable (or
// random-read-write) file; creating or reopening a writable file; renaming
// a file (how RocksDB installs CURRENT and OPTIONS); fsyncing or closing a
// directory (what makes a new file's name durable). NotSupported is not a
// disk failure: RocksDB asks for optional operations and falls back.
// Not fatal: reads, deletions (of obsolete files: a failed one leaves
// garbage, never loses data), hard links (ingestion falls back to copying),
// preallocation hints, and RocksDB's info LOG, which it does not write
// through these files.
std::unique_ptr<rocksdb::Env> NewFatalWriteEnv(rocksdb::Env* base);

}  // namespace cairn::storage::internal
