// Paging through ListEntries (see entry_iterator.h).
#include "cairn/client/entry_iterator.h"

#include "call.h"
#include "core.h"
#include "error_info.h"

namespace cairn::client {

EntryIterator::EntryIterator(std::shared_ptr<internal::Core> core, v1::ListEntriesRequest request,
                             uint64_t entries_max)
    : core_(std::move(core)), request_(std::move(request)), entries_max_(entries_max) {}

bool EntryIterator::Next(v1::Entry* entry) {
  if (!status_.ok()) return false;
  if (entries_max_ != 0 && returned_ >= entries_max_) return false;
  while (buffered_.empty()) {
    if (last_page_) return false;
    if (!FetchPage()) return false;
  }
  *entry = std::move(buffered_.front());
  buffered_.pop_front();
  ++returned_;
  return true;
}

bool EntryIterator::FetchPage() {
  internal::CallSpec spec;
  spec.method = "ListEntries";
  auto page = internal::CallSync<v1::ListEntriesResponse>(core_, std::move(spec), request_,
                                                          CAIRN_RPC(ledger, ListEntries));
  if (!page.ok()) {
    status_ = page.status();
    return false;
  }
  ++pages_;
  const std::string& next = page->next_page_token();
  if (!next.empty() && next == request_.page_token()) {
    status_ = internal::WithReason(
        absl::InternalError("ListEntries: the service returned the same page token twice"),
        ErrorReason::kInternal);
    return false;
  }
  for (v1::Entry& e : *page->mutable_entries()) buffered_.push_back(std::move(e));
  last_page_ = next.empty();
  request_.set_page_token(next);
  return true;
}

}  // namespace cairn::client
