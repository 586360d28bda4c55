// The interface every Cairn fuzz target implements: libFuzzer's entry point,
// plus a seed generator used to (re)build the checked-in corpus. With clang a
// target links against -fsanitize=fuzzer directly; without it (this
// machine's gcc) fuzz_driver.cc runs the corpus and a fixed number of
// deterministic mutations under CTest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace cairn::fuzz {

// Well-formed inputs that reach deep into the target: written to the corpus
// directory by `fuzz_<target> --write-seeds DIR`.
std::vector<std::pair<std::string, std::string>> Seeds();  // (file name, bytes)

}  // namespace cairn::fuzz
