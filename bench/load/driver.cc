// The closed-loop engine (see driver.h).
#include "load/driver.h"

#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cairn::bench {

const char* OpName(Op op) {
  switch (op) {
    case Op::kAppend:
      return "append";
    case Op::kGet:
      return "get";
    case Op::kReceipt:
      return "receipt";
    case Op::kPut:
      return "put";
    case Op::kAppendReceipt:
      return "append-receipt";
  }
  return "?";
}

uint64_t OpStats::errors() const {
  uint64_t n = 0;
  for (const auto& [code, count] : errors_by_code) n += count;
  return n;
}

uint64_t RunResult::ok() const {
  uint64_t n = 0;
  for (const auto& s : ops) n += s ? s->ok : 0;
  return n;
}

uint64_t RunResult::errors() const {
  uint64_t n = 0;
  for (const auto& s : ops) n += s ? s->errors() : 0;
  return n;
}

LatencyHistogram RunResult::AllLatency() const {
  LatencyHistogram all;
  for (const auto& s : ops) {
    if (s) all.Merge(s->latency);
  }
  return all;
}

namespace {

using Clock = std::chrono::steady_clock;

// How deep Issue() may nest on one thread before the next request is handed
// to the timer thread instead (only if a completion ever runs inline).
constexpr int kInlineDepthMax = 8;
thread_local int t_issue_depth = 0;

struct Worker {
  WorkerContext ctx;
  std::array<std::unique_ptr<OpStats>, kOpCount> stats;
  std::string first_error;
  std::discrete_distribution<size_t> pick;
};

class Engine {
 public:
  Engine(const DriverOptions& options, RequestSource* source)
      : options_(options), source_(source) {}

  RunResult Run();

 private:
  void Issue(Worker* w);
  void OnDone(Worker* w, Op op, Clock::time_point started, const grpc::Status& status);
  void Park(Worker* w, Clock::time_point until) ABSL_LOCKS_EXCLUDED(mu_);
  void Finish() ABSL_LOCKS_EXCLUDED(mu_);
  void TimerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void WaitForWorkers(Clock::time_point started) ABSL_LOCKS_EXCLUDED(mu_);

  const DriverOptions& options_;
  RequestSource* const source_;
  std::vector<std::unique_ptr<Worker>> workers_;
  Clock::time_point measure_start_;
  Clock::time_point measure_end_;
  std::atomic<uint64_t> issued_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<int64_t> last_completion_ns_{0};  // since measure_start_ (requests_total runs)

  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;  // workers that have not finished
  std::multimap<Clock::time_point, Worker*> parked_ ABSL_GUARDED_BY(mu_);
  bool timer_stop_ ABSL_GUARDED_BY(mu_) = false;
};

void Engine::Issue(Worker* w) {
  if (t_issue_depth >= kInlineDepthMax) {
    Park(w, Clock::now());
    return;
  }
  const Clock::time_point now = Clock::now();
  const bool counted = options_.requests_total > 0;
  if (counted ? issued_.fetch_add(1, std::memory_order_relaxed) >= options_.requests_total
              : now >= measure_end_) {
    Finish();
    return;
  }
  const Op op = options_.mix[w->pick(w->ctx.rng)].first;
  ++w->ctx.sequence;
  ++t_issue_depth;
  source_->Start(w->ctx, op,
                 [this, w, op, now](const grpc::Status& status) { OnDone(w, op, now, status); });
  --t_issue_depth;
}

void Engine::OnDone(Worker* w, Op op, Clock::time_point started, const grpc::Status& status) {
  const Clock::time_point end = Clock::now();
  const bool counted = options_.requests_total > 0;
  if (counted || (end >= measure_start_ && end <= measure_end_)) {
    OpStats& stats = *w->stats[static_cast<size_t>(op)];
    if (status.ok()) {
      ++stats.ok;
      stats.latency.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - started).count()));
    } else {
      ++stats.errors_by_code[status.error_code()];
    }
  }
  if (counted) {
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - measure_start_).count();
    int64_t seen = last_completion_ns_.load(std::memory_order_relaxed);
    while (ns > seen && !last_completion_ns_.compare_exchange_weak(seen, ns)) {
    }
  }
  completed_.fetch_add(1, std::memory_order_relaxed);
  if (!status.ok()) {
    if (w->first_error.empty()) {
      w->first_error =
          absl::StrCat(OpName(op), ": code ", status.error_code(), ": ", status.error_message());
    }
    Park(w, end + std::chrono::milliseconds(options_.error_backoff_ms));
    return;
  }
  Issue(w);
}

void Engine::Park(Worker* w, Clock::time_point until) {
  absl::MutexLock lock(&mu_);
  parked_.emplace(until, w);
}

void Engine::Finish() {
  absl::MutexLock lock(&mu_);
  --active_;
}

void Engine::TimerLoop() {
  for (;;) {
    std::vector<Worker*> ready;
    {
      absl::MutexLock lock(&mu_);
      const Clock::time_point wake =
          parked_.empty() ? Clock::now() + std::chrono::milliseconds(50) : parked_.begin()->first;
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return timer_stop_ || (!parked_.empty() && parked_.begin()->first <= Clock::now());
      };
      mu_.AwaitWithTimeout(absl::Condition(&has_work),
                           absl::FromChrono(std::max(wake - Clock::now(), Clock::duration(0))));
      if (timer_stop_) return;
      const Clock::time_point now = Clock::now();
      while (!parked_.empty() && parked_.begin()->first <= now) {
        ready.push_back(parked_.begin()->second);
        parked_.erase(parked_.begin());
      }
    }
    for (Worker* w : ready) Issue(w);
  }
}

void Engine::WaitForWorkers(Clock::time_point started) {
  const double interval_s = options_.progress_s > 0 ? options_.progress_s : 3600;
  uint64_t last_completed = 0;
  Clock::time_point last = started;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto all_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
      if (mu_.AwaitWithTimeout(absl::Condition(&all_done), absl::Seconds(interval_s))) break;
    }
    if (options_.progress_s > 0) {
      const Clock::time_point now = Clock::now();
      const uint64_t completed = completed_.load(std::memory_order_relaxed);
      const double dt = std::chrono::duration<double>(now - last).count();
      std::fprintf(stderr, "cairn-bench: %.0f s: %llu requests done, %.0f/s\n",
                   std::chrono::duration<double>(now - started).count(),
                   static_cast<unsigned long long>(completed),
                   static_cast<double>(completed - last_completed) / dt);
      last_completed = completed;
      last = now;
    }
  }
}

RunResult Engine::Run() {
  std::vector<double> weights;
  for (const auto& [op, weight] : options_.mix) weights.push_back(weight);
  const int count = options_.connections * options_.inflight;
  for (int i = 0; i < count; ++i) {
    auto w = std::make_unique<Worker>();
    w->ctx.id = i;
    w->ctx.connection = i % options_.connections;
    w->ctx.rng.seed(options_.seed * 1000003 + static_cast<uint64_t>(i));
    w->pick = std::discrete_distribution<size_t>(weights.begin(), weights.end());
    for (const auto& [op, weight] : options_.mix) {
      w->stats[static_cast<size_t>(op)] = std::make_unique<OpStats>();
    }
    workers_.push_back(std::move(w));
  }
  {
    absl::MutexLock lock(&mu_);
    active_ = count;
  }
  const Clock::time_point started = Clock::now();
  const bool counted = options_.requests_total > 0;
  measure_start_ = counted ? started
                           : started + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options_.warmup_s));
  measure_end_ = counted ? Clock::time_point::max()
                         : measure_start_ + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(options_.duration_s));
  std::thread timer([this] { TimerLoop(); });
  for (auto& w : workers_) Issue(w.get());
  WaitForWorkers(started);
  {
    absl::MutexLock lock(&mu_);
    timer_stop_ = true;
  }
  timer.join();

  RunResult result;
  result.completed_total = completed_.load();
  result.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  result.measured_s =
      counted ? static_cast<double>(last_completion_ns_.load()) / 1e9 : options_.duration_s;
  for (const auto& [op, weight] : options_.mix) {
    result.ops[static_cast<size_t>(op)] = std::make_unique<OpStats>();
  }
  for (auto& w : workers_) {
    if (result.first_error.empty()) result.first_error = w->first_error;
    for (size_t i = 0; i < kOpCount; ++i) {
      if (!w->stats[i]) continue;
      OpStats& into = *result.ops[i];
      into.latency.Merge(w->stats[i]->latency);
      into.ok += w->stats[i]->ok;
      for (const auto& [code, n] : w->stats[i]->errors_by_code) into.errors_by_code[code] += n;
    }
  }
  return result;
}

}  // namespace

RunResult RunClosedLoop(const DriverOptions& options, RequestSource* source) {
  Engine engine(options, source);
  return engine.Run();
}

}  // namespace cairn::bench
