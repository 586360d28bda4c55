// A deliberately broken target for the driver's self-test: it fails an
// invariant on any input holding a 0xff byte, which no seed does and random
// mutation soon produces. The test expects the driver to die.
#include "cairn/base/check.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) CAIRN_CHECK(data[i] != 0xff) << "planted bug found";
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() { return {{"seed", "cairn"}}; }

}  // namespace cairn::fuzz
