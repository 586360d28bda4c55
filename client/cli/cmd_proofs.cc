// cairnctl receipt get / checkpoint / consistency / identity: the proofs a
// node serves, verified on arrival by the SDK (receipts against the pinned
// service certificate; checkpoints against the verified state). The offline
// commands (receipt verify, proof, audit) are in cmd_offline.cc.
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/base/atomic_file.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/identity.h"
#include "cli_util.h"
#include "data_commands.h"

namespace cairn::cli {
namespace {

struct ReceiptArgs {
  std::string txid;
  bool wait = false;
  int64_t wait_timeout_ms = 30000;
  std::string output;
  std::string contents_file;
  std::string contents_salt_hex;
  std::string claims_file;
  std::string claims_digest_hex;
};

absl::Status Expectations(const ReceiptArgs& args, client::ReceiptExpectations* expect) {
  if (!args.contents_file.empty()) {
    absl::StatusOr<std::string> contents = ReadInput(args.contents_file);
    if (!contents.ok()) return contents.status();
    expect->contents = *std::move(contents);
  }
  if (!args.contents_salt_hex.empty()) {
    absl::StatusOr<std::string> salt = base::HexDecode(args.contents_salt_hex, "--contents-salt");
    if (!salt.ok()) return salt.status();
    expect->contents_salt = *std::move(salt);
  }
  if (!args.claims_file.empty()) {
    absl::StatusOr<std::string> claims = ReadInput(args.claims_file);
    if (!claims.ok()) return claims.status();
    expect->claims_digest = client::ClaimsDigest(*claims);
  }
  if (!args.claims_digest_hex.empty()) {
    absl::StatusOr<std::string> digest = base::HexDecode(args.claims_digest_hex, "--claims-digest");
    if (!digest.ok()) return digest.status();
    expect->claims_digest = *std::move(digest);
  }
  return absl::OkStatus();
}

void PrintReceiptSummary(const v1::Receipt& r) {
  const v1::Checkpoint& c = r.checkpoint().checkpoint();
  std::cout << "receipt for " << r.leaf().txid() << " (collection " << r.leaf().collection_id()
            << ") verified against service " << c.service_id().substr(0, 16) << "…\n"
            << "  leaf " << r.leaf_index() << " of tree size " << c.tree_size() << ", root "
            << base::HexEncode(c.root_hash()).substr(0, 16) << "…\n"
            << "  signed by node " << r.checkpoint().signer_node_id() << " at "
            << TimeText(c.timestamp_unix_ms()) << "\n"
            << "  contents digest " << base::HexEncode(r.leaf().contents_digest()) << "\n";
  if (!r.leaf().claims_digest().empty()) {
    std::cout << "  claims digest " << base::HexEncode(r.leaf().claims_digest()) << "\n";
  }
}

int RunReceiptGet(const ReceiptArgs& args, const GlobalOptions& options) {
  client::ReceiptOptions receipt_options;
  receipt_options.wait = args.wait;
  receipt_options.timeout_ms = args.wait_timeout_ms;
  if (absl::Status s = Expectations(args, &receipt_options.expect); !s.ok()) {
    std::cerr << "cairnctl: " << s.message() << "\n";
    return kExitUsage;
  }
  return WithClient(options, [&](client::Client& c) {
    absl::StatusOr<v1::Receipt> r = c.GetReceipt(args.txid, receipt_options);
    if (!r.ok() && client::ReasonOf(r.status()) == client::ErrorReason::kNotYetAvailable) {
      // A node answered; no signature covers the transaction yet.
      return ReportFailure(r.status(), options, kExitFailed);
    }
    if (!r.ok()) return ReportFailure(r.status(), options);
    if (!args.output.empty()) {
      if (absl::Status s = client::WriteReceiptFile(args.output, *r); !s.ok()) {
        return ReportFailure(s, options);
      }
    }
    if (options.json) {
      std::cout << client::ReceiptToJson(*r);
    } else {
      PrintReceiptSummary(*r);
      if (!args.output.empty()) std::cout << "written to " << args.output << "\n";
    }
    return kExitOk;
  });
}

void RegisterReceiptGet(CLI::App& app, GlobalOptions& options, Action* action) {
  CLI::App* receipt = FindOrAddSubcommand(app, "receipt", "Transaction receipts");
  receipt->require_subcommand(1);
  auto args = std::make_shared<ReceiptArgs>();
  CLI::App* cmd = receipt->add_subcommand(
      "get", "Fetch a transaction's receipt and verify it against the pinned service certificate");
  cmd->add_option("txid", args->txid, "Transaction id")->required();
  cmd->add_flag("--wait", args->wait, "Wait for a signature to cover the transaction");
  cmd->add_option("--wait-timeout-ms", args->wait_timeout_ms, "How long --wait waits")
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}))
      ->capture_default_str();
  cmd->add_option("--output", args->output, "Write the receipt (JSON) to this file");
  CLI::Option* contents = cmd->add_option("--contents-file", args->contents_file,
                                          "Also check the receipt proves these contents");
  cmd->add_option("--contents-salt", args->contents_salt_hex,
                  "A private ledger's entry: the salt `get` shows with its contents (hex)")
      ->needs(contents);
  CLI::Option* claims_file =
      cmd->add_option("--claims-file", args->claims_file,
                      "Also check the receipt proves these claims (their SHA-256)");
  cmd->add_option("--claims-digest", args->claims_digest_hex,
                  "Also check the receipt proves this claims digest (hex)")
      ->excludes(claims_file);
  cmd->callback([args, &options, action] {
    *action = [args, &options] { return RunReceiptGet(*args, options); };
  });
}

int RunCheckpoint(const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    auto r = c.GetLatestCheckpoint();
    if (!r.ok()) return ReportFailure(r.status(), options);
    const v1::SignedCheckpoint& sc = r->checkpoint();
    const bool verified = !options.no_verify;
    if (options.json) {
      nlohmann::ordered_json j = CheckpointJson(sc);
      j["verified"] = verified;
      PrintJson(j);
      return kExitOk;
    }
    const v1::Checkpoint& cp = sc.checkpoint();
    std::cout << "tree size " << cp.tree_size() << "\nroot " << base::HexEncode(cp.root_hash())
              << "\nlast txid " << cp.last_txid() << "\nsigned by node " << sc.signer_node_id()
              << " at " << TimeText(cp.timestamp_unix_ms()) << "\n";
    if (!sc.signature_txid().empty()) std::cout << "signature txid " << sc.signature_txid() << "\n";
    std::cout << (verified ? "verified: signed by a service node, extends the trusted checkpoint"
                           : "not verified (--no-verify)")
              << "\n";
    return kExitOk;
  });
}

int RunConsistency(uint64_t from, uint64_t to, const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    auto r = c.GetConsistencyProof(from, to);
    if (!r.ok()) return ReportFailure(r.status(), options);
    nlohmann::ordered_json hashes = nlohmann::ordered_json::array();
    for (const std::string& h : r->hashes()) hashes.push_back(base::HexEncode(h));
    if (options.json) {
      PrintJson({{"from_tree_size", r->from_tree_size()},
                 {"to_tree_size", r->to_tree_size()},
                 {"hashes", hashes}});
      return kExitOk;
    }
    std::cout << "consistency proof from tree size " << r->from_tree_size() << " to "
              << r->to_tree_size() << ": " << r->hashes_size() << " hashes\n";
    for (const auto& h : hashes) std::cout << "  " << h.get<std::string>() << "\n";
    return kExitOk;
  });
}

int RunIdentity(const std::string& output, const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    auto r = c.GetServiceIdentity();
    if (!r.ok()) return ReportFailure(r.status(), options);
    auto pinned = ledger::Certificate::FromPem(c.service_certificate_pem());
    const bool matches = pinned.ok() && pinned->Fingerprint() == r->service_id();
    // Only a certificate that passed the check is saved (a file someone may
    // later pin), and atomically, so a reader never finds half of one.
    if (!output.empty() && matches) {
      if (absl::Status s = base::ReplaceFileAtomically(output, r->service_certificate_pem());
          !s.ok()) {
        return ReportFailure(absl::Status(s.code(), absl::StrCat("--output: ", s.message())),
                             options);
      }
    }
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const v1::NodeCertificate& n : r->nodes()) {
      auto cert = ledger::Certificate::FromPem(n.certificate_pem());
      nodes.push_back({{"node_id", n.node_id()},
                       {"certificate_fingerprint", cert.ok() ? cert->Fingerprint() : ""}});
    }
    nlohmann::ordered_json unreachable = nlohmann::ordered_json::array();
    for (uint64_t id : r->unreachable_node_ids()) unreachable.push_back(id);
    if (options.json) {
      PrintJson({{"service_id", r->service_id()},
                 {"matches_pinned", matches},
                 {"node_id", r->node_id()},
                 {"nodes", nodes},
                 {"unreachable_node_ids", unreachable},
                 {"service_certificate_pem", r->service_certificate_pem()}});
    } else {
      std::cout << "service id " << r->service_id() << "\n";
      for (const auto& n : nodes) {
        std::cout << "node " << n["node_id"].get<uint64_t>() << " certificate "
                  << n["certificate_fingerprint"].get<std::string>() << "\n";
      }
      for (uint64_t id : r->unreachable_node_ids()) {
        std::cout << "node " << id << " certificate unknown: it did not answer\n";
      }
      std::cout << "answered by node " << r->node_id() << "\n";
    }
    if (!matches) {
      std::cerr << "cairnctl: the service certificate served is not the pinned one"
                << (output.empty() ? "" : "; --output not written") << "\n";
      return kExitFailed;
    }
    return kExitOk;
  });
}

}  // namespace

void RegisterProofQueryCommands(CLI::App& app, GlobalOptions& options, Action* action) {
  RegisterReceiptGet(app, options, action);

  CLI::App* checkpoint = app.add_subcommand(
      "checkpoint", "Print the latest signed checkpoint, checked against the verified state");
  checkpoint->callback(
      [&options, action] { *action = [&options] { return RunCheckpoint(options); }; });

  auto from = std::make_shared<uint64_t>(0);
  auto to = std::make_shared<uint64_t>(0);
  CLI::App* consistency = app.add_subcommand(
      "consistency", "Fetch an RFC 9162 consistency proof between two tree sizes");
  consistency->add_option("from", *from, "Smaller tree size (>= 1)")
      ->required()
      ->check(CLI::PositiveNumber);
  consistency->add_option("to", *to, "Larger tree size (default: the latest signed)");
  consistency->callback(
      [=, &options] { *action = [=, &options] { return RunConsistency(*from, *to, options); }; });

  auto output = std::make_shared<std::string>();
  CLI::App* identity = app.add_subcommand(
      "identity", "Print the service identity and member certificates a node serves");
  identity->add_option(
      "--output", *output,
      "Write the service certificate (PEM) to this file, only if it is the pinned one");
  identity->callback(
      [=, &options] { *action = [=, &options] { return RunIdentity(*output, options); }; });
}

}  // namespace cairn::cli
