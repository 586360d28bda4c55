// A small deterministic PRNG (SplitMix64) owned by one Raft core.
//
// The core must not touch global randomness: its only random choice, the
// election timeout, comes from here, seeded by Config::random_seed, so a
// simulated cluster replays exactly from one seed. SplitMix64 is defined by
// its arithmetic alone, so results do not depend on the standard library.
#pragma once

#include <cstdint>

namespace cairn::consensus::internal {

class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound) for bound > 0 (modulo bias is irrelevant here).
  uint64_t Below(uint64_t bound) { return Next() % bound; }

 private:
  uint64_t state_;
};

}  // namespace cairn::consensus::internal
