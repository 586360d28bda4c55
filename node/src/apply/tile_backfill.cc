// Writing missing Merkle tiles in the background (see tile_backfill.h).
#include "apply/tile_backfill.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "spdlog/spdlog.h"

namespace cairn::node {

TileBackfill::TileBackfill(Work work) : work_(std::move(work)), thread_([this] { Run(); }) {}

TileBackfill::~TileBackfill() { Stop(); }

void TileBackfill::Request(uint64_t tree_size) {
  absl::MutexLock lock(&mu_);
  requested_ = std::max(requested_, tree_size);
}

void TileBackfill::Stop() {
  stopping_.store(true, std::memory_order_relaxed);
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void TileBackfill::Run() {
  while (true) {
    uint64_t size = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](TileBackfill* b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(b->mu_) {
            return b->stop_ || b->requested_ > b->done_;
          },
          this));
      if (stop_) return;
      size = requested_;
    }
    const auto started = std::chrono::steady_clock::now();
    absl::StatusOr<uint64_t> written =
        work_(size, [this] { return stopping_.load(std::memory_order_relaxed); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!written.ok()) {
      spdlog::error(
          "writing the Merkle tiles missing below leaf {}: {} (proofs over those leaves read "
          "node by node)",
          size, written.status().ToString());
    } else if (*written > 0) {
      spdlog::info("wrote {} Merkle tiles missing below leaf {} in {:.1f} s", *written, size,
                   seconds);
    }
    absl::MutexLock lock(&mu_);
    done_ = std::max(done_, size);
  }
}

}  // namespace cairn::node
