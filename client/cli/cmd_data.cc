// cairnctl append / get / current / list / collections / status: writing
// entries and reading them back through the SDK.
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cairn/base/atomic_file.h"
#include "cairn/base/hex.h"
#include "cli_util.h"
#include "data_commands.h"

namespace cairn::cli {
namespace {

struct AppendArgs {
  std::string collection;
  std::string contents;
  std::string file;
  std::string claims_digest_hex;
  std::string claims_file;
  std::string idempotency_key;
  bool no_wait = false;
  std::string wait = "committed";
};

// The append's contents and claims digest from the arguments; a usage error
// (exit 2) is reported here and returned as a non-OK status.
absl::Status PrepareAppend(const AppendArgs& args, std::string* contents,
                           client::AppendOptions* options) {
  if (!args.file.empty() || args.contents == "-") {
    absl::StatusOr<std::string> in = ReadInput(args.file.empty() ? "-" : args.file);
    if (!in.ok())
      return absl::InvalidArgumentError(absl::StrCat("--file: ", in.status().message()));
    *contents = *std::move(in);
  } else {
    *contents = args.contents;
  }
  if (!args.claims_digest_hex.empty() && !args.claims_file.empty()) {
    return absl::InvalidArgumentError("give --claims-digest or --claims-file, not both");
  }
  if (!args.claims_digest_hex.empty()) {
    absl::StatusOr<std::string> digest = base::HexDecode(args.claims_digest_hex, "--claims-digest");
    if (!digest.ok()) return digest.status();
    if (digest->size() != 32) {
      return absl::InvalidArgumentError("--claims-digest must be 32 bytes (64 hex digits)");
    }
    options->claims_digest = *std::move(digest);
  }
  if (!args.claims_file.empty()) {
    absl::StatusOr<std::string> claims = ReadInput(args.claims_file);
    if (!claims.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--claims-file: ", claims.status().message()));
    }
    options->claims_digest = client::ClaimsDigest(*claims);
  }
  options->idempotency_key = args.idempotency_key;
  options->wait_for_commit = !args.no_wait && args.wait != "none";
  options->geo_durable = args.wait == "geo-durable";
  return absl::OkStatus();
}

int RunAppend(const AppendArgs& args, const GlobalOptions& options) {
  std::string contents;
  client::AppendOptions append_options;
  if (absl::Status s = PrepareAppend(args, &contents, &append_options); !s.ok()) {
    std::cerr << "cairnctl: " << s.message() << "\n";
    return kExitUsage;
  }
  return WithClient(options, [&](client::Client& c) {
    absl::StatusOr<client::AppendResult> r = c.Append(args.collection, contents, append_options);
    if (!r.ok()) return ReportFailure(r.status(), options);
    const std::string state = v1::TransactionStatus_Name(r->status).substr(19);  // COMMITTED
    if (options.json) {
      PrintJson({{"txid", r->txid},
                 {"status", state},
                 {"duplicate", r->duplicate},
                 {"idempotency_key", r->idempotency_key}});
    } else {
      std::cout << r->txid << " " << state << (r->duplicate ? " (duplicate)" : "") << "\n";
    }
    return kExitOk;
  });
}

// Prints an entry: its contents (or a note when written to a file), or JSON.
int PrintEntry(const v1::Entry& e, const std::string& output, const GlobalOptions& options) {
  if (!output.empty()) {
    // All or nothing: a failed write leaves no partial file behind.
    if (absl::Status st = base::ReplaceFileAtomically(output, e.contents()); !st.ok()) {
      std::cerr << "cairnctl: cannot write --output " << output << ": " << st.message() << "\n";
      return kExitFailed;
    }
  }
  if (options.json) {
    PrintJson(EntryJson(e));
  } else if (output.empty()) {
    std::cout << e.contents();
    if (!e.contents().empty() && e.contents().back() != '\n') std::cout << "\n";
  } else {
    std::cout << e.txid() << " " << e.collection_id() << " " << e.contents().size()
              << " bytes written to " << output << "\n";
  }
  return kExitOk;
}

void RegisterAppend(CLI::App& app, GlobalOptions& options, Action* action) {
  auto args = std::make_shared<AppendArgs>();
  CLI::App* cmd = app.add_subcommand(
      "append", "Append an entry to a collection; prints its txid once committed");
  cmd->add_option("collection", args->collection, "Collection id")->required();
  cmd->add_option("contents", args->contents,
                  "Entry contents; '-' (or --file) reads them from stdin (or the file)");
  cmd->add_option("--file", args->file, "Read the contents from this file ('-': stdin)");
  cmd->add_option("--claims-digest", args->claims_digest_hex,
                  "32-byte application claims digest, hex; the receipt will prove it");
  cmd->add_option("--claims-file", args->claims_file,
                  "Application claims: their SHA-256 becomes the claims digest");
  cmd->add_option("--idempotency-key", args->idempotency_key,
                  "Retrying with the same key returns the first txid instead of writing twice "
                  "(default: a random key, reused by the automatic retries)");
  cmd->add_flag("--no-wait", args->no_wait,
                "Answer once the leader accepted the entry (PENDING), not once committed "
                "(= --wait none)");
  cmd->add_option("--wait", args->wait,
                  "committed; none (PENDING, as --no-wait); or geo-durable: once a geo-replica "
                  "archived it in the paired region (RPO 0 for this write)")
      ->check(CLI::IsMember({"committed", "none", "geo-durable"}))
      ->capture_default_str();
  cmd->callback([args, &options, action, cmd] {
    if (args->file.empty() && cmd->count("contents") == 0) {
      throw CLI::ValidationError("contents", "give the contents, '-' for stdin, or --file");
    }
    *action = [args, &options] { return RunAppend(*args, options); };
  });
}

void RegisterGet(CLI::App& app, GlobalOptions& options, Action* action) {
  auto txid = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("get", "Print a committed entry's contents by txid");
  cmd->add_option("txid", *txid, "Transaction id, term.index (e.g. 3.1042)")->required();
  cmd->add_option("--output", *output, "Write the contents to this file instead of stdout");
  cmd->callback([=, &options] {
    *action = [=, &options] {
      return WithClient(options, [&](client::Client& c) {
        absl::StatusOr<v1::Entry> e = c.GetEntry(*txid);
        return e.ok() ? PrintEntry(*e, *output, options) : ReportFailure(e.status(), options);
      });
    };
  });
}

void RegisterCurrent(CLI::App& app, GlobalOptions& options, Action* action) {
  auto collection = std::make_shared<std::string>();
  auto local = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("current", "Print the latest entry of a collection");
  cmd->add_option("collection", *collection, "Collection id")->required();
  cmd->add_flag("--local", *local,
                "Read what the node has applied (may be stale) instead of a linearizable read");
  cmd->callback([=, &options] {
    *action = [=, &options] {
      return WithClient(options, [&](client::Client& c) {
        absl::StatusOr<v1::Entry> e = c.GetCurrentEntry(
            *collection, *local ? v1::READ_CONSISTENCY_LOCAL : v1::READ_CONSISTENCY_LINEARIZABLE);
        return e.ok() ? PrintEntry(*e, "", options) : ReportFailure(e.status(), options);
      });
    };
  });
}

struct ListArgs {
  std::string collection;
  client::ListOptions list;
  bool no_contents = false;
  bool local = false;
};

int RunList(const ListArgs& args, const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    client::ListOptions list = args.list;
    list.include_contents = !args.no_contents;
    if (args.local) list.consistency = v1::READ_CONSISTENCY_LOCAL;
    client::EntryIterator it = c.ListEntries(args.collection, list);
    v1::Entry e;
    while (it.Next(&e)) {
      if (options.json) {
        PrintJson(EntryJson(e, !args.no_contents));  // JSON Lines: one entry per line
        continue;
      }
      std::cout << e.txid() << "\t" << TimeText(e.timestamp_unix_ms());
      if (!args.no_contents) {
        std::string preview = e.contents().substr(0, 60);
        for (char& ch : preview) {
          if (ch < ' ' || ch > '~') ch = '.';
        }
        std::cout << "\t" << e.contents().size() << " bytes\t" << preview;
      }
      std::cout << "\n";
    }
    return it.status().ok() ? kExitOk : ReportFailure(it.status(), options);
  });
}

void RegisterList(CLI::App& app, GlobalOptions& options, Action* action) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* cmd = app.add_subcommand(
      "list", "List a collection's entries in txid order (--json: one JSON object per line)");
  cmd->add_option("collection", args->collection, "Collection id")->required();
  cmd->add_option("--from", args->list.from_txid, "First txid (inclusive)");
  cmd->add_option("--to", args->list.to_txid, "Last txid (inclusive)");
  cmd->add_option("--page-size", args->list.page_size, "Entries per call (0: service default)")
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--limit", args->list.entries_max, "Stop after this many entries (0: all)");
  cmd->add_flag("--no-contents", args->no_contents, "Leave the contents out");
  cmd->add_flag("--local", args->local,
                "Read each page from what the node has applied (may be stale) instead of one "
                "linearizable snapshot");
  cmd->callback(
      [args, &options, action] { *action = [args, &options] { return RunList(*args, options); }; });
}

void RegisterCollections(CLI::App& app, GlobalOptions& options, Action* action) {
  CLI::App* cmd = app.add_subcommand("collections", "List collections with their entry counts");
  cmd->callback([&options, action] {
    *action = [&options] {
      return WithClient(options, [&](client::Client& c) {
        auto list = c.ListCollections();
        if (!list.ok()) return ReportFailure(list.status(), options);
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (const v1::CollectionSummary& s : *list) {
          if (!options.json) {
            std::cout << s.collection_id() << "\t" << s.entry_count() << " entries\t"
                      << s.first_txid() << ".." << s.last_txid() << "\n";
          }
          all.push_back({{"collection_id", s.collection_id()},
                         {"entry_count", s.entry_count()},
                         {"first_txid", s.first_txid()},
                         {"last_txid", s.last_txid()}});
        }
        if (options.json) PrintJson({{"collections", all}});
        return kExitOk;
      });
    };
  });
}

struct StatusArgs {
  std::string txid;
  bool wait = false;
  int64_t wait_timeout_ms = 30000;
};

int RunStatus(const StatusArgs& args, const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    v1::TransactionStatus status;
    uint64_t commit_index = 0;
    if (args.wait) {
      auto r = c.WaitForCommit(args.txid, args.wait_timeout_ms);
      if (!r.ok() && client::ReasonOf(r.status()) == client::ErrorReason::kNotYetAvailable) {
        // The node answered; the transaction is not final yet.
        return ReportFailure(r.status(), options, kExitFailed);
      }
      if (!r.ok()) return ReportFailure(r.status(), options);
      status = *r;
    } else {
      auto r = c.GetTransactionStatus(args.txid);
      if (!r.ok()) return ReportFailure(r.status(), options);
      status = r->status();
      commit_index = r->commit_index();
    }
    const std::string name = v1::TransactionStatus_Name(status).substr(19);
    if (options.json) {
      nlohmann::ordered_json j{{"txid", args.txid}, {"status", name}};
      if (!args.wait) j["commit_index"] = commit_index;
      PrintJson(j);
    } else {
      std::cout << name;
      if (!args.wait) std::cout << " (commit index " << commit_index << ")";
      std::cout << "\n";
    }
    return args.wait && status == v1::TRANSACTION_STATUS_INVALID ? kExitFailed : kExitOk;
  });
}

// `status TXID` is a transaction's status; plain `status` is the cluster's
// (as `cluster status`), the command operators reach for first.
void RegisterStatus(CLI::App& app, GlobalOptions& options, Action* action) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "A transaction's status with TXID; without, every node's role, term, indexes and lag "
      "(as 'cluster status')");
  cmd->add_option("txid", args->txid, "Transaction id (omit for the cluster's status)");
  cmd->add_flag("--wait", args->wait,
                "Poll until COMMITTED (exit 0) or INVALID (exit 1); exit 1 if neither in time");
  cmd->add_option("--wait-timeout-ms", args->wait_timeout_ms, "How long --wait polls")
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}))
      ->capture_default_str();
  cmd->callback([args, &options, action] {
    if (args->txid.empty() && args->wait) {
      throw CLI::ValidationError("--wait", "needs a TXID (the cluster's status does not wait)");
    }
    *action = [args, &options] {
      return args->txid.empty() ? RunClusterStatus(options) : RunStatus(*args, options);
    };
  });
}

}  // namespace

void RegisterDataCommands(CLI::App& app, GlobalOptions& options, Action* action) {
  RegisterAppend(app, options, action);
  RegisterGet(app, options, action);
  RegisterCurrent(app, options, action);
  RegisterList(app, options, action);
  RegisterCollections(app, options, action);
  RegisterStatus(app, options, action);
}

}  // namespace cairn::cli
