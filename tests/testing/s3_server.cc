// Starting versitygw for tests (see s3_server.h).
#include "testing/s3_server.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cairn/storage/s3_client.h"

namespace cairn::testing {
namespace {

storage::S3ClientOptions ClientOptions(const S3Server& server, const std::string& bucket) {
  storage::S3ClientOptions o;
  o.endpoint = server.endpoint();
  o.region = "us-east-1";
  o.bucket = bucket;
  o.path_style = true;
  o.credentials = {server.access_key(), server.secret_key(), ""};
  o.connect_timeout_ms = 1000;
  o.request_timeout_ms = 5000;
  return o;
}

}  // namespace

S3Server::S3Server(std::string dir) : dir_(std::move(dir)), port_(PickFreePort()) {}

S3Server::~S3Server() = default;

absl::Status S3Server::Start() {
  const char* bin = std::getenv("CAIRN_VERSITYGW");
  if (bin == nullptr || !std::filesystem::exists(bin)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the S3 test server (versitygw) is not at ",
        bin == nullptr ? "(CAIRN_VERSITYGW unset)" : bin, "; run scripts/install-deps.sh"));
  }
  std::filesystem::create_directories(dir_ + "/root");
  process_ = std::make_unique<Subprocess>();
  if (absl::Status s =
          process_->Start({bin, "--access", access_key_, "--secret", secret_key_, "--port",
                           absl::StrCat("127.0.0.1:", port_), "posix", dir_ + "/root"},
                          dir_ + "/versitygw.log");
      !s.ok()) {
    return s;
  }
  storage::S3Client client(ClientOptions(*this, "cairn-probe"));
  absl::Status ready =
      PollUntil([&] { return !process_->Running() || client.Send("HEAD", "", "").ok(); },
                std::chrono::seconds(30), "versitygw to answer on " + endpoint());
  if (!process_->Running()) {
    return absl::InternalError(
        absl::StrCat("versitygw exited at start: ", ReadFileOrEmpty(dir_ + "/versitygw.log")));
  }
  return ready;
}

void S3Server::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->Wait(std::chrono::seconds(10));
  process_.reset();
}

absl::Status S3Server::CreateBucket(const std::string& bucket) {
  storage::S3Client client(ClientOptions(*this, bucket));
  absl::StatusOr<storage::S3Response> r = client.Send("PUT", "", "");
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::InternalError(
        absl::StrCat("creating bucket ", bucket, ": ", storage::S3ErrorText(*r)));
  }
  return absl::OkStatus();
}

std::string S3Server::ObjectPath(const std::string& bucket, const std::string& key) const {
  return absl::StrCat(dir_, "/root/", bucket, "/", key);
}

}  // namespace cairn::testing
