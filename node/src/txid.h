// Transaction ids "term.index" as the node parses and prints them.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cairn::node {

struct TxId {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string ToString() const { return absl::StrCat(term, ".", index); }
};

// Strict: two positive decimal integers without sign, spaces or leading zeros.
inline absl::StatusOr<TxId> ParseTxId(absl::string_view s, absl::string_view field = "txid") {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", s, "' is malformed: expected \"term.index\", e.g. \"3.1042\""));
  };
  const size_t dot = s.find('.');
  if (dot == absl::string_view::npos) return bad();
  auto number = [](absl::string_view part, uint64_t* out) {
    if (part.empty() || part.size() > 20 || part[0] == '0') return false;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
    }
    return absl::SimpleAtoi(part, out);
  };
  TxId id;
  if (!number(s.substr(0, dot), &id.term) || !number(s.substr(dot + 1), &id.index)) return bad();
  return id;
}

}  // namespace cairn::node
