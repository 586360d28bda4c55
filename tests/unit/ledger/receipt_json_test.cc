// Receipt JSON: the documented shape, exact round trips, and strict parsing
// of outside input (receipt_json.h).
#include "cairn/ledger/receipt_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/ledger/receipt.h"
#include "google/protobuf/util/message_differencer.h"
#include "nlohmann/json.hpp"
#include "test_ledger.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

class ReceiptJsonTest : public ::testing::Test {
 protected:
  ReceiptJsonTest() {
    ledger_.AppendUser("orders", "a");
    txid_ = ledger_.AppendUser("orders", "b", std::string(32, '\x01'));
    ledger_.AppendUser("orders", "c");
    ledger_.AppendSignature();
    receipt_ = ledger_.ReceiptFor(txid_);
    text_ = ReceiptToJson(receipt_);
  }

  // The JSON text with `edit` applied to its parsed form.
  std::string Edited(const std::function<void(json&)>& edit) const {
    json j = json::parse(text_);
    edit(j);
    return j.dump();
  }

  absl::Status ParseError(const std::string& text) const { return ReceiptFromJson(text).status(); }

  testing::TestLedger ledger_;
  TxId txid_;
  v1::Receipt receipt_;
  std::string text_;
};

TEST_F(ReceiptJsonTest, HasTheDocumentedShape) {
  const json j = json::parse(text_);
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["leaf"]["kind"], "user");
  EXPECT_EQ(j["leaf"]["txid"], txid_.ToString());
  EXPECT_EQ(j["leaf"]["collection_id"], "orders");
  EXPECT_EQ(j["leaf"]["contents_digest"], HashToHex(Sha256("b")));
  std::string claims_hex;
  for (int i = 0; i < 32; ++i) claims_hex += "01";
  EXPECT_EQ(j["leaf"]["claims_digest"], claims_hex);
  EXPECT_EQ(j["leaf_index"], txid_.index - 1);
  EXPECT_TRUE(j["inclusion_proof"].is_array());
  EXPECT_EQ(j["inclusion_proof"][0].get<std::string>().size(), 64u);
  EXPECT_EQ(j["checkpoint"]["checkpoint"]["service_id"], ledger_.service_cert().Fingerprint());
  EXPECT_EQ(j["checkpoint"]["signer_node_id"], 1);
  EXPECT_TRUE(j["node_certificate_pem"].get<std::string>().starts_with("-----BEGIN CERTIFICATE"));
  // Keys in documented order, pretty-printed.
  EXPECT_LT(text_.find("\"version\""), text_.find("\"leaf\""));
  EXPECT_LT(text_.find("\"leaf\""), text_.find("\"inclusion_proof\""));
  EXPECT_NE(text_.find("\n  \"leaf\": {"), std::string::npos);
}

TEST_F(ReceiptJsonTest, RoundTripsExactlyAndStillVerifies) {
  auto back = ReceiptFromJson(text_);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*back, receipt_));
  EXPECT_TRUE(VerifyReceipt(*back, ledger_.service_cert()).ok());
  EXPECT_EQ(ReceiptToJson(*back), text_);

  auto sc = SignedCheckpointFromJson(SignedCheckpointToJson(receipt_.checkpoint()));
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*sc, receipt_.checkpoint()));
}

TEST_F(ReceiptJsonTest, ParseReceiptAcceptsJsonAndBinary) {
  auto from_json = ParseReceipt("  \n" + text_);
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  auto from_binary = ParseReceipt(receipt_.SerializeAsString());
  ASSERT_TRUE(from_binary.ok()) << from_binary.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*from_binary, receipt_));
  EXPECT_THAT(ParseReceipt("\xff\xff\xff\xff").status().message(), HasSubstr("neither JSON"));
  EXPECT_FALSE(ParseReceipt(std::string(kReceiptBytesMax + 1, ' ')).ok());
}

TEST_F(ReceiptJsonTest, RejectsMalformedInputNamingTheKey) {
  struct Case {
    std::string text;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"", "parse"},
      {"{", "parse"},
      {"[]", "must be an object"},
      {text_ + "x", "parse"},
      {Edited([](json& j) { j.erase("leaf"); }), "missing key \"leaf\""},
      {Edited([](json& j) { j["extra"] = 1; }), "unknown key \"extra\""},
      {Edited([](json& j) { j["leaf"]["kind"] = "alien"; }), "leaf.kind"},
      {Edited([](json& j) { j["leaf"]["kind"] = 1.5; }), "leaf.kind"},
      {Edited([](json& j) { j["version"] = -1; }), "version"},
      {Edited([](json& j) { j["version"] = 1.0; }), "version"},
      {Edited([](json& j) { j["version"] = "1"; }), "version"},
      {Edited([](json& j) { j["version"] = 4294967296ULL; }), "version"},
      {Edited([](json& j) { j["leaf_index"] = -3; }), "leaf_index"},
      {Edited([](json& j) { j["leaf"]["timestamp_unix_ms"] = 18446744073709551615ULL; }),
       "leaf.timestamp_unix_ms"},
      {Edited([](json& j) { j["leaf"]["contents_digest"] = "ABCD"; }), "lowercase"},
      {Edited([](json& j) { j["leaf"]["contents_digest"] = "abc"; }), "leaf.contents_digest"},
      {Edited([](json& j) { j["leaf"]["contents_digest"] = "zz"; }), "leaf.contents_digest"},
      {Edited([](json& j) { j["leaf"]["txid"] = 5; }), "leaf.txid"},
      {Edited([](json& j) { j["inclusion_proof"] = "ab"; }), "inclusion_proof"},
      {Edited([](json& j) { j["inclusion_proof"][0] = 7; }), "inclusion_proof[0]"},
      {Edited([](json& j) { j["checkpoint"]["checkpoint"].erase("root_hash"); }),
       "checkpoint.checkpoint"},
      {Edited([](json& j) { j["checkpoint"]["signature"] = nullptr; }), "checkpoint.signature"},
      {Edited([](json& j) { j["node_certificate_pem"] = json::array(); }), "node_certificate_pem"},
      {R"({"version": 1, "version": 1})", "duplicate key"},
      {std::string(40, '[') + std::string(40, ']'), "nested too deeply"},
  };
  for (const Case& c : cases) {
    absl::Status s = ParseError(c.text);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.text.substr(0, 80);
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.text.substr(0, 80);
  }
}

TEST_F(ReceiptJsonTest, TamperedJsonParsesButDoesNotVerify) {
  const std::string tampered = Edited([](json& j) { j["leaf"]["collection_id"] = "other"; });
  auto receipt = ReceiptFromJson(tampered);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_THAT(VerifyReceipt(*receipt, ledger_.service_cert()).message(),
              HasSubstr("inclusion proof"));
}

}  // namespace
}  // namespace cairn::ledger
