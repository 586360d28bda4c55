// YAML config files for CLI11 (see yaml_config.h).
#include "cairn/base/yaml_config.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

namespace cairn::base {
namespace {

std::string FlagName(std::string key) {
  for (char& c : key) {
    if (c == '_') c = '-';
  }
  return key;
}

// Converts a flat YAML mapping into CLI11 items, refusing keys that name no option.
std::vector<CLI::ConfigItem> Items(const YAML::Node& root, const CLI::App& app) {
  std::vector<CLI::ConfigItem> out;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) {
      throw CLI::ConfigError("config file: every key must be a plain field name (line " +
                             std::to_string(kv.first.Mark().line + 1) + ")");
    }
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    CLI::ConfigItem item;
    item.name = FlagName(key);
    if (item.name == "config" || item.name == "help" ||
        app.get_option_no_throw("--" + item.name) == nullptr) {
      throw CLI::ConfigError("unknown config field '" + key + "'");
    }
    switch (value.Type()) {
      case YAML::NodeType::Map:
        throw CLI::ConfigError("config field '" + key +
                               "' is a mapping; the config file is a flat list of field: value");
      case YAML::NodeType::Sequence:
        for (const auto& v : value) {
          if (!v.IsScalar()) {
            throw CLI::ConfigError("config field '" + key + "': a list may hold only plain values");
          }
          item.inputs.push_back(v.as<std::string>());
        }
        break;
      case YAML::NodeType::Scalar:
        item.inputs.push_back(value.as<std::string>());
        break;
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        throw CLI::ConfigError("config field '" + key + "' has no value");
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

std::vector<CLI::ConfigItem> YamlConfig::from_config(std::istream& input) const {
  YAML::Node root;
  try {
    root = YAML::Load(input);
  } catch (const YAML::Exception& e) {
    throw CLI::ConfigError("config file is not valid YAML: line " +
                           std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return {};  // an empty file sets nothing
  if (!root.IsMap()) throw CLI::ConfigError("config file must be a YAML mapping of field: value");
  try {
    return Items(root, *app_);
  } catch (const YAML::Exception& e) {
    // Anything yaml-cpp cannot convert is the file's fault, never a crash.
    throw CLI::ConfigError("config file: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

std::string YamlConfig::to_config(const CLI::App* app, bool default_also, bool write_description,
                                  std::string prefix) const {
  std::ostringstream out;
  for (const CLI::Option* opt : app->get_options()) {
    if (opt->get_lnames().empty() || opt->get_lnames()[0] == "help" ||
        opt->get_lnames()[0] == "config" || opt->get_lnames()[0] == "version") {
      continue;
    }
    std::string key = opt->get_lnames()[0];
    for (char& c : key) {
      if (c == '-') c = '_';
    }
    std::string value = opt->count() > 0 ? opt->as<std::string>() : opt->get_default_str();
    if (value.empty() && !default_also) continue;
    if (write_description) out << "# " << opt->get_description() << "\n";
    out << prefix << key << ": \"" << value << "\"\n";
  }
  return out.str();
}

}  // namespace cairn::base
