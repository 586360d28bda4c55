// A CLI11 config-file adapter for YAML, so that cairn-node and cairnctl read
// settings from YAML while CLI11 keeps the rule that flags override the file.
//
// The file must be a flat mapping of flag names (with '_' or '-') to scalars
// or sequences of scalars. Anything else (a key that names no option, a
// nested mapping, a key that is not a plain name, YAML that does not parse)
// is a CLI::ConfigError naming the key or line; nothing else is thrown.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace cairn::base {

class YamlConfig : public CLI::Config {
 public:
  explicit YamlConfig(const CLI::App* app) : app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;

 private:
  const CLI::App* app_;  // to check that every key names an option
};

}  // namespace cairn::base
