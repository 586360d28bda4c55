// Iterating over a collection's entries without handling page tokens:
//
//   cairn::client::EntryIterator it = client->ListEntries("orders");
//   v1::Entry entry;
//   while (it.Next(&entry)) { ... }
//   if (!it.status().ok()) { ... }   // the iteration stopped on an error
//
// Each page is one retried call (see client.h). The iterator keeps the Client's
// internals alive, so it may outlive the Client object only until its next
// page fetch fails with Cancelled.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "cairn/v1/ledger.pb.h"

namespace cairn::client {

namespace internal {
class Core;
}  // namespace internal

struct ListOptions {
  // Inclusive bounds; empty means from the first / to the last entry.
  std::string from_txid;
  std::string to_txid;
  // Entries per call: 1 to the service's page_size_max; 0 = the service default.
  uint32_t page_size = 0;
  // False: entries come without contents (the leaf still binds their digest).
  bool include_contents = true;
  // Stop after this many entries (0 = no limit).
  uint64_t entries_max = 0;
  // LINEARIZABLE (the default): the whole listing is one snapshot at a read
  // index taken with the first page, on whichever nodes its pages are read
  // (it agrees with a GetCurrentEntry made at the same time). LOCAL: each
  // page is what the answering node has applied.
  v1::ReadConsistency consistency = v1::READ_CONSISTENCY_LINEARIZABLE;
};

class EntryIterator {
 public:
  EntryIterator(std::shared_ptr<internal::Core> core, v1::ListEntriesRequest request,
                uint64_t entries_max);
  EntryIterator(EntryIterator&&) noexcept = default;
  EntryIterator& operator=(EntryIterator&&) noexcept = default;

  // Moves the next entry into *entry and returns true; false at the end or
  // when a page could not be fetched (then status() says why).
  bool Next(v1::Entry* entry);
  // OK unless the iteration stopped on an error.
  const absl::Status& status() const { return status_; }
  // Pages fetched so far.
  uint64_t pages() const { return pages_; }

 private:
  bool FetchPage();

  std::shared_ptr<internal::Core> core_;
  v1::ListEntriesRequest request_;  // page_token advances with each page
  uint64_t entries_max_;
  uint64_t returned_ = 0;
  uint64_t pages_ = 0;
  bool last_page_ = false;
  std::deque<v1::Entry> buffered_;
  absl::Status status_;
};

}  // namespace cairn::client
