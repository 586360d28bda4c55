// The S3 client's requests, signed by libcurl, against AWS's published
// Signature Version 4 examples for S3 ("Examples: Signature Calculations in
// AWS Signature Version 4", Amazon S3 API reference): same credentials,
// date, host and headers must give the published signature byte for byte.
// The requests go to a loopback server that records them (connect_to), so
// nothing leaves the machine; the host name is the example's.
#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "cairn/ledger/hash.h"
#include "cairn/storage/s3_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/process.h"

namespace cairn::storage {
namespace {

using ::testing::HasSubstr;

// The example's credentials and date (not real keys).
constexpr char kKeyId[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kDate[] = "20130524T000000Z";

// Records the headers of every request it gets.
class Recorder {
 public:
  Recorder() : port_(cairn::testing::PickFreePort()) {
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      path_ = req.target;  // as sent, not decoded
      body_ = req.body;
      headers_ = req.headers;
      res.status = 200;
    };
    server_.Get(".*", record);
    server_.Put(".*", record);
    thread_ = std::thread([this] { server_.listen("127.0.0.1", port_); });
    EXPECT_TRUE(cairn::testing::PollUntil([this] { return server_.is_running(); },
                                          std::chrono::seconds(10), "the recorder to listen")
                    .ok());
  }
  ~Recorder() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::string header(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }
  std::string path() {
    std::lock_guard<std::mutex> lock(mu_);
    return path_;
  }
  std::string body() {
    std::lock_guard<std::mutex> lock(mu_);
    return body_;
  }

 private:
  const int port_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::string path_;
  std::string body_;
  std::multimap<std::string, std::string, httplib::detail::ci> headers_;
};

S3ClientOptions ExampleOptions(const Recorder& recorder) {
  S3ClientOptions o;
  o.endpoint = "http://s3.amazonaws.com";
  o.region = "us-east-1";
  o.bucket = "examplebucket";
  o.path_style = false;  // the examples use virtual-hosted style
  o.credentials = {kKeyId, kSecret, ""};
  o.connect_to = "examplebucket.s3.amazonaws.com:80:127.0.0.1:" + std::to_string(recorder.port());
  o.amz_date = kDate;
  return o;
}

// Example "GET Object": GET /test.txt with a Range header.
TEST(S3SigningTest, GetObjectMatchesThePublishedExample) {
  Recorder recorder;
  S3Client client(ExampleOptions(recorder));
  absl::StatusOr<S3Response> r = client.Send("GET", "test.txt", "", {"Range: bytes=0-9"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(recorder.path(), "/test.txt");
  EXPECT_EQ(recorder.header("Host"), "examplebucket.s3.amazonaws.com");
  EXPECT_EQ(recorder.header("x-amz-content-sha256"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(recorder.header("Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

// Example "PUT Object": a key holding '$', which the canonical URI (and the
// request line) carry encoded once as %24; the body's SHA-256 is signed.
TEST(S3SigningTest, PutObjectMatchesThePublishedExample) {
  Recorder recorder;
  S3Client client(ExampleOptions(recorder));
  absl::StatusOr<S3Response> r = client.Send(
      "PUT", "test$file.text", "Welcome to Amazon S3.",
      {"Date: Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class: REDUCED_REDUNDANCY"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(recorder.body(), "Welcome to Amazon S3.");
  EXPECT_EQ(recorder.header("x-amz-content-sha256"),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(recorder.header("Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
            "x-amz-storage-class, "
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

// The checks above fail when the signing goes wrong: the same GET with
// another secret, or another key spelling, gives another signature.
TEST(S3SigningTest, AnyChangeChangesTheSignature) {
  Recorder recorder;
  S3ClientOptions o = ExampleOptions(recorder);
  o.credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEX";
  S3Client client(o);
  ASSERT_TRUE(client.Send("GET", "test.txt", "", {"Range: bytes=0-9"}).ok());
  EXPECT_THAT(recorder.header("Authorization"), HasSubstr("Signature="));
  EXPECT_THAT(recorder.header("Authorization"),
              ::testing::Not(HasSubstr("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd")));
  S3Client good(ExampleOptions(recorder));
  ASSERT_TRUE(good.Send("GET", "test%2etxt", "", {"Range: bytes=0-9"}).ok());
  EXPECT_EQ(recorder.path(), "/test%252etxt");  // '%' itself is encoded: keys are not URLs
  EXPECT_THAT(recorder.header("Authorization"),
              ::testing::Not(HasSubstr("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd")));
}

TEST(S3SigningTest, PathStyleAndSessionToken) {
  Recorder recorder;
  S3ClientOptions o = ExampleOptions(recorder);
  o.path_style = true;
  o.endpoint = "http://127.0.0.1:" + std::to_string(recorder.port());
  o.connect_to.clear();
  o.credentials.session_token = "token-1";
  S3Client client(o);
  EXPECT_EQ(client.UrlOf("a/b c"), o.endpoint + "/examplebucket/a/b%20c");
  ASSERT_TRUE(client.Send("GET", "a/b c", "").ok());
  EXPECT_EQ(recorder.path(), "/examplebucket/a/b%20c");
  EXPECT_EQ(recorder.header("x-amz-security-token"), "token-1");
  EXPECT_THAT(recorder.header("Authorization"), HasSubstr("x-amz-security-token"));
}

}  // namespace
}  // namespace cairn::storage
