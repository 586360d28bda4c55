// Strict parsing and formatting of "term.index" transaction ids (see txid.h).
#include "cairn/ledger/txid.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace cairn::ledger {
namespace {

// Parses one strict decimal part; `part` names it in the error.
absl::StatusOr<uint64_t> ParsePart(absl::string_view digits, absl::string_view what,
                                   absl::string_view part) {
  if (digits.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", part, " is empty"));
  }
  if (digits.size() > 1 && digits[0] == '0') {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", part, " has a leading zero"));
  }
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", part, " must be decimal digits only"));
    }
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", part, " is larger than 2^64-1"));
    }
    value = value * 10 + d;
  }
  if (value == 0)
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", part, " must be >= 1"));
  return value;
}

}  // namespace

absl::StatusOr<TxId> TxId::Parse(absl::string_view text, absl::string_view what) {
  const size_t dot = text.find('.');
  if (dot == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": '", text.substr(0, 64), "' is not of the form term.index"));
  }
  absl::StatusOr<uint64_t> term = ParsePart(text.substr(0, dot), what, "term");
  if (!term.ok()) return term.status();
  absl::StatusOr<uint64_t> index = ParsePart(text.substr(dot + 1), what, "index");
  if (!index.ok()) return index.status();
  return TxId{*term, *index};
}

std::string TxId::ToString() const { return absl::StrCat(term, ".", index); }

}  // namespace cairn::ledger
