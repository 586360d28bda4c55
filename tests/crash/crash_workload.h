// The workload of the storage kill -9 test, shared by the child that writes
// it and the parent that checks what survived.
//
// Every entry is self-describing: its payload names its index, its term and
// the last index of the batch it was saved in, followed by filler derived
// from (index, term). So the parent can check any entry it finds, and can
// tell a batch that is only partly present (the log's last entry must be the
// last of its batch) without knowing which batches the child got to write.
// The ledger fields derived from an entry are a function of its index.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "cairn/storage/ledger_types.h"

namespace cairn::storage::crash {

inline constexpr int kCollections = 5;
inline constexpr uint64_t kCheckpointEvery = 8;

inline uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline std::string EntryData(uint64_t index, uint64_t term, uint64_t batch_last) {
  std::string s = absl::StrCat("i=", index, " t=", term, " b=", batch_last, ";");
  uint64_t state = index * 1000003 + term;
  const size_t filler = 40 + SplitMix(&state) % 216;
  for (size_t k = 0; k < filler; ++k) s.push_back(static_cast<char>('a' + SplitMix(&state) % 26));
  return s;
}

// Parses the header EntryData wrote. False if the bytes are not ours.
inline bool ParseEntryData(const std::string& data, uint64_t* index, uint64_t* term,
                           uint64_t* batch_last) {
  return std::sscanf(data.c_str(), "i=%" SCNu64 " t=%" SCNu64 " b=%" SCNu64 ";", index, term,
                     batch_last) == 3;
}

inline std::string CollectionOf(uint64_t index) { return absl::StrCat("c", index % kCollections); }

inline StoredEntry LedgerEntryFor(uint64_t index, uint64_t term, std::string data) {
  StoredEntry e;
  e.index = index;
  e.term = term;
  e.data = std::move(data);
  e.kind = EntryKind::kUser;
  e.collection_id = CollectionOf(index);
  // Not `= "u"`: GCC 12 at -O2 warns (-Wrestrict, a false positive) on it.
  e.user_id = std::string(1, 'u');
  e.idempotency_key = absl::StrCat("k", index);
  e.timestamp_unix_ms = static_cast<int64_t>(index);
  return e;
}

}  // namespace cairn::storage::crash
