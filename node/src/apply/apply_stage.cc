// The apply stage's thread and queue (see apply_stage.h).
#include "apply/apply_stage.h"

#include <utility>

namespace cairn::node {
namespace {

// Entries merged into one Applier::Apply, at most: one RocksDB write each.
constexpr size_t kEntriesPerApplyMax = 4096;

}  // namespace

ApplyStage::ApplyStage(StateMachine* machine, size_t queued_entries_max, OnApplied on_applied)
    : machine_(machine),
      queued_entries_max_(queued_entries_max),
      on_applied_(std::move(on_applied)) {}

ApplyStage::~ApplyStage() { Stop(); }

void ApplyStage::Start(bool own_thread) {
  inline_ = !own_thread;
  Publish();
  if (own_thread) thread_ = std::thread([this] { Run(); });
}

void ApplyStage::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ApplyStage::Submit(std::vector<consensus::Entry> entries) {
  if (entries.empty()) return;
  if (inline_) {
    ApplyBatch(entries);
    return;
  }
  absl::MutexLock lock(&mu_);
  // Backpressure: wait for room (one batch larger than the bound still goes).
  mu_.Await(absl::Condition(
      +[](ApplyStage* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
        return s->queued_entries_ < s->queued_entries_max_ || s->queue_.empty();
      },
      this));
  queued_entries_ += entries.size();
  queue_.push_back(Work{std::move(entries), nullptr, nullptr});
}

void ApplyStage::RunExclusive(absl::AnyInvocable<void() &&> work) {
  if (inline_) {
    std::move(work)();
    Publish();
    return;
  }
  bool done = false;
  absl::MutexLock lock(&mu_);
  queue_.push_back(Work{{}, std::move(work), &done});
  mu_.Await(absl::Condition(&done));
}

SignState ApplyStage::sign_state() const {
  absl::MutexLock lock(&mu_);
  return sign_;
}

bool ApplyStage::idle() const {
  absl::MutexLock lock(&mu_);
  return queue_.empty() && !busy_;
}

void ApplyStage::Publish() {
  const SignState s = machine_->sign_state();
  absl::MutexLock lock(&mu_);
  sign_ = s;
}

void ApplyStage::ApplyBatch(const std::vector<consensus::Entry>& entries) {
  const std::vector<ApplyResult> results = machine_->Apply(entries);
  // Published first: whoever hears of the batch sees its tree.
  Publish();
  on_applied_(entries, results);
}

void ApplyStage::Run() {
  for (;;) {
    std::vector<consensus::Entry> entries;
    absl::AnyInvocable<void() &&> exclusive;
    bool* done = nullptr;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ApplyStage* s)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) { return s->stopping_ || !s->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // stopping, and everything handed over is applied
      if (queue_.front().exclusive) {
        exclusive = std::move(queue_.front().exclusive);
        done = queue_.front().done;
        queue_.pop_front();
      } else {
        // Merge what waits, up to the bound, into one write.
        while (!queue_.empty() && !queue_.front().exclusive &&
               (entries.empty() ||
                entries.size() + queue_.front().entries.size() <= kEntriesPerApplyMax)) {
          Work& w = queue_.front();
          queued_entries_ -= w.entries.size();
          if (entries.empty()) {
            entries = std::move(w.entries);
          } else {
            entries.insert(entries.end(), std::make_move_iterator(w.entries.begin()),
                           std::make_move_iterator(w.entries.end()));
          }
          queue_.pop_front();
        }
      }
      busy_ = true;
    }
    if (exclusive) {
      std::move(exclusive)();
      Publish();
    } else {
      ApplyBatch(entries);
    }
    absl::MutexLock lock(&mu_);
    busy_ = false;
    if (done != nullptr) *done = true;
  }
}

}  // namespace cairn::node
