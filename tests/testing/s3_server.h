// A real S3-compatible server for tests: versitygw (built by
// scripts/install-deps.sh into build/tools/) serving a directory of its own
// on a free loopback port, with credentials made up for the test. Tests of
// the s3:// archive store talk to it as they would to any S3 endpoint.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "testing/process.h"

namespace cairn::testing {

class S3Server {
 public:
  // `dir`: where the server keeps its buckets (ROOT/BUCKET/KEY) and its log.
  explicit S3Server(std::string dir);
  ~S3Server();

  // Starts the server (the binary named by CAIRN_VERSITYGW, which CTest
  // sets) and waits until it answers. FailedPrecondition naming
  // install-deps.sh when the binary is missing.
  absl::Status Start();
  // SIGKILL: the store becomes unreachable (an outage); Start() again
  // brings it back on the same port with the same data.
  void Kill();

  // Creates `bucket` through the S3 API.
  absl::Status CreateBucket(const std::string& bucket);

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  // The file that holds object KEY of BUCKET (to damage it behind the
  // server's back).
  std::string ObjectPath(const std::string& bucket, const std::string& key) const;

 private:
  const std::string dir_;
  const int port_;
  const std::string access_key_ = "cairn-test-key";
  const std::string secret_key_ = "cairn-test-secret-0123456789";
  std::unique_ptr<Subprocess> process_;
};

}  // namespace cairn::testing
