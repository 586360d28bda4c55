// Exporting committed history as ledger segments (see segment_exporter.h).
#include "export/segment_exporter.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/txid.h"
#include "observe/log.h"
#include "observe/metrics.h"

namespace cairn::node {
namespace {

// Bytes a record adds to a segment beyond its data (length, term, index, CRC).
constexpr uint64_t kRecordOverheadBytes = 32;

}  // namespace

SegmentExporter::SegmentExporter(const storage::LedgerStore* store, SegmentExporterOptions options,
                                 NodeMetrics* metrics)
    : store_(store), options_(std::move(options)), metrics_(metrics) {}

SegmentExporter::~SegmentExporter() { Stop(); }

void SegmentExporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void SegmentExporter::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

void SegmentExporter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool SegmentExporter::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

uint64_t SegmentExporter::exported_index() const {
  absl::MutexLock lock(&mu_);
  return exported_;
}

void SegmentExporter::Run() {
  absl::Duration pause = absl::ZeroDuration();  // export at once on start
  std::string last_error;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](SegmentExporter* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                 return self->stopping_ || self->notified_;
                               },
                               this),
                           pause);
      if (stopping_) return;
      notified_ = false;
    }
    const absl::Status st = ExportAvailable();
    if (st.ok()) {
      if (!last_error.empty()) spdlog::info("segment export resumed");
      last_error.clear();
      pause = options_.poll_interval;
      continue;
    }
    if (metrics_ != nullptr) metrics_->segment_export_errors_total.Increment();
    if (std::string(st.message()) != last_error) {  // once per distinct error
      last_error = std::string(st.message());
      spdlog::error("segment export failed (retrying every {}): {}",
                    absl::FormatDuration(options_.retry_pause), last_error);
    }
    pause = options_.retry_pause;
  }
}

absl::Status SegmentExporter::ExportAvailable() {
  if (absl::Status st = Initialize(); !st.ok()) return st;
  if (absl::Status st = CheckResumePoint(); !st.ok()) return st;
  if (resume_record_) return absl::OkStatus();  // the ledger has not reached it yet
  while (!stopping()) {
    absl::StatusOr<bool> wrote = ExportNext();
    if (!wrote.ok()) return wrote.status();
    if (!*wrote) break;
  }
  return absl::OkStatus();
}

absl::Status SegmentExporter::Initialize() {
  if (initialized_) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create segments directory ", options_.dir, ": ", ec.message()));
  }
  uint64_t last = 0;
  std::string newest;
  for (std::filesystem::directory_iterator it(options_.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension().string() != ledger::kSegmentFileSuffix) continue;
    auto range = ledger::ReadSegmentRange(it->path().string());
    if (!range.ok()) return range.status();
    if (range->second > last) {
      last = range->second;
      newest = it->path().string();
    }
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot list segments directory ", options_.dir, ": ", ec.message()));
  }
  if (!newest.empty()) {
    auto segment = ledger::ReadSegmentFile(newest);
    if (!segment.ok()) return segment.status();
    resume_record_ = segment->records.back();
  }
  {
    absl::MutexLock lock(&mu_);
    exported_ = last;
  }
  if (metrics_ != nullptr) metrics_->segments_exported_index.Set(static_cast<double>(last));
  initialized_ = true;
  return absl::OkStatus();
}

absl::Status SegmentExporter::CheckResumePoint() {
  if (!resume_record_ || store_->applied_index() < resume_record_->index) return absl::OkStatus();
  auto entry = store_->Get(resume_record_->index);
  if (!entry.ok()) return entry.status();
  if (entry->term != resume_record_->term || entry->data != resume_record_->data) {
    return absl::FailedPreconditionError(absl::StrCat(
        "segments directory ", options_.dir, " holds another history: its entry ",
        ledger::TxId{resume_record_->term, resume_record_->index}.ToString(),
        " differs from this ledger's ", ledger::TxId{entry->term, entry->index}.ToString(),
        " (move those files away, or point --segments-dir elsewhere)"));
  }
  resume_record_.reset();
  return absl::OkStatus();
}

absl::StatusOr<bool> SegmentExporter::ExportNext() {
  const uint64_t from = exported_index() + 1;
  // Cheap checks first (this runs on every signature): nothing new, or too
  // few entries for a full segment and not waiting long enough yet.
  const uint64_t applied = store_->applied_index();
  if (applied < from) {
    waiting_since_ = absl::InfinitePast();
    return false;
  }
  if (applied - from + 1 <= options_.entries_target) {
    const absl::Time now = absl::Now();
    if (waiting_since_ == absl::InfinitePast()) waiting_since_ = now;
    if (now - waiting_since_ < options_.max_age) return false;
  }
  storage::ListEntriesOptions list;
  list.from_index = from;
  list.page_size = 1000;
  list.include_data = false;
  auto signatures = store_->ListEntries(ledger::kSignaturesCollection, list);
  if (!signatures.ok()) return signatures.status();
  if (signatures->entries.empty()) return false;  // entries wait for a signature
  // By count: the last signature within entries_target (or the first one).
  uint64_t cut = signatures->entries.front().index;
  bool full = false;
  for (const auto& sig : signatures->entries) {
    if (sig.index - from + 1 > options_.entries_target) {
      full = true;
      break;
    }
    cut = sig.index;
  }
  // A full page means more signatures follow: more than one page of them
  // makes a segment as good as full (it is cut at the page's last one).
  full = full || cut - from + 1 >= options_.entries_target ||
         signatures->entries.size() >= list.page_size;
  if (!full) {
    const absl::Time now = absl::Now();
    if (waiting_since_ == absl::InfinitePast()) waiting_since_ = now;
    if (now - waiting_since_ < options_.max_age) return false;
  }
  waiting_since_ = absl::InfinitePast();
  return WriteSegment(from, cut);
}

absl::StatusOr<bool> SegmentExporter::WriteSegment(uint64_t from, uint64_t cut) {
  // Read forward to `cut`, stopping at the last signature within the byte
  // bound once one is in (every entry is read once, here).
  ledger::SegmentWriter writer(from);
  std::vector<storage::StoredEntry> run;
  size_t taken = 0;  // entries of `run` up to the last signature within the bounds
  uint64_t bytes = 0;
  bool over = false;
  // In pages of one iterator each (not a point read per entry).
  constexpr uint64_t kPageBytes = 4 << 20;
  for (uint64_t next = from; next <= cut && !over;) {
    auto page = store_->GetRange(next, cut, kPageBytes);
    if (!page.ok()) return page.status();
    if (page->empty()) {
      return absl::DataLossError(absl::StrCat("ledger entry ", next, " is missing"));
    }
    next += page->size();
    for (storage::StoredEntry& entry : *page) {
      bytes += entry.data.size() + kRecordOverheadBytes;
      const bool signature = entry.kind == storage::EntryKind::kSignature;
      run.push_back(std::move(entry));
      if (taken > 0 && bytes > options_.bytes_target) {
        over = true;
        break;
      }
      if (signature) taken = run.size();
    }
  }
  CAIRN_CHECK(taken > 0) << "no signature between log index " << from << " and " << cut;
  const uint64_t last = run[taken - 1].index;
  for (size_t i = 0; i < taken; ++i) {
    storage::StoredEntry& e = run[i];
    if (absl::Status st = writer.Add(e.term, e.index, std::move(e.data)); !st.ok()) return st;
  }
  auto path = writer.FinishToFile(options_.dir);
  if (!path.ok()) return path.status();
  {
    absl::MutexLock lock(&mu_);
    exported_ = last;
  }
  if (metrics_ != nullptr) metrics_->segments_exported_index.Set(static_cast<double>(last));
  if (options_.on_written) options_.on_written();
  return true;
}

}  // namespace cairn::node
