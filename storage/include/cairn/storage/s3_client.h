// Signed requests to an S3-compatible object store, on libcurl. libcurl
// computes the AWS Signature Version 4 (CURLOPT_AWS_SIGV4); this class gives
// it what SigV4 for S3 needs and libcurl does not do by itself:
//
//   - x-amz-content-sha256, the hex SHA-256 of the body, on every request
//     (S3 refuses a request without it; the server checks the body against
//     it, so an upload damaged in transit is refused);
//   - the object key URI-encoded once, '/' kept (the canonical URI S3
//     expects); the request line carries it encoded the same way;
//   - no query string at all: the archive needs none, so canonical query
//     order never arises;
//   - x-amz-security-token for temporary credentials.
//
// tests/unit/storage/s3_signing_test.cc checks the result against AWS's
// published SigV4 examples for S3, byte for byte.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace cairn::storage {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

// Finds credentials: `credentials_file` (profile `profile`) when given;
// else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
// else AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials. An empty `profile`
// means AWS_PROFILE, then "default". InvalidArgument naming the file, the
// profile or the missing variable when none is found.
// When the credentials came from a file, `source_file` (if given) is set
// to its path and `source_profile` to the profile read (else both empty).
absl::StatusOr<S3Credentials> LoadS3Credentials(const std::string& credentials_file,
                                                const std::string& profile,
                                                std::string* source_file = nullptr,
                                                std::string* source_profile = nullptr);

struct S3ClientOptions {
  std::string endpoint;  // "http[s]://host[:port]", no path
  std::string region;
  std::string bucket;
  bool path_style = false;
  std::string ca_file;  // empty: the system's CA certificates
  S3Credentials credentials;
  // Where `credentials` came from, if a file: it is read again when it
  // changes (looked at before a request, at most once a second), so
  // temporary credentials a sidecar rotates there are picked up. A file that
  // cannot be read or parsed then keeps the credentials in use.
  std::string credentials_file;
  std::string credentials_profile;
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 60000;
  // Sends requests for HOST:PORT to ADDR:PORT2 instead ("HOST:PORT:ADDR:PORT2",
  // as curl's --connect-to): an endpoint whose name does not resolve here.
  std::string connect_to;
  // Signs as of this time ("YYYYMMDDTHHMMSSZ") instead of now: for checking
  // signatures against published examples.
  std::string amz_date;
};

struct S3Response {
  long status = 0;                             // HTTP status
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// One connection, reused; requests are serialized (thread-safe).
class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends `method` ("GET", "HEAD" or "PUT") for `key` (no leading '/'; empty
  // for the bucket itself) with `body` (PUT) and `headers` ("Name: value",
  // signed with the rest). Unavailable naming the URL when the store cannot
  // be reached or the transfer fails; any HTTP answer is returned as is.
  absl::StatusOr<S3Response> Send(absl::string_view method, absl::string_view key,
                                  absl::string_view body,
                                  const std::vector<std::string>& headers = {})
      ABSL_LOCKS_EXCLUDED(mu_);

  // The URL `key` is sent to.
  std::string UrlOf(absl::string_view key) const;
  const S3ClientOptions& options() const { return options_; }
  // The access key id requests are signed with now (for error messages).
  std::string access_key_id() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Reads the credentials file again if it changed since the last look.
  void RefreshCredentials() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const S3ClientOptions options_;
  mutable absl::Mutex mu_;
  void* curl_ ABSL_GUARDED_BY(mu_);  // CURL*, kept out of this header
  S3Credentials credentials_ ABSL_GUARDED_BY(mu_);
  int64_t credentials_mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t credentials_checked_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

// "Code: Message" from an S3 XML error body, or the HTTP status when the
// body holds no error document.
std::string S3ErrorText(const S3Response& response);

}  // namespace cairn::storage
