// The child of the snapshot install crash test: receives a snapshot payload
// from a file, as a node receives one over the network, and installs it,
// dying by SIGKILL at a chosen point of the install or whenever the parent
// kills it.
//
// Reports through fd 3: "ready\n" once the database is open (the parent may
// kill it from then on), "installed\n" once Install returned OK.
//
// Usage: snapshot_install_crash_child <db path> <payload file> <sha256 hex>
//          <file bytes max> <stage> <occurrence>
// <stage> is a snapshot_install_hook_for_testing stage ("sst_file_written",
// "before_ingest", "after_ingest"), killed at its <occurrence>-th call, or
// "none" to run to the end.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "cairn/base/hex.h"
#include "cairn/storage/database.h"
#include "cairn/storage/snapshot.h"

namespace cairn::storage::crash {
namespace {

constexpr int kReportFd = 3;
constexpr size_t kChunkBytes = 64 << 10;

[[noreturn]] void Die(const char* what, const absl::Status& st) {
  std::fprintf(stderr, "snapshot_install_crash_child: %s: %s\n", what, st.ToString().c_str());
  std::exit(3);
}

void Report(const char* line) {
  const ssize_t n = static_cast<ssize_t>(std::char_traits<char>::length(line));
  if (::write(kReportFd, line, static_cast<size_t>(n)) != n) std::exit(4);
}

int Run(const std::string& db_path, const std::string& payload_path, const std::string& sha256,
        uint64_t file_bytes_max, const std::string& stage, int occurrence) {
  DatabaseOptions options;
  options.snapshot_install_file_bytes_max = file_bytes_max;
  int calls = 0;
  options.snapshot_install_hook_for_testing = [&](absl::string_view at, uint64_t) {
    // SIGKILL, not exit: no destructor, no flush, no cleanup, as in a crash.
    if (at == stage && ++calls == occurrence) ::kill(::getpid(), SIGKILL);
  };
  auto db = Database::Open(db_path, options);
  if (!db.ok()) Die("opening the database", db.status());
  Report("ready\n");
  auto sink = (*db)->NewSnapshotSink(kChunkBytes);
  if (!sink.ok()) Die("starting a snapshot sink", sink.status());
  std::ifstream in(payload_path, std::ios::binary);
  std::string chunk(kChunkBytes, '\0');
  uint64_t offset = 0;
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const size_t n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    absl::Status st = (*sink)->Append(offset, absl::string_view(chunk.data(), n));
    if (!st.ok()) Die("appending a chunk", st);
    offset += n;
  }
  auto meta = (*sink)->Install(sha256);
  if (!meta.ok()) Die("installing", meta.status());
  Report("installed\n");
  return 0;
}

}  // namespace
}  // namespace cairn::storage::crash

int main(int argc, char** argv) {
  uint64_t file_bytes_max = 0;
  int occurrence = 0;
  absl::StatusOr<std::string> sha256 =
      argc == 7 ? cairn::base::HexDecode(argv[3]) : absl::InvalidArgumentError("usage");
  if (argc != 7 || !sha256.ok() || sha256->size() != 32 ||
      !absl::SimpleAtoi(argv[4], &file_bytes_max) || !absl::SimpleAtoi(argv[6], &occurrence)) {
    std::fprintf(stderr,
                 "usage: %s <db path> <payload file> <sha256 hex> <file bytes max> <stage> "
                 "<occurrence>\n",
                 argv[0]);
    return 2;
  }
  return cairn::storage::crash::Run(argv[1], argv[2], *sha256, file_bytes_max, argv[5], occurrence);
}
