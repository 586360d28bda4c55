// cairnctl proof / receipt verify / audit: happy paths and error paths with
// their exit codes (0 valid, 1 invalid, 2 usage), their --json forms, and the
// service certificate from the environment or a config file, against the
// built binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cairn/ledger/hash.h"
#include "cairn/ledger/receipt_json.h"
#include "run_cli.h"
#include "test_ledger.h"
#include "testing/temp_dir.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// Sets an environment variable cairnctl inherits, for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

constexpr char kCtLeaves[] =
    "\n00\n10\n2021\n3031\n40414243\n5051525354555657\n606162636465666768696a6b6c6d6e6f\n";
constexpr char kCtRoot6[] = "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef";
constexpr char kCtRoot8[] = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
constexpr char kCtLeaf5[] = "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658";
constexpr char kCtIncl5[] =
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b,"
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0,"
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7";
constexpr char kCtCons68[] =
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a,"
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0,"
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7";

class OfflineCliTest : public ::testing::Test {
 protected:
  CliResult Run(const std::vector<std::string>& args) { return RunCairnctl(args, dir_.path()); }
  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }
  TempDir dir_;
};

TEST_F(OfflineCliTest, ProofRoot) {
  const std::string leaves = Write("ct.txt", kCtLeaves);
  CliResult r = Run({"proof", "root", "--leaves-file", leaves});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kCtRoot8) + "\n");
  // CRLF line ends and uppercase hex are the same leaves.
  std::string crlf = kCtLeaves;
  for (size_t p = crlf.find('\n'); p != std::string::npos; p = crlf.find('\n', p + 2)) {
    crlf.insert(p, "\r");
  }
  EXPECT_EQ(Run({"proof", "root", "--leaves-file", Write("crlf.txt", crlf)}).out, r.out);
  EXPECT_EQ(Run({"proof", "root", "--leaves-file", Write("empty.txt", "")}).out,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
  EXPECT_EQ(Run({"proof", "root", "--leaves-file", Write("one.txt", "\n")}).out,
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d\n");

  CliResult bad = Run({"proof", "root", "--leaves-file", Write("bad.txt", "00\nxyz\n")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("line 2"));
  EXPECT_EQ(Run({"proof", "root", "--leaves-file", dir_.path() + "/none"}).exit_code, 2);
  EXPECT_EQ(Run({"proof", "root"}).exit_code, 2);
  EXPECT_EQ(Run({"proof"}).exit_code, 2);
}

TEST_F(OfflineCliTest, ProofInclusionAndConsistency) {
  const std::string leaves = Write("ct.txt", kCtLeaves);
  CliResult incl =
      Run({"proof", "inclusion", "--leaves-file", leaves, "--index", "5", "--size", "8"});
  EXPECT_EQ(incl.exit_code, 0) << incl.err;
  EXPECT_EQ(incl.out, std::string(kCtIncl5) + "\n");
  CliResult cons =
      Run({"proof", "consistency", "--leaves-file", leaves, "--size1", "6", "--size2", "8"});
  EXPECT_EQ(cons.exit_code, 0) << cons.err;
  EXPECT_EQ(cons.out, std::string(kCtCons68) + "\n");
  EXPECT_EQ(
      Run({"proof", "consistency", "--leaves-file", leaves, "--size1", "8", "--size2", "8"}).out,
      "\n");  // the empty proof

  CliResult past_end =
      Run({"proof", "inclusion", "--leaves-file", leaves, "--index", "8", "--size", "8"});
  EXPECT_EQ(past_end.exit_code, 2);
  EXPECT_THAT(past_end.err, HasSubstr("leaf_index"));
  EXPECT_EQ(
      Run({"proof", "inclusion", "--leaves-file", leaves, "--index", "0", "--size", "9"}).exit_code,
      2);
  EXPECT_EQ(Run({"proof", "inclusion", "--leaves-file", leaves, "--index", "-1", "--size", "8"})
                .exit_code,
            2);
  EXPECT_EQ(Run({"proof", "consistency", "--leaves-file", leaves, "--size1", "0", "--size2", "8"})
                .exit_code,
            2);
  EXPECT_EQ(Run({"proof", "inclusion", "--leaves-file", leaves, "--index", "1"}).exit_code, 2);
}

TEST_F(OfflineCliTest, VerifyInclusion) {
  auto verify = [&](const std::string& index, const std::string& size, const std::string& leaf,
                    const std::string& root, const std::string& proof) {
    return Run({"proof", "verify-inclusion", "--index", index, "--size", size, "--leaf-hash", leaf,
                "--root", root, "--proof", proof});
  };
  CliResult ok = verify("5", "8", kCtLeaf5, kCtRoot8, kCtIncl5);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "valid\n");
  std::string flipped = kCtIncl5;
  flipped[70] = flipped[70] == '0' ? '1' : '0';
  CliResult bad = verify("5", "8", kCtLeaf5, kCtRoot8, flipped);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("invalid"));
  EXPECT_EQ(verify("4", "8", kCtLeaf5, kCtRoot8, kCtIncl5).exit_code, 1);
  EXPECT_EQ(verify("5", "8", kCtLeaf5, kCtRoot6, kCtIncl5).exit_code, 1);
  EXPECT_EQ(verify("8", "8", kCtLeaf5, kCtRoot8, kCtIncl5).exit_code, 1);
  EXPECT_EQ(verify("5", "8", kCtLeaf5, kCtRoot8, std::string(kCtIncl5) + "," + kCtRoot8).exit_code,
            1);  // trailing hash
  EXPECT_EQ(verify("5", "8", kCtLeaf5, kCtRoot8, std::string(kCtIncl5).substr(0, 129)).exit_code,
            1);  // missing hash
  CliResult short_hash = verify("5", "8", std::string(kCtLeaf5).substr(0, 62), kCtRoot8, kCtIncl5);
  EXPECT_EQ(short_hash.exit_code, 1);
  EXPECT_THAT(short_hash.err, HasSubstr("--leaf-hash"));
  EXPECT_EQ(verify("5", "8", kCtLeaf5, kCtRoot8, std::string(kCtIncl5) + ",").exit_code, 1);
  CliResult not_hex = verify("5", "8", kCtLeaf5, "xyz", kCtIncl5);
  EXPECT_EQ(not_hex.exit_code, 2);
  EXPECT_THAT(not_hex.err, HasSubstr("--root"));
  // The empty proof: a one-leaf tree's root is its leaf hash.
  EXPECT_EQ(verify("0", "1", kCtRoot8, kCtRoot8, "").exit_code, 0);
  EXPECT_EQ(Run({"proof", "verify-inclusion", "--index", "0"}).exit_code, 2);
}

TEST_F(OfflineCliTest, VerifyConsistency) {
  auto verify = [&](const std::string& s1, const std::string& s2, const std::string& r1,
                    const std::string& r2, const std::string& proof) {
    return Run({"proof", "verify-consistency", "--size1", s1, "--size2", s2, "--root1", r1,
                "--root2", r2, "--proof", proof});
  };
  EXPECT_EQ(verify("6", "8", kCtRoot6, kCtRoot8, kCtCons68).exit_code, 0);
  CliResult swapped = verify("6", "8", kCtRoot8, kCtRoot6, kCtCons68);
  EXPECT_EQ(swapped.exit_code, 1);
  EXPECT_THAT(swapped.err, HasSubstr("root1"));
  EXPECT_EQ(verify("0", "8", kCtRoot6, kCtRoot8, kCtCons68).exit_code, 1);
  EXPECT_EQ(verify("9", "8", kCtRoot6, kCtRoot8, kCtCons68).exit_code, 1);
  EXPECT_EQ(verify("6", "8", kCtRoot6, kCtRoot8, "").exit_code, 1);
  EXPECT_EQ(verify("8", "8", kCtRoot8, kCtRoot8, "").exit_code, 0);
  EXPECT_EQ(verify("6", "8", kCtRoot6, kCtRoot8, "nothex").exit_code, 2);
  EXPECT_EQ(verify("6", "x", kCtRoot6, kCtRoot8, kCtCons68).exit_code, 2);
}

// --json: one JSON document on stdout; the exit codes do not change, and
// usage errors stay on stderr.
TEST_F(OfflineCliTest, ProofCommandsPrintJson) {
  const std::string leaves = Write("ct.txt", kCtLeaves);
  CliResult r = Run({"proof", "root", "--leaves-file", leaves, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json({{"tree_size", 8}, {"root", kCtRoot8}}));

  r = Run({"proof", "inclusion", "--leaves-file", leaves, "--index", "5", "--size", "8", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["index"], 5);
  EXPECT_EQ(j["tree_size"], 8);
  std::string joined;
  for (const Json& h : j["proof"]) joined += (joined.empty() ? "" : ",") + h.get<std::string>();
  EXPECT_EQ(joined, kCtIncl5);

  r = Run(
      {"--json", "proof", "consistency", "--leaves-file", leaves, "--size1", "8", "--size2", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json({{"size1", 8}, {"size2", 8}, {"proof", Json::array()}}));

  r = Run({"proof", "verify-inclusion", "--index", "5", "--size", "8", "--leaf-hash", kCtLeaf5,
           "--root", kCtRoot8, "--proof", kCtIncl5, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json({{"valid", true}}));
  r = Run({"proof", "verify-inclusion", "--index", "4", "--size", "8", "--leaf-hash", kCtLeaf5,
           "--root", kCtRoot8, "--proof", kCtIncl5, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  j = Json::parse(r.out);
  EXPECT_EQ(j["valid"], false);
  EXPECT_FALSE(j["reason"].get<std::string>().empty());
  EXPECT_THAT(r.err, HasSubstr("invalid: "));
  // A hash of the wrong length is a verdict too.
  r = Run({"proof", "verify-inclusion", "--index", "5", "--size", "8", "--leaf-hash", "abcd",
           "--root", kCtRoot8, "--proof", kCtIncl5, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Json::parse(r.out)["reason"].get<std::string>(), HasSubstr("--leaf-hash"));

  r = Run({"proof", "verify-consistency", "--size1", "6", "--size2", "8", "--root1", kCtRoot6,
           "--root2", kCtRoot8, "--proof", kCtCons68, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out), Json({{"valid", true}}));
  r = Run({"proof", "verify-consistency", "--size1", "6", "--size2", "8", "--root1", kCtRoot8,
           "--root2", kCtRoot6, "--proof", kCtCons68, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Json::parse(r.out)["reason"].get<std::string>(), HasSubstr("root1"));

  // Usage errors: exit 2, the reason on stderr, nothing on stdout.
  r = Run({"proof", "root", "--leaves-file", dir_.path() + "/none", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("none"));
  r = Run({"proof", "verify-consistency", "--size1", "6", "--size2", "8", "--root1", kCtRoot6,
           "--root2", kCtRoot8, "--proof", "nothex", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
}

class ReceiptCliTest : public OfflineCliTest {
 protected:
  ReceiptCliTest() {
    ledger_.AppendUser("orders", "first");
    txid_ = ledger_.AppendUser("orders", "the contents", std::string(32, '\x09'));
    const uint64_t end1 = ledger_.AppendSignature().index;
    ledger_.AppendUser("orders", "third");
    const uint64_t end2 = ledger_.AppendSignature().index;
    receipt_ = ledger_.ReceiptFor(txid_);
    service_pem_ = Write("service.pem", ledger_.service_cert().ToPem());
    json_ = Write("receipt.json", ledger::ReceiptToJson(receipt_));
    binary_ = Write("receipt.bin", receipt_.SerializeAsString());
    std::filesystem::create_directory(dir_.path() + "/segments");
    segments_ = ledger_.WriteSegments(dir_.path() + "/segments", {end1, end2});
  }

  TestLedger ledger_;
  ledger::TxId txid_;
  v1::Receipt receipt_;
  std::string service_pem_, json_, binary_;
  std::vector<std::string> segments_;
};

TEST_F(ReceiptCliTest, VerifiesJsonAndBinaryReceipts) {
  CliResult r = Run({"receipt", "verify", "--receipt", json_, "--service-cert", service_pem_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("valid: txid " + txid_.ToString()));
  EXPECT_EQ(
      Run({"receipt", "verify", "--receipt", binary_, "--service-cert", service_pem_}).exit_code,
      0);
  const std::string contents = Write("contents", "the contents");
  std::string claims_hex;
  for (int i = 0; i < 32; ++i) claims_hex += "09";
  CliResult with_both = Run({"receipt", "verify", "--receipt", json_, "--service-cert",
                             service_pem_, "--contents", contents, "--claims-digest", claims_hex});
  EXPECT_EQ(with_both.exit_code, 0) << with_both.err;
  CliResult other_claims = Run({"receipt", "verify", "--receipt", json_, "--service-cert",
                                service_pem_, "--claims-digest", std::string(64, 'a')});
  EXPECT_EQ(other_claims.exit_code, 1);
  EXPECT_THAT(other_claims.err, HasSubstr("claims"));
}

// receipt verify names its flags as receipt get does (--contents-file,
// --claims-file); --contents, its first name, still works.
TEST_F(ReceiptCliTest, ContentsAndClaimsFilesAsInReceiptGet) {
  TestLedger ledger;
  const ledger::TxId txid = ledger.AppendUser("orders", "signed contents",
                                              ledger::HashToString(ledger::Sha256("the claims")));
  ledger.AppendSignature();
  const std::string receipt =
      Write("claims-receipt.json", ledger::ReceiptToJson(ledger.ReceiptFor(txid)));
  const std::string service = Write("claims-service.pem", ledger.service_cert().ToPem());
  const std::string contents = Write("signed-contents", "signed contents");
  const std::string claims = Write("claims", "the claims");
  for (const char* flag : {"--contents-file", "--contents"}) {
    CliResult r = Run({"receipt", "verify", "--receipt", receipt, "--service-cert", service, flag,
                       contents, "--claims-file", claims});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.err;
  }
  CliResult other = Run({"receipt", "verify", "--receipt", receipt, "--service-cert", service,
                         "--claims-file", Write("other-claims", "other claims")});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("claims"));
  CliResult missing = Run({"receipt", "verify", "--receipt", receipt, "--service-cert", service,
                           "--claims-file", dir_.path() + "/no-such-claims"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("no-such-claims"));
  CliResult both = Run({"receipt", "verify", "--receipt", receipt, "--service-cert", service,
                        "--claims-file", claims, "--claims-digest", std::string(64, 'a')});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("excludes"));
}

TEST_F(ReceiptCliTest, RejectsWrongContentsTamperingAndAnotherService) {
  CliResult wrong = Run({"receipt", "verify", "--receipt", json_, "--service-cert", service_pem_,
                         "--contents", Write("other", "other contents")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("leaf: "));

  std::string text = ledger::ReceiptToJson(receipt_);
  text.replace(text.find("\"orders\""), 8, "\"ordersX\"");
  CliResult tampered = Run(
      {"receipt", "verify", "--receipt", Write("t.json", text), "--service-cert", service_pem_});
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_THAT(tampered.err, HasSubstr("inclusion proof"));

  TestLedger other;
  CliResult foreign = Run({"receipt", "verify", "--receipt", json_, "--service-cert",
                           Write("other.pem", other.service_cert().ToPem())});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_THAT(foreign.err, HasSubstr("node certificate"));

  EXPECT_EQ(Run({"receipt", "verify", "--receipt", Write("junk", "{not json"), "--service-cert",
                 service_pem_})
                .exit_code,
            1);
  EXPECT_EQ(
      Run({"receipt", "verify", "--receipt", dir_.path() + "/none", "--service-cert", service_pem_})
          .exit_code,
      2);
  EXPECT_EQ(Run({"receipt", "verify", "--receipt", json_, "--service-cert", json_}).exit_code, 2);
  EXPECT_EQ(Run({"receipt", "verify", "--receipt", json_}).exit_code, 2);
  EXPECT_EQ(Run({"receipt", "verify", "--receipt", json_, "--service-cert", service_pem_,
                 "--claims-digest", "zz"})
                .exit_code,
            2);
}

TEST_F(ReceiptCliTest, AuditsSegments) {
  const std::string dir = dir_.path() + "/segments";
  CliResult r = Run({"audit", "--segments", dir, "--service-cert", service_pem_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("valid: 2 segments, " + std::to_string(ledger_.entries().size()) +
                               " entries, 2 signatures"));

  TestLedger other;
  CliResult foreign = Run({"audit", "--segments", dir, "--service-cert",
                           Write("other.pem", other.service_cert().ToPem())});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_THAT(foreign.err, HasSubstr("genesis"));

  // One flipped byte in the second segment's first record.
  std::ifstream in(segments_[1], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[36 + 30] ^= 0x01;
  std::filesystem::permissions(segments_[1], std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  std::ofstream(segments_[1], std::ios::binary | std::ios::trunc) << bytes;
  CliResult damaged = Run({"audit", "--segments", dir, "--service-cert", service_pem_});
  EXPECT_EQ(damaged.exit_code, 1);
  const uint64_t first_of_second = ledger_.entries().size() - 1;  // "third", then the signature
  EXPECT_THAT(damaged.err, HasSubstr("record at index " + std::to_string(first_of_second)));

  EXPECT_EQ(
      Run({"audit", "--segments", dir_.path() + "/none", "--service-cert", service_pem_}).exit_code,
      2);
  EXPECT_EQ(Run({"audit", "--segments", dir}).exit_code, 2);
}

TEST_F(ReceiptCliTest, ReceiptVerifyAndAuditPrintJson) {
  CliResult r =
      Run({"receipt", "verify", "--receipt", json_, "--service-cert", service_pem_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["txid"], txid_.ToString());
  EXPECT_EQ(j["collection_id"], "orders");
  EXPECT_EQ(j["leaf_index"], receipt_.leaf_index());
  EXPECT_EQ(j["tree_size"], receipt_.checkpoint().checkpoint().tree_size());
  EXPECT_EQ(j["service_id"], ledger_.service_cert().Fingerprint());
  r = Run({"receipt", "verify", "--receipt", json_, "--service-cert", service_pem_, "--contents",
           Write("other", "other contents"), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  j = Json::parse(r.out);
  EXPECT_EQ(j["valid"], false);
  EXPECT_THAT(j["reason"].get<std::string>(), HasSubstr("leaf: "));
  r = Run({"receipt", "verify", "--receipt", Write("junk", "{not json"), "--service-cert",
           service_pem_, "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(Json::parse(r.out)["valid"], false);

  const std::string dir = dir_.path() + "/segments";
  r = Run({"audit", "--segments", dir, "--service-cert", service_pem_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = Json::parse(r.out);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["segments"], 2);
  EXPECT_EQ(j["entries"], ledger_.entries().size());
  EXPECT_EQ(j["signatures"], 2);
  EXPECT_EQ(j["signed_tree_size"], ledger_.entries().size() - 1);
  EXPECT_EQ(j["root"].get<std::string>().size(), 64u);
  // The text form states the same root.
  EXPECT_THAT(Run({"audit", "--segments", dir, "--service-cert", service_pem_}).out,
              HasSubstr("; root " + j["root"].get<std::string>()));
  TestLedger other;
  r = Run({"audit", "--segments", dir, "--service-cert",
           Write("other.pem", other.service_cert().ToPem()), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(Json::parse(r.out)["reason"].get<std::string>(), HasSubstr("genesis"));
}

// Like every other command, receipt verify and audit take the service
// certificate from a flag, else CAIRN_SERVICE_CERT, else the config file.
TEST_F(ReceiptCliTest, ServiceCertFromTheEnvironmentOrTheConfigFile) {
  const std::string dir = dir_.path() + "/segments";
  TestLedger other;
  const std::string other_pem = Write("other.pem", other.service_cert().ToPem());
  {
    ScopedEnv env("CAIRN_SERVICE_CERT", service_pem_);
    CliResult r = Run({"receipt", "verify", "--receipt", json_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = Run({"audit", "--segments", dir});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // A flag wins over the environment, before or after the command.
    EXPECT_EQ(Run({"receipt", "verify", "--receipt", json_, "--service-cert", other_pem}).exit_code,
              1);
    EXPECT_EQ(Run({"--service-cert", other_pem, "audit", "--segments", dir}).exit_code, 1);
  }
  const std::string config = Write("cairnctl.yaml", "service_cert: " + service_pem_ + "\n");
  EXPECT_EQ(Run({"receipt", "verify", "--receipt", json_, "--config", config}).exit_code, 0);
  EXPECT_EQ(Run({"audit", "--segments", dir, "--config", config}).exit_code, 0);
  {
    ScopedEnv env("CAIRN_CONFIG", config);
    EXPECT_EQ(Run({"audit", "--segments", dir}).exit_code, 0);
    // The environment wins over the file.
    ScopedEnv cert("CAIRN_SERVICE_CERT", other_pem);
    EXPECT_EQ(Run({"audit", "--segments", dir}).exit_code, 1);
  }
  // From nowhere: a usage error that says where it may come from.
  CliResult r = Run({"receipt", "verify", "--receipt", json_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("CAIRN_SERVICE_CERT"));
  r = Run({"audit", "--segments", dir});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--service-cert is required"));
  // A file that is not a certificate, from the environment: usage too.
  ScopedEnv env("CAIRN_SERVICE_CERT", json_);
  EXPECT_EQ(Run({"audit", "--segments", dir}).exit_code, 2);
}

}  // namespace
}  // namespace cairn::testing
