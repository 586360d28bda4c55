// Always-on invariant checks.
//
// Two error channels (STYLE.md §5): absl::Status for what can go wrong in
// operation, CAIRN_CHECK for what must never happen. A failed check prints the
// file, line, condition and message to stderr and aborts the process; checks
// are never compiled out, in any build type.
#pragma once

#include <sstream>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cairn::base {

// Collects the message of a failed check and aborts when destroyed.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, absl::string_view condition);
  [[noreturn]] ~CheckFailure();
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;

  std::ostream& stream() { return message_; }

 private:
  const char* file_;
  int line_;
  std::ostringstream message_;
};

}  // namespace cairn::base

// CAIRN_CHECK(cond) << "context";  aborts with a message when cond is false.
#define CAIRN_CHECK(cond)             \
  while (ABSL_PREDICT_FALSE(!(cond))) \
  ::cairn::base::CheckFailure(__FILE__, __LINE__, #cond).stream()

// CAIRN_CHECK_OK(status_expr) << "context";  aborts when the status is not OK.
#define CAIRN_CHECK_OK(expr)                                               \
  for (const ::absl::Status cairn_check_status_ = (expr);                  \
       ABSL_PREDICT_FALSE(!cairn_check_status_.ok());)                     \
  ::cairn::base::CheckFailure(__FILE__, __LINE__, #expr " is OK").stream() \
      << cairn_check_status_.ToString() << " "

// Marks code that the surrounding invariants make impossible to reach.
#define CAIRN_UNREACHABLE() ::cairn::base::CheckFailure(__FILE__, __LINE__, "unreachable").stream()
