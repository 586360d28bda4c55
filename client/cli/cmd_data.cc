// cairnctl append / get / current / list / collections / status: writing
// entries and reading them back through the SDK.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cairn/base/atomic_file.h"
#include "cairn/base/hex.h"
#include "cairn/base/utf8.h"
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
  std::string batch_file;
  size_t batch_size = 100;
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

// One line of an --batch file, ready to send.
struct BatchLine {
  size_t line = 0;  // 1-based, for messages and output
  client::BatchEntry entry;
};

// Reads --batch FILE: JSON lines, each an object with "contents" (text) or
// "contents_hex", and optionally "collection_id" (default: the positional
// collection), "claims_digest" (64 hex digits) and "idempotency_key". Blank
// lines are skipped. Any bad line is an error naming it.
absl::StatusOr<std::vector<BatchLine>> ReadBatchFile(const AppendArgs& args) {
  absl::StatusOr<std::string> text = ReadInput(args.batch_file);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--batch: ", text.status().message()));
  }
  std::vector<BatchLine> lines;
  size_t number = 0;
  for (absl::string_view raw : absl::StrSplit(*text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(raw).empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("--batch ", args.batch_file, " line ", number, ": ", why));
    };
    const nlohmann::json j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
    for (const auto& [name, value] : j.items()) {
      if (name != "contents" && name != "contents_hex" && name != "collection_id" &&
          name != "claims_digest" && name != "idempotency_key") {
        return bad(absl::StrCat("unknown field \"", name,
                                "\" (known: collection_id, contents, contents_hex, "
                                "claims_digest, idempotency_key)"));
      }
      if (!value.is_string()) return bad(absl::StrCat("\"", name, "\" must be a string"));
    }
    BatchLine line;
    line.line = number;
    client::BatchEntry& e = line.entry;
    e.collection_id = j.value("collection_id", args.collection);
    if (e.collection_id.empty()) {
      return bad("no collection_id, and no collection given on the command line");
    }
    if (j.contains("contents") == j.contains("contents_hex")) {
      return bad("give exactly one of \"contents\" and \"contents_hex\"");
    }
    if (j.contains("contents")) {
      e.contents = j["contents"].get<std::string>();
    } else {
      auto bytes = base::HexDecode(j["contents_hex"].get<std::string>(), "contents_hex");
      if (!bytes.ok()) return bad(bytes.status().message());
      e.contents = *std::move(bytes);
    }
    if (j.contains("claims_digest")) {
      auto digest = base::HexDecode(j["claims_digest"].get<std::string>(), "claims_digest");
      if (!digest.ok()) return bad(digest.status().message());
      if (digest->size() != 32) return bad("claims_digest must be 32 bytes (64 hex digits)");
      e.claims_digest = *std::move(digest);
    }
    e.idempotency_key = j.value("idempotency_key", "");
    // With --idempotency-key K, a line without a key of its own is sent as
    // "K/<line>": running the same file again with K writes nothing twice.
    if (e.idempotency_key.empty() && !args.idempotency_key.empty()) {
      e.idempotency_key = absl::StrCat(args.idempotency_key, "/", number);
    }
    lines.push_back(std::move(line));
  }
  if (lines.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("--batch ", args.batch_file, " holds no entries"));
  return lines;
}

// append --batch: the whole file is read and checked first (a bad line
// sends nothing), then sent in AppendBatch calls of --batch-size entries,
// printing each entry's txid as its call returns.
int RunAppendBatch(const AppendArgs& args, const GlobalOptions& options) {
  absl::StatusOr<std::vector<BatchLine>> lines = ReadBatchFile(args);
  if (!lines.ok()) {
    std::cerr << "cairnctl: " << lines.status().message() << "\n";
    return kExitUsage;
  }
  client::AppendBatchOptions batch_options;
  batch_options.wait_for_commit = !args.no_wait && args.wait != "none";
  batch_options.geo_durable = args.wait == "geo-durable";
  return WithClient(options, [&](client::Client& c) {
    for (size_t first = 0; first < lines->size(); first += args.batch_size) {
      const size_t end = std::min(lines->size(), first + args.batch_size);
      std::vector<client::BatchEntry> entries;
      for (size_t k = first; k < end; ++k) entries.push_back((*lines)[k].entry);
      auto results = c.AppendBatch(std::move(entries), batch_options);
      if (!results.ok()) {
        if (first > 0) {
          std::cerr << "cairnctl: lines before line " << (*lines)[first].line
                    << " were appended (printed above); this call and the rest were not, or "
                       "not certainly\n";
        }
        return ReportFailure(results.status(), options);
      }
      for (size_t k = first; k < end; ++k) {
        const client::AppendResult& r = (*results)[k - first];
        const std::string state = v1::TransactionStatus_Name(r.status).substr(19);
        if (options.json) {
          PrintJson({{"line", (*lines)[k].line},
                     {"txid", r.txid},
                     {"status", state},
                     {"duplicate", r.duplicate},
                     {"idempotency_key", r.idempotency_key}});
        } else {
          std::cout << r.txid << " " << state << (r.duplicate ? " (duplicate)" : "") << "\n";
        }
      }
    }
    return kExitOk;
  });
}

// True when `s` is text a terminal shows as such: UTF-8 without control
// characters (C0 but tab, newline and carriage return; DEL; C1, which some
// terminals obey as escapes).
bool IsPlainText(absl::string_view s) {
  if (!base::IsValidUtf8(s)) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) return false;
  }
  return true;
}

// Prints an entry: its contents (or a note when written to a file), or JSON.
// Contents that are not text are not printed to a terminal (a signature
// transaction's, say): they could garble it or drive it with escapes.
int PrintEntry(const v1::Entry& e, const std::string& output, const GlobalOptions& options) {
  if (!output.empty()) {
    // All or nothing: a failed write leaves no partial file behind.
    if (absl::Status st = base::ReplaceFileAtomically(output, e.contents()); !st.ok()) {
      std::cerr << "cairnctl: cannot write --output " << output << ": " << st.message() << "\n";
      return kExitFailed;
    }
  }
  if (!options.json && !e.contents_salt().empty()) {
    // A private ledger's entry: what checks its receipt with the contents.
    std::cerr << "contents salt of " << e.txid() << ": " << base::HexEncode(e.contents_salt())
              << " (receipt verify --contents-salt)\n";
  }
  if (options.json) {
    PrintJson(EntryJson(e));
  } else if (output.empty()) {
    if (::isatty(STDOUT_FILENO) == 1 && !IsPlainText(e.contents())) {
      std::cerr << "cairnctl: " << e.txid() << " (" << e.collection_id() << ") holds "
                << e.contents().size()
                << " bytes that are not text; not printed to a terminal: save them with "
                   "get --output FILE, see them as hex with --json, or pipe them (| xxd)\n";
      return kExitFailed;
    }
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
  cmd->add_option("collection", args->collection,
                  "Collection id (with --batch: of the lines that name none)");
  cmd->add_option("contents", args->contents,
                  "Entry contents; '-' (or --file) reads them from stdin (or the file)");
  cmd->add_option("--batch", args->batch_file,
                  "Append every entry of this JSON-lines file ('-': stdin), in AppendBatch "
                  "calls; one object per line: contents (text) or contents_hex, and optionally "
                  "collection_id, claims_digest (hex), idempotency_key. Prints a txid per line");
  cmd->add_option("--batch-size", args->batch_size,
                  "Entries per AppendBatch call (the node refuses more than its "
                  "append_batch_entries_max)")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  cmd->add_option("--file", args->file, "Read the contents from this file ('-': stdin)");
  cmd->add_option("--claims-digest", args->claims_digest_hex,
                  "32-byte application claims digest, hex; the receipt will prove it");
  cmd->add_option("--claims-file", args->claims_file,
                  "Application claims: their SHA-256 becomes the claims digest");
  cmd->add_flag("--no-wait", args->no_wait,
                "Answer once the leader accepted the entry (PENDING), not once committed "
                "(= --wait none)");
  cmd->add_option("--wait", args->wait,
                  "committed; none (PENDING, as --no-wait); or geo-durable: once a geo-replica "
                  "archived it in the paired region (RPO 0 for this write)")
      ->check(CLI::IsMember({"committed", "none", "geo-durable"}))
      ->capture_default_str();
  cmd->add_option("--idempotency-key", args->idempotency_key,
                  "Retrying with the same key returns the first txid instead of writing twice "
                  "(default: a random key, reused by the automatic retries). With --batch: "
                  "lines without a key of their own are sent as KEY/<line number>");
  cmd->callback([args, &options, action, cmd] {
    if (!args->batch_file.empty()) {
      if (cmd->count("contents") != 0 || !args->file.empty() || !args->claims_digest_hex.empty() ||
          !args->claims_file.empty()) {
        throw CLI::ValidationError("--batch",
                                   "takes the entries, and their claims, from the file only");
      }
      *action = [args, &options] { return RunAppendBatch(*args, options); };
      return;
    }
    if (cmd->count("collection") == 0) {
      throw CLI::ValidationError("collection", "give the collection id");
    }
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
