// Cat(a, b, ...): concatenates anything an ostream prints, for the report
// strings of the checker (internal). Debian's Abseil is built with its own
// string_view, which absl::StrCat does not take as std::string_view.
#pragma once

#include <sstream>
#include <string>

namespace cairn::robustness {

template <typename... Args>
std::string Cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace cairn::robustness
