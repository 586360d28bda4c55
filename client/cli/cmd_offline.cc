// cairnctl commands that verify without a server: Merkle proofs over a file
// of leaves (proof ...), receipts (receipt verify) and segment directories
// (audit). Each uses only ledger/, the same code the node runs.
//
// Exit codes: 0 valid (or done), 1 invalid (the reason on stderr), 2 usage:
// a flag missing or malformed, a file that cannot be read. Hashes are
// lowercase hex; proofs are comma-separated hex, the empty string being the
// empty proof. A hash of the wrong length is invalid (1), not a usage error:
// RFC 9162 verifiers reject it like any other bad proof.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/audit.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/memory_merkle_store.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/merkle_tree.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#include "commands.h"

namespace cairn::cli {
namespace {

constexpr int kValid = 0;
constexpr int kInvalid = 1;
constexpr int kUsage = 2;
constexpr uint64_t kLeavesFileBytesMax = 1ull << 30;

int Usage(absl::string_view message) {
  std::cerr << "cairnctl: " << message << "\n";
  return kUsage;
}

int Invalid(absl::string_view message) {
  std::cerr << "invalid: " << message << "\n";
  return kInvalid;
}

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
int ReportFlagErrors(const Parsed<T>&... parsed) {
  for (int wanted : {kUsage, kInvalid}) {
    int code = kValid;
    std::string error;
    ((code == kValid && parsed.exit_code == wanted ? (code = wanted, error = parsed.error, 0) : 0),
     ...);
    if (code == kUsage) return Usage(error);
    if (code == kInvalid) return Invalid(error);
  }
  return kValid;
}

std::string FormatProof(const std::vector<ledger::Hash>& proof) {
  std::vector<std::string> hex;
  for (const ledger::Hash& h : proof) hex.push_back(ledger::HashToHex(h));
  return absl::StrJoin(hex, ",");
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

int ProofRoot(const ProofArgs& a) {
  LeafTree leaves;
  if (absl::Status s = LoadLeaves(a.leaves_file, leaves); !s.ok()) return Usage(s.message());
  std::cout << ledger::HashToHex(leaves.tree.Root()) << "\n";
  return kValid;
}

int ProofInclusion(const ProofArgs& a) {
  LeafTree leaves;
  if (absl::Status s = LoadLeaves(a.leaves_file, leaves); !s.ok()) return Usage(s.message());
  absl::StatusOr<std::vector<ledger::Hash>> proof = leaves.tree.InclusionProof(a.index, a.size);
  if (!proof.ok()) return Usage(proof.status().message());
  std::cout << FormatProof(*proof) << "\n";
  return kValid;
}

int ProofConsistency(const ProofArgs& a) {
  LeafTree leaves;
  if (absl::Status s = LoadLeaves(a.leaves_file, leaves); !s.ok()) return Usage(s.message());
  absl::StatusOr<std::vector<ledger::Hash>> proof = leaves.tree.ConsistencyProof(a.size1, a.size2);
  if (!proof.ok()) return Usage(proof.status().message());
  std::cout << FormatProof(*proof) << "\n";
  return kValid;
}

int VerifyInclusionCmd(const ProofArgs& a) {
  Parsed<ledger::Hash> leaf = ParseHashFlag(a.leaf_hash, "--leaf-hash");
  Parsed<ledger::Hash> root = ParseHashFlag(a.root, "--root");
  Parsed<std::vector<ledger::Hash>> proof = ParseProofFlag(a.proof);
  if (int code = ReportFlagErrors(leaf, root, proof); code != kValid) return code;
  absl::Status s = ledger::VerifyInclusion(a.index, a.size, *leaf.value, *proof.value, *root.value);
  if (!s.ok()) return Invalid(s.message());
  std::cout << "valid\n";
  return kValid;
}

int VerifyConsistencyCmd(const ProofArgs& a) {
  Parsed<ledger::Hash> root1 = ParseHashFlag(a.root1, "--root1");
  Parsed<ledger::Hash> root2 = ParseHashFlag(a.root2, "--root2");
  Parsed<std::vector<ledger::Hash>> proof = ParseProofFlag(a.proof);
  if (int code = ReportFlagErrors(root1, root2, proof); code != kValid) return code;
  absl::Status s =
      ledger::VerifyConsistency(a.size1, a.size2, *root1.value, *root2.value, *proof.value);
  if (!s.ok()) return Invalid(s.message());
  std::cout << "valid\n";
  return kValid;
}

// ---- receipt verify ------------------------------------------------------------

struct ReceiptArgs {
  std::string receipt_file;
  std::string service_cert;
  std::string contents_file;
  std::string claims_digest;
};

int VerifyReceiptCmd(const ReceiptArgs& a) {
  absl::StatusOr<std::string> bytes = ReadFile(a.receipt_file, ledger::kReceiptBytesMax);
  if (!bytes.ok()) return Usage(bytes.status().message());
  absl::StatusOr<ledger::Certificate> service = ledger::ReadCertificateFile(a.service_cert);
  if (!service.ok()) return Usage(absl::StrCat("--service-cert: ", service.status().message()));
  ledger::ReceiptExpectations expect;
  if (!a.contents_file.empty()) {
    absl::StatusOr<std::string> contents = ReadFile(a.contents_file, kLeavesFileBytesMax);
    if (!contents.ok()) return Usage(contents.status().message());
    expect.contents = *std::move(contents);
  }
  if (!a.claims_digest.empty()) {
    Parsed<ledger::Hash> claims = ParseHashFlag(a.claims_digest, "--claims-digest");
    if (int code = ReportFlagErrors(claims); code != kValid) return code;
    expect.claims_digest = ledger::HashToString(*claims.value);
  }
  absl::StatusOr<v1::Receipt> receipt = ledger::ParseReceipt(*bytes);
  if (!receipt.ok()) return Invalid(receipt.status().message());
  if (absl::Status s = ledger::VerifyReceipt(*receipt, *service, expect); !s.ok()) {
    return Invalid(s.message());
  }
  const v1::Checkpoint& cp = receipt->checkpoint().checkpoint();
  std::cout << "valid: txid " << receipt->leaf().txid() << " (" << receipt->leaf().collection_id()
            << ") is leaf " << receipt->leaf_index() << " of tree size " << cp.tree_size()
            << ", signed by node " << receipt->checkpoint().signer_node_id() << " for service "
            << cp.service_id() << "\n";
  return kValid;
}

// ---- audit ---------------------------------------------------------------------

int AuditCmd(const std::string& segments, const std::string& service_cert) {
  absl::StatusOr<ledger::Certificate> service = ledger::ReadCertificateFile(service_cert);
  if (!service.ok()) return Usage(absl::StrCat("--service-cert: ", service.status().message()));
  absl::StatusOr<ledger::AuditReport> report = ledger::Audit(segments, *service);
  if (!report.ok()) {
    if (report.status().code() == absl::StatusCode::kNotFound) {
      return Usage(report.status().message());
    }
    return Invalid(report.status().message());
  }
  std::cout << "valid: " << report->segments << " segments, " << report->entries << " entries, "
            << report->signatures << " signatures; last txid " << report->last_txid.ToString()
            << "; signed tree size " << report->signed_tree_size << "; root "
            << ledger::HashToHex(report->root) << "\n";
  return kValid;
}

void AddLeavesFile(CLI::App* cmd, ProofArgs* args) {
  cmd->add_option("--leaves-file", args->leaves_file,
                  "File with one leaf's data in hex per line (an empty line is empty data)")
      ->required();
}

}  // namespace

void RegisterProofCommands(CLI::App& app, Action* action) {
  CLI::App* proof = app.add_subcommand("proof", "RFC 9162 Merkle roots and proofs, offline");
  proof->require_subcommand(1);
  auto args = std::make_shared<ProofArgs>();
  auto bind = [action, args](CLI::App* cmd, int (*run)(const ProofArgs&)) {
    cmd->callback([action, args, run] { *action = [args, run] { return run(*args); }; });
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

void RegisterReceiptCommands(CLI::App& app, Action* action) {
  CLI::App* receipt = app.add_subcommand("receipt", "Receipts, offline");
  receipt->require_subcommand(1);
  auto args = std::make_shared<ReceiptArgs>();
  CLI::App* cmd = receipt->add_subcommand(
      "verify", "Verify a receipt (JSON or binary protobuf) against the service certificate");
  cmd->add_option("--receipt", args->receipt_file, "Receipt file")->required();
  cmd->add_option("--service-cert", args->service_cert, "Service identity certificate (PEM)")
      ->required();
  cmd->add_option("--contents", args->contents_file,
                  "File with the transaction's contents, to check against the receipt");
  cmd->add_option("--claims-digest", args->claims_digest,
                  "Expected application claims digest, hex");
  cmd->callback([action, args] { *action = [args] { return VerifyReceiptCmd(*args); }; });
}

void RegisterAuditCommand(CLI::App& app, Action* action) {
  auto segments = std::make_shared<std::string>();
  auto service_cert = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "audit", "Audit a directory of ledger segments: rebuild the tree, check every signature");
  cmd->add_option("--segments", *segments, "Directory of *.cseg segment files")->required();
  cmd->add_option("--service-cert", *service_cert, "Service identity certificate (PEM)")
      ->required();
  cmd->callback([action, segments, service_cert] {
    *action = [segments, service_cert] { return AuditCmd(*segments, *service_cert); };
  });
}

}  // namespace cairn::cli
