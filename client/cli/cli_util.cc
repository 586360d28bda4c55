// Shared helpers of cairnctl's online commands (see cli_util.h) and the
// global options (global_options.h).
#include "cli_util.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/base/hex.h"
#include "cairn/client/errors.h"
#include "tls_probe.h"

namespace cairn::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& o) {
  app.add_option("--endpoint", o.endpoints,
                 "Node client address(es), host:port; repeat or comma-separate")
      ->envname("CAIRN_ENDPOINT")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--cert", o.credentials.cert_file, "Your certificate (PEM)")
      ->envname("CAIRN_CERT");
  app.add_option("--key", o.credentials.key_file, "Your private key (PEM)")->envname("CAIRN_KEY");
  app.add_option("--service-cert", o.credentials.service_cert_file,
                 "The service identity certificate (PEM) to pin")
      ->envname("CAIRN_SERVICE_CERT");
  app.add_flag("--json", o.json, "Print results as JSON")->envname("CAIRN_JSON");
  app.add_option("--timeout-ms", o.timeout_ms,
                 "How long a call may take, retries on other nodes included, in milliseconds")
      ->envname("CAIRN_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}))
      ->capture_default_str();
  app.add_option("--state-file", o.state_file,
                 "Keep the last verified checkpoint in this file: a fork or rollback seen by a "
                 "later run is detected too")
      ->envname("CAIRN_STATE_FILE");
  app.add_flag("--no-verify", o.no_verify,
               "Do not check checkpoints against the verified state (not recommended)");
}

absl::StatusOr<std::unique_ptr<client::Client>> MakeClient(const GlobalOptions& o) {
  client::ClientOptions options;
  options.endpoints = o.endpoints;
  options.credentials = o.credentials;
  // One bound for the whole call; each attempt gets what is left of it.
  options.call_timeout_ms = std::min<int64_t>(o.timeout_ms, 3600000);
  options.retry.total_timeout_ms = o.timeout_ms;
  options.verified_state.enabled = !o.no_verify;
  options.verified_state.state_file = o.state_file;
  return client::Client::Create(std::move(options));
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

std::string OutcomeAdvice(const absl::Status& status) {
  const std::optional<client::ErrorDetails> details = client::DetailsOf(status);
  if (!details) return "";
  auto get = [&](std::string_view key) {
    auto it = details->metadata.find(std::string(key));
    return it == details->metadata.end() ? std::string() : it->second;
  };
  const std::string txid = get(client::kTxidKey);
  const std::string key = get(client::kIdempotencyKeyKey);
  switch (details->reason) {
    case client::ErrorReason::kOutcomeUnknown: {
      std::string advice =
          absl::StrCat(txid.empty() ? "it" : "txid " + txid, " may or may not have been written: ");
      if (!txid.empty()) absl::StrAppend(&advice, "'cairnctl status ", txid, " --wait' tells");
      if (!key.empty()) {
        absl::StrAppend(&advice, txid.empty() ? "" : ", or ", "retry with --idempotency-key ", key,
                        " (it is not written twice)");
      }
      if (txid.empty() && key.empty()) absl::StrAppend(&advice, "check before repeating it");
      return advice;
    }
    case client::ErrorReason::kNotGeoDurable:
      return absl::StrCat("txid ", txid.empty() ? "?" : txid,
                          " is committed but not yet archived in the paired region: do not "
                          "append it again; 'cairnctl dr status' shows the archive's lag");
    case client::ErrorReason::kLostToLeaderChange:
      return absl::StrCat("txid ", txid.empty() ? "?" : txid,
                          " was lost to a leader change and will never commit: nothing was "
                          "written; retrying is safe");
    case client::ErrorReason::kIdempotencyKeyReused:
      return absl::StrCat("the idempotency key is held by txid ", txid.empty() ? "?" : txid,
                          ", an append of other contents: nothing was written; use a new key");
    default:
      return "";
  }
}

// A node that closed the connection at the TLS handshake ("Socket closed",
// all gRPC says) because it refuses our client certificate: that, in one
// line, as UNAUTHENTICATED; nullopt when the probe finds another cause.
std::optional<absl::Status> RefusedCertificate(const absl::Status& status,
                                               const GlobalOptions& options) {
  if (status.code() != absl::StatusCode::kUnavailable || client::DetailsOf(status) ||
      status.message().find("Socket closed") == absl::string_view::npos) {
    return std::nullopt;
  }
  for (const std::string& endpoint : options.endpoints) {
    if (std::optional<std::string> alert =
            ClientCertificateRefusal(endpoint, options.credentials)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "the node at ", endpoint,
          " refused the client certificate (--cert, CAIRN_CERT): ", *alert,
          ": the certificate was not issued by this service's certificate, or is not valid now"));
    }
  }
  return std::nullopt;
}

int ReportFailure(const absl::Status& given, const GlobalOptions& options,
                  std::optional<int> exit_code) {
  const absl::Status status = RefusedCertificate(given, options).value_or(given);
  const bool unreachable = status.code() == absl::StatusCode::kUnavailable ||
                           status.code() == absl::StatusCode::kDeadlineExceeded;
  const std::optional<client::ErrorDetails> details = client::DetailsOf(status);
  // As sent: a reason newer than this cairnctl is still shown by name.
  const std::string reason = details ? details->reason_name : "";
  if (options.json) {
    nlohmann::ordered_json metadata = nlohmann::ordered_json::object();
    if (details) {
      for (const auto& [k, v] : details->metadata) metadata[k] = v;
    }
    PrintJson(
        {{"error", CodeName(status.code())},
         {"reason",
          reason.empty() ? std::string(client::ReasonName(client::ErrorReason::kUnknown)) : reason},
         {"message", std::string(status.message())},
         {"metadata", metadata}});
  }
  std::cerr << "cairnctl: " << CodeName(status.code()) << ": "
            << (reason.empty() ? "" : reason + ": ") << status.message() << "\n";
  if (const std::string advice = OutcomeAdvice(status); !advice.empty()) {
    std::cerr << "cairnctl: " << advice << "\n";
  }
  if (exit_code) return *exit_code;
  return unreachable ? kExitUnavailable : kExitFailed;
}

int WithClient(const GlobalOptions& options, const std::function<int(client::Client&)>& body) {
  absl::StatusOr<std::unique_ptr<client::Client>> c = MakeClient(options);
  if (!c.ok()) {
    if (c.status().code() == absl::StatusCode::kDataLoss) return ReportFailure(c.status(), options);
    std::cerr << "cairnctl: " << c.status().message() << "\n";
    return kExitUsage;
  }
  return body(**c);
}

void PrintJson(const nlohmann::ordered_json& j) { std::cout << j.dump() << "\n"; }

std::string TimeText(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

nlohmann::ordered_json EntryJson(const v1::Entry& e, bool with_contents) {
  nlohmann::ordered_json j{{"txid", e.txid()}, {"collection_id", e.collection_id()}};
  if (with_contents) j["contents_hex"] = base::HexEncode(e.contents());
  if (with_contents && !e.contents_salt().empty()) {
    j["contents_salt_hex"] = base::HexEncode(e.contents_salt());
  }
  j["claims_digest"] = base::HexEncode(e.claims_digest());
  j["user_id"] = e.user_id();
  j["timestamp_unix_ms"] = e.timestamp_unix_ms();
  return j;
}

nlohmann::ordered_json CheckpointJson(const v1::SignedCheckpoint& sc) {
  const v1::Checkpoint& c = sc.checkpoint();
  return {{"service_id", c.service_id()},
          {"tree_size", c.tree_size()},
          {"root_hash", base::HexEncode(c.root_hash())},
          {"last_txid", c.last_txid()},
          {"timestamp_unix_ms", c.timestamp_unix_ms()},
          {"signer_node_id", sc.signer_node_id()},
          {"signature", base::HexEncode(sc.signature())},
          {"signature_txid", sc.signature_txid()}};
}

CLI::App* FindOrAddSubcommand(CLI::App& app, const std::string& name,
                              const std::string& description) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  return app.add_subcommand(name, description);
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace cairn::cli
