// The REST API (docs/api.md, "REST API") driven with curl as a user would:
// Azure Confidential Ledger's paths and JSON over HTTPS with mutual TLS, on
// a real three-node cluster, through followers as well as the leader; and
// the refusals of the gRPC tests, the same here, with nothing written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt.h"
#include "cairn/ledger/receipt_json.h"
#include "client_cluster_fixture.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kCurl[] = "/usr/bin/curl";  // scripts/install-deps.sh installs it

struct HttpReply {
  int curl_exit = -1;
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string err;
  json Json() const { return json::parse(body, nullptr, false); }
  std::string ErrorCode() const {
    const json j = Json();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
};

class RestApiTest : public ClientClusterTest {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<TestCluster>(tmp_.path(), 3);
    for (uint64_t id = 1; id <= 3; ++id) {
      rest_[id] = absl::StrCat("127.0.0.1:", PickFreePort());
      cluster_->AddNodeArgs(id, {"--rest-address", rest_[id]});
      cluster_->node(id).set_product_timing(ProductTiming());
    }
    const absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started << "\n" << cluster_->node(1).Log();
  }

  // The product's Raft timing (1 s election timeout) instead of the tests'
  // fast one: a leader that loses its followers keeps leading that long.
  virtual bool ProductTiming() const { return false; }

  // `method` `target` (path and query) at node `node`'s REST port, as
  // `user` ("" presents no client certificate).
  HttpReply Curl(uint64_t node, const std::string& method, const std::string& target,
                 const std::string& user = "admin", const std::string& body = "",
                 const std::vector<std::string>& headers = {}) {
    std::vector<std::string> argv = {kCurl, "-sS", "-i", "--max-time", "30", "--tlsv1.3"};
    argv.insert(argv.end(), {"--cacert", cluster_->pki().service_cert(), "-X", method});
    if (!user.empty()) {
      const CertFiles creds =
          user == "foreign" ? cluster_->pki().ForeignUser() : cluster_->pki().User(user);
      argv.insert(argv.end(), {"--cert", creds.cert, "--key", creds.key});
    }
    if (!body.empty()) {
      argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
    }
    for (const std::string& h : headers) argv.insert(argv.end(), {"-H", h});
    argv.push_back(absl::StrCat("https://", rest_[node], target));
    const CommandResult r = RunCommand(argv, body);
    HttpReply reply;
    reply.curl_exit = r.exit_code;
    reply.err = r.err;
    // Past interim answers (curl asks "Expect: 100-continue" for a large body).
    std::string out = r.out;
    while (absl::StartsWith(out, "HTTP/1.1 100") && out.find("\r\n\r\n") != std::string::npos) {
      out = out.substr(out.find("\r\n\r\n") + 4);
    }
    const size_t end = out.find("\r\n\r\n");
    if (end == std::string::npos) return reply;
    std::vector<std::string> lines = absl::StrSplit(out.substr(0, end), "\r\n");
    std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
    if (first.size() >= 2) reply.status = std::stoi(first[1]);
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      reply.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    reply.body = out.substr(end + 4);
    return reply;
  }

  std::string Post(uint64_t node, const std::string& collection, const std::string& contents,
                   const std::string& user = "admin") {
    const HttpReply r =
        Curl(node, "POST", "/app/transactions?api-version=2022-05-13&collectionId=" + collection,
             user, json{{"contents", contents}}.dump());
    EXPECT_EQ(r.status, 200) << r.body << r.err;
    EXPECT_EQ(r.Json()["collectionId"], collection) << r.body;
    const auto txid = r.headers.find("x-ms-ccf-transaction-id");
    return txid == r.headers.end() ? "" : txid->second;
  }

  // The collections the ledger has, through node 1.
  std::vector<std::string> Collections() {
    const HttpReply r = Curl(1, "GET", "/app/collections?api-version=2022-05-13");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    const json listed = r.Json();
    for (const auto& c : listed["collections"]) out.push_back(c["collectionId"]);
    return out;
  }

  std::map<uint64_t, std::string> rest_;
};

TEST_F(RestApiTest, IdentityIsPublicAndNamesTheServiceCertificate) {
  const HttpReply r = Curl(2, "GET", "/ledgerIdentity?api-version=2022-05-13", /*user=*/"");
  ASSERT_EQ(r.status, 200) << "curl exit " << r.curl_exit << ": " << r.body << r.err;
  const std::string pem = ReadFileOrEmpty(cluster_->pki().service_cert());
  EXPECT_EQ(r.Json()["ledgerTlsCertificate"], pem);
  const std::string id = ledger::Certificate::FromPem(pem)->Fingerprint();
  EXPECT_EQ(r.Json()["ledgerId"], id);
  EXPECT_EQ(Curl(2, "GET", "/ledgerIdentity/" + id, "").status, 200);
  EXPECT_EQ(Curl(2, "GET", "/ledgerIdentity/not-this-ledger", "").status, 404);
}

TEST_F(RestApiTest, WriteReadProveThroughEveryNode) {
  // Written through each node: a follower sends the write to the leader.
  std::vector<std::string> txids;
  for (uint64_t id = 1; id <= 3; ++id) {
    txids.push_back(Post(id, "orders", absl::StrCat("order ", id)));
    ASSERT_FALSE(txids.back().empty());
  }
  for (uint64_t id = 1; id <= 3; ++id) {
    HttpReply r = Curl(id, "GET", "/app/transactions/" + txids[0] + "?collectionId=orders");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json()["state"], "Ready");
    EXPECT_EQ(r.Json()["entry"]["contents"], "order 1");
    EXPECT_EQ(r.Json()["entry"]["collectionId"], "orders");
    EXPECT_EQ(r.Json()["entry"]["transactionId"], txids[0]);
    r = Curl(id, "GET", "/app/transactions/" + txids[2] + "/status?api-version=2022-05-13");
    EXPECT_EQ(r.Json(), (json{{"state", "Committed"}, {"transactionId", txids[2]}})) << r.body;
  }
  // In another collection: not found there.
  EXPECT_EQ(Curl(1, "GET", "/app/transactions/" + txids[0] + "?collectionId=other").status, 404);
  HttpReply r = Curl(3, "GET", "/app/transactions/current?collectionId=orders");
  EXPECT_EQ(r.Json()["contents"], "order 3") << r.body;
  EXPECT_THAT(Collections(), ::testing::Contains("orders"));

  // The receipt: "Loading" until a signature covers it, then Cairn's
  // receipt, which verifies offline with the contents.
  json receipt;
  ASSERT_TRUE(PollUntil(
                  [&] {
                    r = Curl(2, "GET", "/app/transactions/" + txids[1] + "/receipt");
                    if (r.status != 200) return true;  // fails below
                    if (r.Json()["state"] != "Ready") return false;
                    receipt = r.Json()["receipt"];
                    return true;
                  },
                  std::chrono::seconds(20), "a receipt in state Ready")
                  .ok());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["transactionId"], txids[1]);
  absl::StatusOr<v1::Receipt> parsed = ledger::ReceiptFromJson(receipt.dump());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ledger::ReceiptExpectations expect;
  expect.contents = "order 2";
  const auto service = ledger::ReadCertificateFile(cluster_->pki().service_cert());
  EXPECT_TRUE(ledger::VerifyReceipt(*parsed, *service, expect).ok());
  // The newest signature of an idle ledger has a receipt too (the leader
  // signs for a waiting reader): not "Loading" forever.
  const std::string newest = receipt["checkpoint"]["signature_txid"];
  r = Curl(3, "GET", "/app/transactions/" + newest + "/receipt");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["state"], "Ready") << r.body;
}

TEST_F(RestApiTest, ListingPagesWithNextLink) {
  auto c = client::Client::Create(Options());
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<client::BatchEntry> batch;
  for (int i = 0; i < 120; ++i) batch.push_back({"paged", absl::StrCat("entry ", i), "", ""});
  auto appended = (*c)->AppendBatch(batch);
  ASSERT_TRUE(appended.ok()) << appended.status();
  HttpReply r = Curl(2, "GET", "/app/transactions?api-version=2022-05-13&collectionId=paged");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> contents;
  json page = r.Json();
  for (const auto& e : page["entries"]) contents.push_back(e["contents"]);
  ASSERT_TRUE(r.Json().contains("nextLink")) << r.body;
  const std::string next = r.Json()["nextLink"];
  EXPECT_THAT(next, HasSubstr("/app/transactions?"));
  r = Curl(2, "GET", next);
  ASSERT_EQ(r.status, 200) << r.body;
  page = r.Json();
  for (const auto& e : page["entries"]) contents.push_back(e["contents"]);
  EXPECT_FALSE(r.Json().contains("nextLink"));
  ASSERT_EQ(contents.size(), 120u);
  for (int i = 0; i < 120; ++i) EXPECT_EQ(contents[i], absl::StrCat("entry ", i));
  // fromTransactionId / toTransactionId: both ends included.
  r = Curl(3, "GET",
           "/app/transactions?api-version=2022-05-13&collectionId=paged&fromTransactionId=" +
               (*appended)[10].txid + "&toTransactionId=" + (*appended)[14].txid);
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> range;
  const json ranged = r.Json();
  for (const auto& e : ranged["entries"]) range.push_back(e["transactionId"]);
  EXPECT_EQ(range, (std::vector<std::string>{(*appended)[10].txid, (*appended)[11].txid,
                                             (*appended)[12].txid, (*appended)[13].txid,
                                             (*appended)[14].txid}))
      << r.body;
  EXPECT_FALSE(r.Json().contains("nextLink")) << r.body;
  r = Curl(3, "GET", "/app/transactions?collectionId=paged&fromTransactionId=1.x");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "InvalidInput") << r.body;
}

TEST_F(RestApiTest, UsersAndRoles) {
  // A fingerprint in ACL's other spelling: uppercase, colon-separated pairs.
  const std::string reader = cluster_->pki().UserId("reader");
  std::string spelled;
  for (size_t i = 0; i < reader.size(); i += 2) {
    if (i > 0) spelled += ":";
    spelled += absl::AsciiStrToUpper(reader.substr(i, 2));
  }
  HttpReply r = Curl(3, "PATCH", "/app/users/" + spelled + "?api-version=2022-05-13", "admin",
                     R"({"assignedRole":"Reader"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), (json{{"assignedRole", "Reader"}, {"userId", reader}}));
  r = Curl(1, "GET", "/app/users/" + reader);
  EXPECT_EQ(r.Json(), (json{{"assignedRole", "Reader"}, {"userId", reader}})) << r.body;
  // A Reader reads and may not write.
  const std::string txid = Post(1, "notes", "by admin");
  EXPECT_EQ(Curl(2, "GET", "/app/transactions/" + txid, "reader").status, 200);
  r = Curl(2, "POST", "/app/transactions?collectionId=notes", "reader", R"({"contents":"x"})");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.ErrorCode(), "AuthorizationFailed");
  // Nor manage users.
  EXPECT_EQ(Curl(1, "DELETE", "/app/users/" + reader, "reader").status, 403);
  EXPECT_EQ(Curl(1, "DELETE", "/app/users/" + reader).status, 204);
  r = Curl(1, "GET", "/app/users/" + reader);
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.ErrorCode(), "ResourceNotFound");
  EXPECT_EQ(Curl(1, "GET", "/app/transactions/" + txid, "reader").status, 403);
  r = Curl(1, "PATCH", "/app/users/" + reader, "admin", R"({"assignedRole":"Owner"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorCode(), "InvalidInput");
  // The other two roles round-trip, and each does what its role allows.
  const std::string writer = cluster_->pki().UserId("writer");
  r = Curl(2, "PATCH", "/app/users/" + writer, "admin", R"({"assignedRole":"Contributor"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Curl(3, "GET", "/app/users/" + writer).Json()["assignedRole"], "Contributor");
  EXPECT_FALSE(Post(3, "notes", "by a contributor", "writer").empty());
  EXPECT_EQ(Curl(3, "GET", "/app/users/" + reader, "writer").status, 403);  // no user management
  r = Curl(2, "PATCH", "/app/users/" + writer, "admin", R"({"assignedRole":"Administrator"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Curl(1, "GET", "/app/users/" + writer).Json()["assignedRole"], "Administrator");
  EXPECT_EQ(Curl(1, "GET", "/app/users/" + cluster_->pki().UserId("admin"), "writer").status, 200);
}

// A transaction the leader holds but cannot commit is Pending, then never
// Committed while its followers are gone.
class RestApiPendingTest : public RestApiTest {
 protected:
  bool ProductTiming() const override { return true; }
};

TEST_F(RestApiPendingTest, StatusIsPendingWhileTheLeaderCannotCommit) {
  absl::StatusOr<uint64_t> leader = cluster_->WaitForLeader();
  ASSERT_TRUE(leader.ok()) << leader.status();
  client::ClientOptions o = Options();
  o.endpoints = {cluster_->node(*leader).client_address()};
  std::unique_ptr<client::Client> c = MakeClient(o);
  ASSERT_TRUE(c->Append("pending", "committed first").ok());  // the channel is up
  for (uint64_t id = 1; id <= 3; ++id) {
    if (id != *leader) cluster_->node(id).Kill();
  }
  client::AppendOptions no_wait;
  no_wait.wait_for_commit = false;
  absl::StatusOr<client::AppendResult> appended = c->Append("pending", "never committed", no_wait);
  ASSERT_TRUE(appended.ok()) << appended.status();
  const HttpReply r = Curl(
      *leader, "GET", "/app/transactions/" + appended->txid + "/status?api-version=2022-05-13");
  EXPECT_EQ(r.status, 200) << r.body << r.err;
  EXPECT_EQ(r.Json()["state"], "Pending") << r.body;
  EXPECT_EQ(r.Json()["transactionId"], appended->txid) << r.body;
}

// The refusals of the gRPC tests, over REST: each a clear error with ACL's
// code where it has one, and nothing written.
TEST_F(RestApiTest, BadInputIsRefusedAndWritesNothing) {
  Post(1, "orders", "the only entry");
  AddUser("reader", v1::ROLE_READER);
  struct Case {
    std::string name;
    std::string method;
    std::string target;
    std::string user;
    std::string body;
    int status;
    std::string code;
  };
  const std::string oversized = json{{"contents", std::string(2 << 20, 'x')}}.dump();
  const std::vector<Case> cases = {
      {"oversized entry", "POST", "/app/transactions?collectionId=big", "admin", oversized, 413,
       "RequestBodyTooLarge"},
      {"reserved collection", "POST", "/app/transactions?collectionId=cairn.x", "admin",
       R"({"contents":"x"})", 400, "InvalidInput"},
      {"collection with a control character", "POST", "/app/transactions?collectionId=a%09b",
       "admin", R"({"contents":"x"})", 400, "InvalidInput"},
      {"empty contents", "POST", "/app/transactions?collectionId=empty", "admin",
       R"({"contents":""})", 400, "InvalidInput"},
      {"not JSON", "POST", "/app/transactions?collectionId=bad", "admin", "contents=x", 400,
       "InvalidInput"},
      {"contents not a string", "POST", "/app/transactions?collectionId=bad", "admin",
       R"({"contents":5})", 400, "InvalidInput"},
      {"no client certificate", "POST", "/app/transactions?collectionId=anon", "",
       R"({"contents":"x"})", 401, "InvalidAuthenticationInfo"},
      {"unsupported api-version", "POST",
       "/app/transactions?api-version=2019-01-01&collectionId=old", "admin", R"({"contents":"x"})",
       400, "InvalidQueryParameterValue"},
      {"malformed transaction id", "GET", "/app/transactions/1.x", "admin", "", 400,
       "InvalidInput"},
      {"transaction id with a leading zero", "GET", "/app/transactions/1.01", "admin", "", 400,
       "InvalidInput"},
      {"transaction beyond the ledger", "GET", "/app/transactions/1.999999", "admin", "", 404,
       "ResourceNotFound"},
      {"receipt beyond the ledger", "GET", "/app/transactions/1.999999/receipt", "admin", "", 404,
       "ResourceNotFound"},
      {"no such collection", "GET", "/app/transactions/current?collectionId=none", "admin", "", 404,
       "ResourceNotFound"},
      {"user id not a fingerprint", "GET", "/app/users/alice", "admin", "", 400, "InvalidInput"},
      {"unknown path", "GET", "/app/nothing-here", "admin", "", 404, "ResourceNotFound"},
      {"collection over 256 bytes", "POST",
       "/app/transactions?collectionId=" + std::string(257, 'c'), "admin", R"({"contents":"x"})",
       400, "InvalidInput"},
      {"collection that is not UTF-8", "POST", "/app/transactions?collectionId=%FF%FE", "admin",
       R"({"contents":"x"})", 400, "InvalidInput"},
      {"a user with no role", "POST", "/app/transactions?collectionId=norole", "stranger",
       R"({"contents":"x"})", 403, "AuthorizationFailed"},
      {"a Reader making itself Administrator", "PATCH",
       "/app/users/" + cluster_->pki().UserId("reader"), "reader",
       R"({"assignedRole":"Administrator"})", 403, "AuthorizationFailed"},
      {"transaction of a term never held", "GET", "/app/transactions/7.1", "admin", "", 404,
       "ResourceNotFound"},
      {"negative index", "GET", "/app/transactions/3.-1", "admin", "", 400, "InvalidInput"},
  };
  for (uint64_t node : {1, 2}) {  // the leader and a follower, or two followers
    for (const Case& c : cases) {
      const HttpReply r = Curl(node, c.method, c.target, c.user, c.body);
      EXPECT_EQ(r.status, c.status) << c.name << " via node " << node << ": " << r.body << r.err;
      EXPECT_EQ(r.ErrorCode(), c.code) << c.name << ": " << r.body;
      EXPECT_FALSE(r.Json()["error"].value("message", "").empty()) << c.name;
    }
  }
  // Compressed bodies are refused before they are read (they would inflate
  // past the body limit), and so is a body nested deeper than any request.
  const HttpReply gzip = Curl(1, "POST", "/app/transactions?collectionId=zipped", "admin",
                              R"({"contents":"x"})", {"Content-Encoding: gzip"});
  EXPECT_EQ(gzip.status, 415) << gzip.body;
  EXPECT_EQ(gzip.ErrorCode(), "UnsupportedContentType") << gzip.body;
  const HttpReply deep =
      Curl(1, "POST", "/app/transactions?collectionId=deep", "admin",
           R"({"contents":"x","x":)" + std::string(10000, '[') + std::string(10000, ']') + "}");
  EXPECT_EQ(deep.status, 400) << deep.body;
  EXPECT_EQ(deep.ErrorCode(), "InvalidInput") << deep.body;
  // A user id with colons anywhere but between pairs.
  std::string misplaced = std::string(63, 'a') + ":a";
  EXPECT_EQ(Curl(1, "GET", "/app/users/" + misplaced).status, 400);
  // A limit other than the entry size is the request's fault, not its size.
  const HttpReply long_key =
      Curl(1, "POST", "/app/transactions?collectionId=keyed", "admin", R"({"contents":"x"})",
           {"Idempotency-Key: " + std::string(200, 'k')});
  EXPECT_EQ(long_key.status, 400) << long_key.body;
  EXPECT_EQ(long_key.ErrorCode(), "InvalidInput") << long_key.body;
  // A certificate from another CA fails the handshake.
  const HttpReply foreign =
      Curl(1, "POST", "/app/transactions?collectionId=foreign", "foreign", R"({"contents":"x"})");
  EXPECT_NE(foreign.curl_exit, 0);
  EXPECT_EQ(foreign.status, 0);
  // Plain HTTP is not served.
  const CommandResult plain =
      RunCommand({kCurl, "-sS", "--max-time", "10", "http://" + rest_[1] + "/app/collections"});
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_THAT(Collections(), ::testing::ElementsAre("orders"));
  // Collections() leaves out reserved ones: ask for each refused one.
  for (const std::string& refused :
       {std::string("cairn.x"), std::string("big"), std::string("empty"), std::string("bad"),
        std::string("anon"), std::string("old"), std::string("norole"), std::string("keyed"),
        std::string("foreign"), std::string("zipped"), std::string("deep")}) {
    EXPECT_EQ(Curl(1, "GET", "/app/transactions/current?collectionId=" + refused).status, 404)
        << refused;
  }
}

}  // namespace
}  // namespace cairn::testing
