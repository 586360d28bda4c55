// Example: record release approvals, and hand an auditor the receipts.
//
//   release_approvals record <release> <artifact> <approver> <approve|reject>
//     Appends one approval to the collection "releases/<release>": a small
//     JSON record naming the approver and decision, with the artifact's
//     SHA-256 as the claims digest, so the approval is bound to those exact
//     bytes.
//
//   release_approvals export <release> <artifact> <out-dir>
//     Reads every approval of the release (ListEntries), fetches and checks
//     each one's receipt, and writes them to <out-dir>/approval-<txid>.json,
//     with the service certificate as <out-dir>/service.pem. That directory
//     is what the auditor gets.
//
//   release_approvals audit <artifact> <out-dir>
//     What the auditor runs, offline: every receipt in <out-dir> must verify
//     against service.pem and prove the artifact. (`cairnctl receipt verify`
//     checks the same files.) Exit 0 when all do.
#include <filesystem>
#include <iostream>
#include <string>

#include "cairn/client/client.h"
#include "cairn/client/verify.h"
#include "example_util.h"

namespace {

int Record(const std::string& release, const std::string& artifact_path,
           const std::string& approver, const std::string& decision) {
  const std::string digest = cairn::client::ClaimsDigest(example::ReadFileOrExit(artifact_path));
  auto client = example::ConnectOrExit();
  const std::string approval = R"({"release":")" + release + R"(","approver":")" + approver +
                               R"(","decision":")" + decision + R"(","artifact_sha256":")" +
                               example::Hex(digest) + R"("})";
  cairn::client::AppendOptions options;
  options.claims_digest = digest;
  auto appended = client->Append("releases/" + release, approval, options);
  if (!appended.ok()) {
    std::cerr << "append failed: " << appended.status() << "\n";
    return 1;
  }
  std::cout << approver << ": " << decision << " " << release << ", transaction " << appended->txid
            << "\n";
  return 0;
}

int Export(const std::string& release, const std::string& artifact_path,
           const std::string& out_dir) {
  const std::string digest = cairn::client::ClaimsDigest(example::ReadFileOrExit(artifact_path));
  auto client = example::ConnectOrExit();
  std::filesystem::create_directories(out_dir);
  cairn::client::EntryIterator approvals = client->ListEntries("releases/" + release);
  cairn::v1::Entry entry;
  int exported = 0;
  while (approvals.Next(&entry)) {
    cairn::client::ReceiptOptions options;
    options.wait = true;
    options.expect.contents = entry.contents();  // the receipt must prove this very record
    options.expect.claims_digest = digest;       // ...about this very artifact
    auto receipt = client->GetReceipt(entry.txid(), options);
    if (!receipt.ok()) {
      std::cerr << "receipt of " << entry.txid() << ": " << receipt.status() << "\n";
      return 1;
    }
    const std::string path = out_dir + "/approval-" + entry.txid() + ".json";
    if (absl::Status s = cairn::client::WriteReceiptFile(path, *receipt); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
    ++exported;
  }
  if (!approvals.status().ok()) {
    std::cerr << "listing approvals: " << approvals.status() << "\n";
    return 1;
  }
  std::ofstream(out_dir + "/service.pem") << client->service_certificate_pem();
  std::cout << "exported " << exported << " receipts to " << out_dir << "\n";
  return 0;
}

int Audit(const std::string& artifact_path, const std::string& out_dir) {
  const std::string digest = cairn::client::ClaimsDigest(example::ReadFileOrExit(artifact_path));
  const std::string service_cert = example::ReadFileOrExit(out_dir + "/service.pem");
  int valid = 0;
  int invalid = 0;
  for (const auto& file : std::filesystem::directory_iterator(out_dir)) {
    if (file.path().extension() != ".json") continue;
    auto receipt = cairn::client::ReadReceiptFile(file.path().string());
    cairn::client::ReceiptExpectations expect;
    expect.claims_digest = digest;  // the approval must be about this artifact
    absl::Status s = receipt.status();
    if (s.ok()) s = cairn::client::VerifyReceipt(*receipt, service_cert, expect);
    std::cout << (s.ok() ? "VALID   " : "INVALID ") << file.path().filename().string()
              << (s.ok() ? "" : ": " + std::string(s.message())) << "\n";
    (s.ok() ? valid : invalid)++;
  }
  std::cout << valid << " valid, " << invalid << " invalid\n";
  return invalid == 0 && valid > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "record" && argc == 6) return Record(argv[2], argv[3], argv[4], argv[5]);
  if (mode == "export" && argc == 5) return Export(argv[2], argv[3], argv[4]);
  if (mode == "audit" && argc == 4) return Audit(argv[2], argv[3]);
  std::cerr << "usage: release_approvals record <release> <artifact> <approver> <approve|reject>\n"
               "       release_approvals export <release> <artifact> <out-dir>\n"
               "       release_approvals audit <artifact> <out-dir>\n";
  return 2;
}
