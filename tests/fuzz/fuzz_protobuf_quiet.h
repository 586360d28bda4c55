// Silences protobuf's log lines ("String field ... contains invalid UTF-8")
// for fuzz targets that parse mutated messages: a rejected parse is an
// expected outcome there, and logging it for millions of inputs only slows
// the fuzzer and buries its own output. Include in the target's .cc file.
#pragma once

#include "google/protobuf/stubs/logging.h"

namespace cairn::fuzz {

// Internal linkage so each including file runs it at start-up (an unused
// inline variable may never be emitted, nor initialized).
[[maybe_unused]] static const bool kProtobufQuiet = [] {
  google::protobuf::SetLogHandler(nullptr);  // nullptr: drop every log line
  return true;
}();

}  // namespace cairn::fuzz
