// Fuzz target: YAML config files (base/yaml_config.h), read by cairn-node and
// cairnctl from a path an operator gives. Whatever the bytes, parsing ends in
// success or a CLI11 parse error with a message; any other exception or a
// crash is a bug (the programs turn parse errors into exit code 2).
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "cairn/base/check.h"
#include "cairn/base/yaml_config.h"
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Options of each kind the real programs declare: integers with a range,
  // strings, lists, flags.
  CLI::App app("fuzz");
  uint64_t node_id = 0;
  std::string data_dir;
  std::vector<std::string> members;
  bool flag = false;
  app.add_option("--node-id", node_id)->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  app.add_option("--data-dir", data_dir);
  app.add_option("--initial-cluster", members)->delimiter(',');
  app.add_flag("--no-wait", flag);
  app.config_formatter(std::make_shared<cairn::base::YamlConfig>(&app));
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    app.parse_from_stream(in);
  } catch (const CLI::ParseError& e) {
    CAIRN_CHECK(std::string(e.what()).size() > 0) << "a parse error without a message";
  }
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  return {
      {"valid.yaml", "node_id: 7\ndata_dir: /var/lib/cairn\nno_wait: true\n"},
      {"list.yaml", "initial-cluster:\n  - 1@a:1/b:2\n  - 2@c:3/d:4\n"},
      {"nested.yaml", "node_id:\n  inner: 1\n"},
      {"complex-key.yaml", "? [a, b]\n: 1\n"},
      {"anchors.yaml", "a: &x 1\nnode_id: *x\n"},
      {"flow.yaml", "{node_id: 3, data_dir: \"d\"}\n"},
  };
}

}  // namespace cairn::fuzz
