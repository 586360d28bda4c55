// Implementation of the always-on invariant check (see check.h).
#include "cairn/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace cairn::base {

CheckFailure::CheckFailure(const char* file, int line, absl::string_view condition)
    : file_(file), line_(line) {
  message_ << "invariant violated: " << condition << ": ";
}

CheckFailure::~CheckFailure() {
  std::fprintf(stderr, "FATAL %s:%d %s\n", file_, line_, message_.str().c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace cairn::base
