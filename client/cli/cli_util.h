// Helpers the cairnctl online commands share: reporting errors with the
// documented exit codes, JSON and text forms of entries and checkpoints, and
// finding a subcommand another module may already have registered.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "cairn/client/client.h"
#include "global_options.h"

namespace cairn::cli {

// The gRPC/absl code name, e.g. "UNAVAILABLE".
std::string CodeName(absl::StatusCode code);

// Prints `status` and returns its exit code: 3 for UNAVAILABLE /
// DEADLINE_EXCEEDED, else 1 (or `exit_code` when given). On stderr
// "cairnctl: CODE: REASON: message" (no REASON when the error carries none)
// and, for OUTCOME_UNKNOWN, LOST_TO_LEADER_CHANGE and IDEMPOTENCY_KEY_REUSED,
// a second line naming the txid and what to do; with --json also
// {"error","reason","message","metadata"} on stdout.
int ReportFailure(const absl::Status& status, const GlobalOptions& options,
                  std::optional<int> exit_code = std::nullopt);

// The second line ReportFailure prints for `status` ("" when none).
std::string OutcomeAdvice(const absl::Status& status);

// Makes a client and runs `body` with it; a client that cannot be made
// (bad credentials or options) is a usage error (exit 2).
int WithClient(const GlobalOptions& options, const std::function<int(client::Client&)>& body);

// Prints one JSON document on a line of its own.
void PrintJson(const nlohmann::ordered_json& j);

nlohmann::ordered_json EntryJson(const v1::Entry& entry, bool with_contents = true);
nlohmann::ordered_json CheckpointJson(const v1::SignedCheckpoint& checkpoint);
std::string TimeText(int64_t unix_ms);

// The subcommand `name` of `app`, created with `description` if no other
// module registered it yet (e.g. "receipt", shared with the offline commands).
CLI::App* FindOrAddSubcommand(CLI::App& app, const std::string& name,
                              const std::string& description);

// Reads all of `path` ("-" = stdin). NotFound naming the file if unreadable.
absl::StatusOr<std::string> ReadInput(const std::string& path);

}  // namespace cairn::cli
