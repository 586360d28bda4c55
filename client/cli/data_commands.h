// cairnctl data-plane commands: append, get.
#pragma once

#include "global_options.h"

namespace cairn::cli {

// Registers the commands; a parsed command stores its action in *action.
void RegisterDataCommands(CLI::App& app, GlobalOptions& options, Action* action);

}  // namespace cairn::cli
