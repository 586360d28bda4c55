// cairnctl append / get: write an entry and read it back.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cairn/base/hex.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "data_commands.h"

namespace cairn::cli {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    default:
      return "ERROR";
  }
}

// Prints a failed call and returns its exit code.
int ReportFailure(const grpc::Status& status, const GlobalOptions& options) {
  const bool unreachable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  if (options.json) {
    std::cout << nlohmann::json{{"error", CodeName(status.error_code())},
                                {"message", status.error_message()}}
                     .dump()
              << "\n";
  }
  std::cerr << "cairnctl: " << CodeName(status.error_code()) << ": " << status.error_message()
            << "\n";
  return unreachable ? kExitUnavailable : kExitFailed;
}

// Calls `rpc` on each endpoint in turn until one answers with something other
// than UNAVAILABLE. `rpc` gets a stub and a fresh context with the deadline.
template <typename Rpc>
grpc::Status CallAny(const GlobalOptions& options, Rpc rpc) {
  grpc::Status last(grpc::StatusCode::UNAVAILABLE, "no endpoint given");
  for (const std::string& endpoint : options.endpoints) {
    auto channel = client::OpenChannel(endpoint, options.credentials);
    if (!channel.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(channel.status().message()));
    }
    auto stub = v1::LedgerService::NewStub(*channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(options.timeout_ms));
    last = rpc(*stub, context);
    if (last.error_code() != grpc::StatusCode::UNAVAILABLE) return last;
  }
  return last;
}

struct AppendArgs {
  std::string collection;
  std::string contents;
  std::string file;
  std::string claims_digest_hex;
  std::string idempotency_key;
  bool no_wait = false;
};

int RunAppend(const AppendArgs& args, const GlobalOptions& options) {
  v1::AppendRequest request;
  request.set_collection_id(args.collection);
  if (!args.file.empty() || args.contents == "-") {
    std::ifstream file_in;
    std::istream* in = &std::cin;
    if (!args.file.empty()) {
      file_in.open(args.file, std::ios::binary);
      if (!file_in) {
        std::cerr << "cairnctl: cannot read --file " << args.file << "\n";
        return kExitUsage;
      }
      in = &file_in;
    }
    request.set_contents(std::string(std::istreambuf_iterator<char>(*in), {}));
  } else {
    request.set_contents(args.contents);
  }
  if (!args.claims_digest_hex.empty()) {
    auto digest = base::HexDecode(args.claims_digest_hex, "--claims-digest");
    if (!digest.ok()) {
      std::cerr << "cairnctl: " << digest.status().message() << "\n";
      return kExitUsage;
    }
    request.set_claims_digest(*digest);
  }
  request.set_idempotency_key(args.idempotency_key);
  request.set_wait(args.no_wait ? v1::APPEND_WAIT_NONE : v1::APPEND_WAIT_COMMITTED);
  v1::AppendResponse response;
  grpc::Status status = CallAny(options, [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.Append(&ctx, request, &response);
  });
  if (!status.ok()) return ReportFailure(status, options);
  const std::string state =
      response.status() == v1::TRANSACTION_STATUS_COMMITTED ? "COMMITTED" : "PENDING";
  if (options.json) {
    std::cout << nlohmann::json{{"txid", response.txid()},
                                {"status", state},
                                {"duplicate", response.duplicate()}}
                     .dump()
              << "\n";
  } else {
    std::cout << response.txid() << " " << state << (response.duplicate() ? " (duplicate)" : "")
              << "\n";
  }
  return kExitOk;
}

int RunGet(const std::string& txid, const std::string& output, const GlobalOptions& options) {
  v1::GetEntryRequest request;
  request.set_txid(txid);
  v1::GetEntryResponse response;
  grpc::Status status = CallAny(options, [&](auto& stub, grpc::ClientContext& ctx) {
    return stub.GetEntry(&ctx, request, &response);
  });
  if (!status.ok()) return ReportFailure(status, options);
  const v1::Entry& e = response.entry();
  if (!output.empty()) {
    std::ofstream out(output, std::ios::binary);
    out << e.contents();
    if (!out) {
      std::cerr << "cairnctl: cannot write --output " << output << "\n";
      return kExitFailed;
    }
  }
  if (options.json) {
    nlohmann::json j{{"txid", e.txid()},
                     {"collection_id", e.collection_id()},
                     {"contents_hex", base::HexEncode(e.contents())},
                     {"claims_digest", base::HexEncode(e.claims_digest())},
                     {"user_id", e.user_id()},
                     {"timestamp_unix_ms", e.timestamp_unix_ms()}};
    std::cout << j.dump() << "\n";
  } else if (output.empty()) {
    std::cout << e.contents();
    if (!e.contents().empty() && e.contents().back() != '\n') std::cout << "\n";
  } else {
    std::cout << e.txid() << " " << e.collection_id() << " " << e.contents().size()
              << " bytes written to " << output << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterDataCommands(CLI::App& app, GlobalOptions& options, Action* action) {
  auto append_args = std::make_shared<AppendArgs>();
  CLI::App* append = app.add_subcommand(
      "append", "Append an entry to a collection; prints its txid once committed");
  append->add_option("collection", append_args->collection, "Collection id")->required();
  append->add_option("contents", append_args->contents,
                     "Entry contents; '-' (or --file) reads them from stdin (or the file)");
  append->add_option("--file", append_args->file, "Read the contents from this file");
  append->add_option("--claims-digest", append_args->claims_digest_hex,
                     "32-byte application claims digest, hex; the receipt will prove it");
  append->add_option("--idempotency-key", append_args->idempotency_key,
                     "Retrying with the same key returns the first txid instead of writing twice");
  append->add_flag("--no-wait", append_args->no_wait,
                   "Answer once the leader accepted the entry (PENDING), not once committed");
  append->callback([append_args, &options, action, append] {
    if (append_args->file.empty() && append->count("contents") == 0) {
      throw CLI::ValidationError("contents", "give the contents, '-' for stdin, or --file");
    }
    *action = [append_args, &options] { return RunAppend(*append_args, options); };
  });

  auto txid = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  CLI::App* get = app.add_subcommand("get", "Print a committed entry's contents by txid");
  get->add_option("txid", *txid, "Transaction id, term.index (e.g. 3.1042)")->required();
  get->add_option("--output", *output, "Write the contents to this file instead of stdout");
  get->callback([txid, output, &options, action] {
    *action = [txid, output, &options] { return RunGet(*txid, *output, options); };
  });
}

}  // namespace cairn::cli
