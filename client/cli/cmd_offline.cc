// cairnctl commands that verify without a server: Merkle proofs over a file
// of leaves (proof ...), receipts (receipt verify), segment directories
// (audit) and archives (dr verify; recovery share, which also opens an
// operator's recovery share). Each uses only ledger/ and storage/'s archive
// reader, the same code the node runs.
//
// Exit codes: 0 valid (or done), 1 invalid (the reason on stderr), 2 usage:
// a flag missing or malformed, a file that cannot be read. Hashes are
// lowercase hex; proofs are comma-separated hex, the empty string being the
// empty proof. A hash of the wrong length is invalid (1), not a usage error:
// RFC 9162 verifiers reject it like any other bad proof. With --json the
// result is one JSON document on stdout instead of the text (a verdict is
// {"valid":true,...} or {"valid":false,"reason":...}); reasons and usage
// errors still go to stderr, and the exit codes are the same.
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cairn/base/files.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/audit.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#include "cairn/ledger/recovery_share.h"
#include "cairn/ledger/sealed_audit.h"
#include "cairn/storage/archive_layout.h"
#include "cairn/storage/archive_store.h"
#include "cairn/v1/log.pb.h"
#include "cli_util.h"
#include "commands.h"
#include "global_options.h"

namespace cairn::cli {
namespace {

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kUsage = 2;
constexpr uint64_t kLeavesFileBytesMax = 1ull << 30;

// How a command reports: text as always, or with --json a JSON document on
// stdout. Usage errors are stderr only, as for every cairnctl command.
class Reporter {
 public:
  explicit Reporter(bool json) : json_(json) {}

  int Usage(absl::string_view message) const {
    std::cerr << "cairnctl: " << message << "\n";
    return kUsage;
  }
  int Invalid(absl::string_view message) const {
    if (json_) PrintJson({{"valid", false}, {"reason", std::string(message)}});
    std::cerr << "invalid: " << message << "\n";
    return kInvalid;
  }
  // Prints `text` (a line), or `j` with --json.
  int Done(absl::string_view text, const nlohmann::ordered_json& j) const {
    if (json_) {
      PrintJson(j);
    } else {
      std::cout << text << "\n";
    }
    return kValid;
  }
  // A verdict of valid: "valid<details>", or {"valid":true, <fields>...}.
  int Valid(absl::string_view details, nlohmann::ordered_json fields = {}) const {
    nlohmann::ordered_json j{{"valid", true}};
    if (fields.is_object()) j.update(fields);
    return Done(absl::StrCat("valid", details), j);
  }

 private:
  const bool json_;
};

// A value that is either parsed or says which exit code its error deserves.
template <typename T>
struct Parsed {
  std::optional<T> value;
  int exit_code = kValid;
  std::string error;
};

absl::StatusOr<std::string> ReadFile(const std::string& path, uint64_t size_bytes_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be opened"));
  std::string data;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > size_bytes_max) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": larger than ", size_bytes_max, " bytes"));
    }
  }
  return data;
}

// One hash given on the command line: not hex is a usage error, hex of the
// wrong length an invalid hash.
Parsed<ledger::Hash> ParseHashFlag(absl::string_view hex, absl::string_view flag) {
  absl::StatusOr<std::string> bytes = base::HexDecode(hex, flag);
  if (!bytes.ok()) return {std::nullopt, kUsage, std::string(bytes.status().message())};
  absl::StatusOr<ledger::Hash> hash = ledger::HashFromBytes(*bytes, flag);
  if (!hash.ok()) return {std::nullopt, kInvalid, std::string(hash.status().message())};
  return {*hash, kValid, ""};
}

Parsed<std::vector<ledger::Hash>> ParseProofFlag(absl::string_view text) {
  std::vector<ledger::Hash> proof;
  if (text.empty()) return {proof, kValid, ""};
  int i = 0;
  for (absl::string_view element : absl::StrSplit(text, ',')) {
    Parsed<ledger::Hash> h = ParseHashFlag(element, absl::StrCat("--proof element ", i++));
    if (!h.value) return {std::nullopt, h.exit_code, h.error};
    proof.push_back(*h.value);
  }
  return {proof, kValid, ""};
}

// When a flag did not parse: prints the first usage error if there is one,
// otherwise the first invalid value, and returns the exit code. kValid when
// every flag parsed.
template <typename... T>
int ReportFlagErrors(const Reporter& out, const Parsed<T>&... parsed) {
  for (int wanted : {kUsage, kInvalid}) {
    int code = kValid;
    std::string error;
    ((code == kValid && parsed.exit_code == wanted ? (code = wanted, error = parsed.error, 0) : 0),
     ...);
    if (code == kUsage) return out.Usage(error);
    if (code == kInvalid) return out.Invalid(error);
  }
  return kValid;
}

std::vector<std::string> ProofHex(const std::vector<ledger::Hash>& proof) {
  std::vector<std::string> hex;
  for (const ledger::Hash& h : proof) hex.push_back(ledger::HashToHex(h));
  return hex;
}

// A tree over the leaves of a file holding one leaf's data in hex per line.
struct LeafTree {
  ledger::MemoryMerkleStore store;
  ledger::MerkleTree tree{&store};
};

absl::Status LoadLeaves(const std::string& path, LeafTree& out) {
  absl::StatusOr<std::string> text = ReadFile(path, kLeavesFileBytesMax);
  if (!text.ok()) return text.status();
  absl::string_view rest = *text;
  uint64_t line_number = 0;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    absl::string_view line = rest.substr(0, end);
    rest = end == absl::string_view::npos ? absl::string_view() : rest.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    absl::StatusOr<std::string> data =
        base::HexDecode(line, absl::StrCat(path, " line ", line_number));
    if (!data.ok()) return data.status();
    out.tree.Append(ledger::LeafHash(*data), out.store);
  }
  return absl::OkStatus();
}

// ---- proof -------------------------------------------------------------------

struct ProofArgs {
  std::string leaves_file;
  uint64_t index = 0, size = 0, size1 = 0, size2 = 0;
  std::string leaf_hash, root, root1, root2, proof;
};

int ProofRoot(const ProofArgs& a, const Reporter& out) {
  LeafTree leaves;
  if (absl::Status s = LoadLeaves(a.leaves_file, leaves); !s.ok()) return out.Usage(s.message());
  const std::string root = ledger::HashToHex(leaves.tree.Root());
  return out.Done(root, {{"tree_size", leaves.tree.size()}, {"root", root}});
}

int ProofInclusion(const ProofArgs& a, const Reporter& out) {
  LeafTree leaves;
  if (absl::Status s = LoadLeaves(a.leaves_file, leaves); !s.ok()) return out.Usage(s.message());
  absl::StatusOr<std::vector<ledger::Hash>> proof = leaves.tree.InclusionProof(a.index, a.size);
  if (!proof.ok()) return out.Usage(proof.status().message());
  const std::vector<std::string> hex = ProofHex(*proof);
  return out.Done(absl::StrJoin(hex, ","),
                  {{"index", a.index}, {"tree_size", a.size}, {"proof", hex}});
}

int ProofConsistency(const ProofArgs& a, const Reporter& out) {
  LeafTree leaves;
  if (absl::Status s = LoadLeaves(a.leaves_file, leaves); !s.ok()) return out.Usage(s.message());
  absl::StatusOr<std::vector<ledger::Hash>> proof = leaves.tree.ConsistencyProof(a.size1, a.size2);
  if (!proof.ok()) return out.Usage(proof.status().message());
  const std::vector<std::string> hex = ProofHex(*proof);
  return out.Done(absl::StrJoin(hex, ","),
                  {{"size1", a.size1}, {"size2", a.size2}, {"proof", hex}});
}

int VerifyInclusionCmd(const ProofArgs& a, const Reporter& out) {
  Parsed<ledger::Hash> leaf = ParseHashFlag(a.leaf_hash, "--leaf-hash");
  Parsed<ledger::Hash> root = ParseHashFlag(a.root, "--root");
  Parsed<std::vector<ledger::Hash>> proof = ParseProofFlag(a.proof);
  if (int code = ReportFlagErrors(out, leaf, root, proof); code != kValid) return code;
  absl::Status s = ledger::VerifyInclusion(a.index, a.size, *leaf.value, *proof.value, *root.value);
  if (!s.ok()) return out.Invalid(s.message());
  return out.Valid("");
}

int VerifyConsistencyCmd(const ProofArgs& a, const Reporter& out) {
  Parsed<ledger::Hash> root1 = ParseHashFlag(a.root1, "--root1");
  Parsed<ledger::Hash> root2 = ParseHashFlag(a.root2, "--root2");
  Parsed<std::vector<ledger::Hash>> proof = ParseProofFlag(a.proof);
  if (int code = ReportFlagErrors(out, root1, root2, proof); code != kValid) return code;
  absl::Status s =
      ledger::VerifyConsistency(a.size1, a.size2, *root1.value, *root2.value, *proof.value);
  if (!s.ok()) return out.Invalid(s.message());
  return out.Valid("");
}

// ---- receipt verify ------------------------------------------------------------

struct ReceiptArgs {
  std::string receipt_file;
  std::string service_cert;
  std::string contents_file;
  std::string contents_salt;
  std::string claims_file;
  std::string claims_digest;
};

// The service certificate of receipt verify and audit: the command's own
// --service-cert, else the global setting (flag before the command,
// CAIRN_SERVICE_CERT, or service_cert in the --config file).
absl::StatusOr<ledger::Certificate> ServiceCert(const std::string& flag,
                                                const GlobalOptions& options) {
  const std::string& path = flag.empty() ? options.credentials.service_cert_file : flag;
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "--service-cert is required (or set CAIRN_SERVICE_CERT, or service_cert in --config)");
  }
  absl::StatusOr<ledger::Certificate> cert = ledger::ReadCertificateFile(path);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--service-cert: ", cert.status().message()));
  }
  return cert;
}

int VerifyReceiptCmd(const ReceiptArgs& a, const GlobalOptions& options) {
  const Reporter out(options.json);
  absl::StatusOr<std::string> bytes = ReadFile(a.receipt_file, ledger::kReceiptBytesMax);
  if (!bytes.ok()) return out.Usage(bytes.status().message());
  absl::StatusOr<ledger::Certificate> service = ServiceCert(a.service_cert, options);
  if (!service.ok()) return out.Usage(service.status().message());
  ledger::ReceiptExpectations expect;
  if (!a.contents_file.empty()) {
    absl::StatusOr<std::string> contents = ReadFile(a.contents_file, kLeavesFileBytesMax);
    if (!contents.ok()) return out.Usage(contents.status().message());
    expect.contents = *std::move(contents);
  }
  if (!a.contents_salt.empty()) {
    Parsed<ledger::Hash> salt = ParseHashFlag(a.contents_salt, "--contents-salt");
    if (int code = ReportFlagErrors(out, salt); code != kValid) return code;
    expect.contents_salt = ledger::HashToString(*salt.value);
  }
  if (!a.claims_file.empty()) {
    absl::StatusOr<std::string> claims = ReadFile(a.claims_file, kLeavesFileBytesMax);
    if (!claims.ok()) return out.Usage(claims.status().message());
    expect.claims_digest = ledger::HashToString(ledger::Sha256(*claims));
  }
  if (!a.claims_digest.empty()) {
    Parsed<ledger::Hash> claims = ParseHashFlag(a.claims_digest, "--claims-digest");
    if (int code = ReportFlagErrors(out, claims); code != kValid) return code;
    expect.claims_digest = ledger::HashToString(*claims.value);
  }
  absl::StatusOr<v1::Receipt> receipt = ledger::ParseReceipt(*bytes);
  if (!receipt.ok()) return out.Invalid(receipt.status().message());
  if (absl::Status s = ledger::VerifyReceipt(*receipt, *service, expect); !s.ok()) {
    return out.Invalid(s.message());
  }
  const v1::Checkpoint& cp = receipt->checkpoint().checkpoint();
  return out.Valid(
      absl::StrCat(": txid ", receipt->leaf().txid(), " (", receipt->leaf().collection_id(),
                   ") is leaf ", receipt->leaf_index(), " of tree size ", cp.tree_size(),
                   ", signed by node ", receipt->checkpoint().signer_node_id(), " for service ",
                   cp.service_id()),
      {{"txid", receipt->leaf().txid()},
       {"collection_id", receipt->leaf().collection_id()},
       {"leaf_index", receipt->leaf_index()},
       {"tree_size", cp.tree_size()},
       {"signer_node_id", receipt->checkpoint().signer_node_id()},
       {"service_id", cp.service_id()}});
}

// ---- audit ---------------------------------------------------------------------

// A private ledger's secret for the audit (--node-id, --node-key-file):
// the sealed entries are opened as that node's copies allow.
struct SecretArgs {
  uint64_t node_id = 0;
  std::string node_key_file;
};

void AddSecretFlags(CLI::App* cmd, SecretArgs* a) {
  cmd->add_option("--node-key-file", a->node_key_file,
                  "A private ledger: a node's TLS key (PEM); every sealed entry is then opened "
                  "with the ledger secret as that node holds it and its commitment checked")
      ->check(CLI::ExistingFile);
  cmd->add_option("--node-id", a->node_id, "The node whose key --node-key-file is")
      ->check(CLI::PositiveNumber);
}

// The checker the flags ask for (none without them); a usage error as a
// status otherwise.
struct SecretCheck {
  std::optional<ledger::PrivateKey> key;
  std::optional<ledger::SealedContentsChecker> checker;
};
absl::Status MakeSecretCheck(const SecretArgs& a, const ledger::Certificate& service,
                             SecretCheck* check) {
  if (a.node_key_file.empty() && a.node_id == 0) return absl::OkStatus();
  if (a.node_key_file.empty() || a.node_id == 0) {
    return absl::InvalidArgumentError("--node-key-file and --node-id go together");
  }
  absl::StatusOr<ledger::PrivateKey> key = ledger::ReadPrivateKeyFile(a.node_key_file);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--node-key-file: ", key.status().message()));
  }
  check->key = *std::move(key);
  check->checker.emplace(a.node_id, &*check->key, service.Fingerprint());
  return absl::OkStatus();
}

// "; N sealed entries opened, every commitment matches" (or why there were none).
std::string SecretCheckDetails(const SecretCheck& check) {
  if (!check.checker.has_value()) return "";
  if (!check.checker->private_ledger()) return "; a public ledger: nothing is sealed";
  return absl::StrCat("; ", check.checker->opened(),
                      " sealed entries opened, every commitment matches");
}

int AuditCmd(const std::string& segments, const std::string& service_cert, const SecretArgs& secret,
             const GlobalOptions& options) {
  const Reporter out(options.json);
  absl::StatusOr<ledger::Certificate> service = ServiceCert(service_cert, options);
  if (!service.ok()) return out.Usage(service.status().message());
  SecretCheck check;
  if (absl::Status s = MakeSecretCheck(secret, *service, &check); !s.ok()) {
    return out.Usage(s.message());
  }
  std::function<absl::Status(absl::string_view, const ledger::Segment&)> visit;
  if (check.checker.has_value()) {
    visit = [&](absl::string_view name, const ledger::Segment& segment) {
      return check.checker->Check(name, segment);
    };
  }
  absl::StatusOr<ledger::AuditReport> report = ledger::Audit(segments, *service, visit);
  if (!report.ok()) {
    if (report.status().code() == absl::StatusCode::kNotFound) {
      return out.Usage(report.status().message());
    }
    return out.Invalid(report.status().message());
  }
  const std::string last_txid = report->last_txid.ToString();
  const std::string root = ledger::HashToHex(report->root);
  nlohmann::ordered_json fields{{"segments", report->segments},
                                {"entries", report->entries},
                                {"signatures", report->signatures},
                                {"last_txid", last_txid},
                                {"signed_tree_size", report->signed_tree_size},
                                {"root", root}};
  if (check.checker.has_value()) fields["sealed_entries_opened"] = check.checker->opened();
  return out.Valid(
      absl::StrCat(": ", report->segments, " segments, ", report->entries, " entries, ",
                   report->signatures, " signatures; last txid ", last_txid, "; signed tree size ",
                   report->signed_tree_size, "; root ", root, SecretCheckDetails(check)),
      fields);
}

// No envname here: the environment and the config file reach the global
// --service-cert, which must not outrank a flag given before the command.
constexpr char kServiceCertHelp[] =
    "Service identity certificate (PEM); default: the global --service-cert, "
    "CAIRN_SERVICE_CERT or service_cert in --config";

void AddLeavesFile(CLI::App* cmd, ProofArgs* args) {
  cmd->add_option("--leaves-file", args->leaves_file,
                  "File with one leaf's data in hex per line (an empty line is empty data)")
      ->required();
}

}  // namespace

void RegisterProofCommands(CLI::App& app, const GlobalOptions& options, Action* action) {
  CLI::App* proof = app.add_subcommand("proof", "RFC 9162 Merkle roots and proofs, offline");
  proof->require_subcommand(1);
  auto args = std::make_shared<ProofArgs>();
  auto bind = [action, args, &options](CLI::App* cmd,
                                       int (*run)(const ProofArgs&, const Reporter&)) {
    cmd->callback([action, args, run, &options] {
      *action = [args, run, &options] { return run(*args, Reporter(options.json)); };
    });
  };

  CLI::App* cmd = proof->add_subcommand("root", "Print the root of the tree of the leaves");
  AddLeavesFile(cmd, args.get());
  bind(cmd, ProofRoot);

  cmd = proof->add_subcommand("inclusion", "Print the inclusion proof of leaf --index");
  AddLeavesFile(cmd, args.get());
  cmd->add_option("--index", args->index, "Zero-based leaf index")->required();
  cmd->add_option("--size", args->size, "Tree size (number of leaves)")->required();
  bind(cmd, ProofInclusion);

  cmd = proof->add_subcommand("consistency", "Print the consistency proof from --size1 to --size2");
  AddLeavesFile(cmd, args.get());
  cmd->add_option("--size1", args->size1, "Earlier tree size (>= 1)")->required();
  cmd->add_option("--size2", args->size2, "Later tree size")->required();
  bind(cmd, ProofConsistency);

  cmd = proof->add_subcommand("verify-inclusion", "Verify an inclusion proof");
  cmd->add_option("--index", args->index, "Zero-based leaf index")->required();
  cmd->add_option("--size", args->size, "Tree size")->required();
  cmd->add_option("--leaf-hash", args->leaf_hash, "Leaf hash H(0x00 || data), hex")->required();
  cmd->add_option("--root", args->root, "Root of the tree of --size leaves, hex")->required();
  cmd->add_option("--proof", args->proof, "Comma-separated hex hashes ('' = empty)")->required();
  bind(cmd, VerifyInclusionCmd);

  cmd = proof->add_subcommand("verify-consistency", "Verify a consistency proof");
  cmd->add_option("--size1", args->size1, "Earlier tree size")->required();
  cmd->add_option("--size2", args->size2, "Later tree size")->required();
  cmd->add_option("--root1", args->root1, "Root at --size1, hex")->required();
  cmd->add_option("--root2", args->root2, "Root at --size2, hex")->required();
  cmd->add_option("--proof", args->proof, "Comma-separated hex hashes ('' = empty)")->required();
  bind(cmd, VerifyConsistencyCmd);
}

void RegisterReceiptCommands(CLI::App& app, const GlobalOptions& options, Action* action) {
  CLI::App* receipt = app.add_subcommand(
      "receipt",
      "Transaction receipts: fetch one from a node (get), verify a file offline (verify)");
  receipt->require_subcommand(1);
  auto args = std::make_shared<ReceiptArgs>();
  CLI::App* cmd = receipt->add_subcommand(
      "verify", "Verify a receipt (JSON or binary protobuf) against the service certificate");
  cmd->add_option("--receipt", args->receipt_file, "Receipt file")->required();
  cmd->add_option("--service-cert", args->service_cert, kServiceCertHelp);
  // --contents is the name this flag had first; receipt get calls it
  // --contents-file, and so does this command now.
  CLI::Option* contents = cmd->add_option("--contents-file,--contents", args->contents_file,
                                          "Also check the receipt proves these contents");
  cmd->add_option("--contents-salt", args->contents_salt,
                  "A private ledger's entry: the salt `get` shows with its contents (64 hex "
                  "digits)")
      ->needs(contents);
  CLI::Option* claims_file =
      cmd->add_option("--claims-file", args->claims_file,
                      "Also check the receipt proves these claims (their SHA-256)");
  cmd->add_option("--claims-digest", args->claims_digest,
                  "Also check the receipt proves this claims digest (hex)")
      ->excludes(claims_file);
  cmd->callback([action, args, &options] {
    *action = [args, &options] { return VerifyReceiptCmd(*args, options); };
  });
}

namespace {

// The s3:// store's flags (dr verify, recovery share).
void AddS3Flags(CLI::App* cmd, storage::S3StoreOptions* s3) {
  cmd->add_option("--s3-endpoint", s3->endpoint,
                  "s3://: endpoint URL (default AWS: https://s3.REGION.amazonaws.com)");
  cmd->add_option("--s3-region", s3->region, "s3://: region (default AWS_REGION, us-east-1)");
  cmd->add_flag("--s3-path-style", s3->path_style,
                "s3://: bucket in the path, not the host name (most self-hosted stores)");
  cmd->add_option("--s3-ca-file", s3->ca_file, "s3://: CA certificates (PEM) of the endpoint")
      ->check(CLI::ExistingFile);
  cmd->add_option("--credentials-file", s3->credentials_file,
                  "s3://: AWS credentials file (default AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                  "else ~/.aws/credentials); read-only credentials are enough")
      ->check(CLI::ExistingFile);
  cmd->add_option("--profile", s3->profile, "s3://: profile in the credentials file");
}

struct DrVerifyArgs {
  std::string archive_url;
  std::string service_cert;
  storage::S3StoreOptions s3;
  SecretArgs secret;
  bool quiet = false;
};

int DrVerifyCmd(const DrVerifyArgs& a, const GlobalOptions& options) {
  const Reporter out(options.json);
  absl::StatusOr<ledger::Certificate> service = ServiceCert(a.service_cert, options);
  if (!service.ok()) return out.Usage(service.status().message());
  SecretCheck check;
  if (absl::Status s = MakeSecretCheck(a.secret, *service, &check); !s.ok()) {
    return out.Usage(s.message());
  }
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store =
      storage::OpenArchiveStore(a.archive_url, a.s3);
  if (!store.ok()) return out.Usage(store.status().message());
  auto progress = [&](uint64_t seq, uint64_t of, const ledger::Segment& segment) {
    if (!a.quiet && !options.json && (seq % 100 == 0 || seq == of)) {
      std::cerr << "dr verify: " << seq << " of " << of << " segments\n";
    }
    if (check.checker.has_value()) {
      return check.checker->Check(storage::ArchiveSegmentName(seq), segment);
    }
    return absl::OkStatus();
  };
  absl::StatusOr<storage::ArchiveVerifyReport> report =
      storage::VerifyArchive(**store, *service, progress);
  if (!report.ok()) {
    // Nothing to judge (no archive there, or the store cannot be reached or
    // read with these credentials) is a usage error; a damaged or foreign
    // archive is invalid.
    const absl::StatusCode code = report.status().code();
    if (code == absl::StatusCode::kNotFound || code == absl::StatusCode::kUnavailable ||
        code == absl::StatusCode::kPermissionDenied ||
        (code == absl::StatusCode::kFailedPrecondition &&
         report.status().message().find("does not exist") != std::string::npos)) {
      return out.Usage(report.status().message());
    }
    return out.Invalid(report.status().message());
  }
  const storage::ArchiveLatest& l = report->latest;
  std::string beyond;
  if (report->segments_beyond_latest > 0) {
    beyond = absl::StrCat("; ", report->segments_beyond_latest,
                          " segments past latest.json (an interrupted upload, not recoverable)");
  }
  std::string snapshot;
  if (report->snapshot_index != 0) {
    snapshot = absl::StrCat("; state snapshot at index ", report->snapshot_index, " (",
                            report->snapshot_bytes, " bytes, attested and its digest checked)");
  }
  nlohmann::ordered_json fields{{"archive_url", a.archive_url},
                                {"segments", l.segments},
                                {"entries", report->audit.entries},
                                {"signatures", report->audit.signatures},
                                {"region", l.region},
                                {"last_txid", l.last_txid},
                                {"tree_size", l.tree_size},
                                {"root", l.root_hex},
                                {"written_unix_ms", l.written_unix_ms},
                                {"snapshot_index", report->snapshot_index},
                                {"snapshot_bytes", report->snapshot_bytes},
                                {"segments_beyond_latest", report->segments_beyond_latest}};
  if (check.checker.has_value()) fields["sealed_entries_opened"] = check.checker->opened();
  return out.Valid(absl::StrCat(": ", l.segments, " segments, ", report->audit.entries,
                                " entries, ", report->audit.signatures, " signatures, region ",
                                l.region, "; latest recoverable checkpoint: tree size ",
                                l.tree_size, ", root ", l.root_hex, ", last txid ", l.last_txid,
                                snapshot, beyond, SecretCheckDetails(check)),
                   fields);
}

}  // namespace

void RegisterDrVerifyCommand(CLI::App& app, const GlobalOptions& options, Action* action) {
  CLI::App* dr = FindOrAddSubcommand(app, "dr", "Disaster recovery: the paired region's archive");
  dr->require_subcommand(1);
  auto a = std::make_shared<DrVerifyArgs>();
  CLI::App* cmd = dr->add_subcommand(
      "verify",
      "Audit an archive offline: every object's digest, contiguous segments, every signature, "
      "the root recomputed from the leaves, the state snapshot's attestation and digest; "
      "prints the latest recoverable checkpoint");
  cmd->add_option("--archive-url", a->archive_url, "file:///PATH or s3://BUCKET[/PREFIX]")
      ->required();
  cmd->add_option("--service-cert", a->service_cert, kServiceCertHelp);
  AddS3Flags(cmd, &a->s3);
  AddSecretFlags(cmd, &a->secret);
  cmd->add_flag("--quiet", a->quiet, "No progress lines on stderr");
  cmd->callback(
      [action, a, &options] { *action = [a, &options] { return DrVerifyCmd(*a, options); }; });
}

namespace {

struct RecoveryShareArgs {
  std::string archive_url;
  std::string service_cert;
  storage::S3StoreOptions s3;
  std::string operator_cert_file;
  std::string operator_key_file;
  std::string out;
};

// The genesis (CreateService) of the archive's ledger, from its first
// segments, each checked as dr verify checks it before it is read.
absl::StatusOr<v1::CreateService> ArchivedGenesis(storage::ArchiveStore& store,
                                                  const ledger::Certificate& service) {
  std::optional<v1::CreateService> genesis;
  const auto find = [&](uint64_t, uint64_t, const ledger::Segment& segment) {
    for (const ledger::SegmentRecord& r : segment.records) {
      v1::LogCommand command;
      if (!r.data.empty() && command.ParseFromString(r.data) &&
          command.governance().has_create_service()) {
        genesis = command.governance().create_service();
        return absl::CancelledError("found the genesis");
      }
    }
    return absl::OkStatus();
  };
  absl::StatusOr<storage::ArchiveVerifyReport> report =
      storage::VerifyArchive(store, service, find, /*check_snapshot=*/false);
  if (genesis.has_value()) return *std::move(genesis);
  if (!report.ok()) return report.status();
  return absl::FailedPreconditionError("the archive holds no genesis transaction");
}

// One recovery operator's share of a private ledger's recovery key, read
// from the archive, opened with the operator's key and written to a new
// file (mode 0600) for `cairn-node recover --recovery-share`.
int RecoveryShareCmd(const RecoveryShareArgs& a, const GlobalOptions& options) {
  const Reporter out(options.json);
  absl::StatusOr<ledger::Certificate> service = ServiceCert(a.service_cert, options);
  if (!service.ok()) return out.Usage(service.status().message());
  absl::StatusOr<ledger::Certificate> cert = ledger::ReadCertificateFile(a.operator_cert_file);
  if (!cert.ok()) return out.Usage(absl::StrCat("--operator-cert-file: ", cert.status().message()));
  absl::StatusOr<ledger::PrivateKey> key = ledger::ReadPrivateKeyFile(a.operator_key_file);
  if (!key.ok()) return out.Usage(absl::StrCat("--operator-key-file: ", key.status().message()));
  if (!cert->MatchesKey(*key)) {
    return out.Usage("--operator-key-file is not the key of --operator-cert-file");
  }
  if (std::filesystem::exists(a.out)) {
    return out.Usage(absl::StrCat("--out ", a.out, " exists; a share file is never overwritten"));
  }
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> store =
      storage::OpenArchiveStore(a.archive_url, a.s3);
  if (!store.ok()) return out.Usage(store.status().message());
  absl::StatusOr<v1::CreateService> genesis = ArchivedGenesis(**store, *service);
  if (!genesis.ok()) return out.Invalid(genesis.status().message());
  if (genesis->ledger_type() != v1::LEDGER_TYPE_PRIVATE || !genesis->has_recovery_key()) {
    return out.Usage(genesis->ledger_type() != v1::LEDGER_TYPE_PRIVATE
                         ? "this archive is a public ledger: it has no recovery shares"
                         : "this private ledger was created without recovery operators: it has "
                           "no recovery shares");
  }
  absl::StatusOr<ledger::RecoveryShareFile> share =
      ledger::OpenRecoveryShare(genesis->recovery_key(), service->Fingerprint(), *cert, *key);
  if (!share.ok()) return out.Usage(share.status().message());
  std::string bytes = ledger::EncodeRecoveryShareFile(*share);
  const absl::Status written = base::CreateNewFiles({{a.out, bytes, 0600}});
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!written.ok()) return out.Usage(written.message());
  return out.Done(absl::StrCat("wrote recovery share ", share->index, " of ",
                               genesis->recovery_key().shares_size(), " (",
                               genesis->recovery_key().threshold(), " needed) to ", a.out,
                               ": give it to whoever runs cairn-node recover, and to no one else"),
                  {{"share_index", share->index},
                   {"shares", genesis->recovery_key().shares_size()},
                   {"threshold", genesis->recovery_key().threshold()},
                   {"out", a.out}});
}

}  // namespace

void RegisterRecoveryShareCommand(CLI::App& app, const GlobalOptions& options, Action* action) {
  CLI::App* recovery = FindOrAddSubcommand(
      app, "recovery", "A private ledger's recovery shares (docs/operations.md)");
  recovery->require_subcommand(1);
  auto a = std::make_shared<RecoveryShareArgs>();
  CLI::App* cmd = recovery->add_subcommand(
      "share",
      "Open this operator's share of a private ledger's recovery key, read from the archive, and "
      "write it to a new file for cairn-node recover --recovery-share");
  cmd->add_option("--archive-url", a->archive_url, "file:///PATH or s3://BUCKET[/PREFIX]")
      ->required();
  cmd->add_option("--service-cert", a->service_cert, kServiceCertHelp);
  cmd->add_option("--operator-cert-file", a->operator_cert_file,
                  "The operator's certificate (PEM), as named when the service was created")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--operator-key-file", a->operator_key_file, "The operator's key (PEM)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "The share file to create (mode 0600; never overwritten)")
      ->required();
  AddS3Flags(cmd, &a->s3);
  cmd->callback(
      [action, a, &options] { *action = [a, &options] { return RecoveryShareCmd(*a, options); }; });
}

void RegisterAuditCommand(CLI::App& app, const GlobalOptions& options, Action* action) {
  auto segments = std::make_shared<std::string>();
  auto service_cert = std::make_shared<std::string>();
  auto secret = std::make_shared<SecretArgs>();
  CLI::App* cmd = app.add_subcommand(
      "audit", "Audit a directory of ledger segments: rebuild the tree, check every signature");
  cmd->add_option("--segments", *segments, "Directory of *.cseg segment files")->required();
  cmd->add_option("--service-cert", *service_cert, kServiceCertHelp);
  AddSecretFlags(cmd, secret.get());
  cmd->callback([action, segments, service_cert, secret, &options] {
    *action = [segments, service_cert, secret, &options] {
      return AuditCmd(*segments, *service_cert, *secret, options);
    };
  });
}

}  // namespace cairn::cli
