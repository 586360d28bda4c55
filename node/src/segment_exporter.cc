// Exporting committed history as ledger segments (see segment_exporter.h).
#include "segment_exporter.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/txid.h"
#include "log.h"
#include "metrics.h"

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
  storage::ListEntriesOptions list;
  list.from_index = from;
  list.page_size = 1000;
  list.include_data = false;
  auto signatures = store_->ListEntries(ledger::kSignaturesCollection, list);
  if (!signatures.ok()) return signatures.status();
  if (signatures->entries.empty()) return false;
  // Read forward, keeping the run, until a signature lies beyond the bounds.
  std::vector<storage::StoredEntry> run;
  size_t cut = 0;  // entries of `run` up to the last signature taken
  uint64_t bytes = 0;
  auto next_sig = signatures->entries.begin();
  for (uint64_t index = from; next_sig != signatures->entries.end(); ++index) {
    auto entry = store_->Get(index);
    if (!entry.ok()) return entry.status();
    bytes += entry->data.size() + kRecordOverheadBytes;
    run.push_back(*std::move(entry));
    const bool within = run.size() <= options_.entries_target && bytes <= options_.bytes_target;
    if (cut > 0 && !within) break;
    if (index == next_sig->index) {
      cut = run.size();
      ++next_sig;
      if (run.size() >= options_.entries_target || bytes >= options_.bytes_target) break;
    }
  }
  ledger::SegmentWriter writer(from);
  for (size_t i = 0; i < cut; ++i) {
    const storage::StoredEntry& e = run[i];
    if (absl::Status st = writer.Add(e.term, e.index, e.data); !st.ok()) return st;
  }
  auto path = writer.FinishToFile(options_.dir);
  if (!path.ok()) return path.status();
  const uint64_t last = run[cut - 1].index;
  {
    absl::MutexLock lock(&mu_);
    exported_ = last;
  }
  if (metrics_ != nullptr) metrics_->segments_exported_index.Set(static_cast<double>(last));
  return true;
}

}  // namespace cairn::node
