// Archive URLs and object names (see archive_store.h).
#include "cairn/storage/archive_store.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "stores.h"

namespace cairn::storage {
namespace {

constexpr size_t kNameBytesMax = 512;

bool NameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

// '/'-separated parts of NameChar, none empty, "." or "..". `what` names
// the thing checked in the error.
absl::Status ValidatePath(absl::string_view path, absl::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (path.size() > kNameBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " \"", path, "\" is longer than ", kNameBytesMax, " characters"));
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " \"", path, "\" has an empty, \".\" or \"..\" part between its slashes"));
    }
    for (const char c : part) {
      if (!NameChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " \"", path, "\" holds '", std::string(1, c),
                         "'; only letters, digits, '.', '_', '-' and '/' are allowed"));
      }
    }
  }
  return absl::OkStatus();
}

// S3's bucket naming rules: 3 to 63 of [a-z0-9.-], starting and ending
// with a letter or digit.
bool ValidBucket(absl::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (const char c : b) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return false;
    }
  }
  return absl::ascii_isalnum(static_cast<unsigned char>(b.front())) &&
         absl::ascii_isalnum(static_cast<unsigned char>(b.back()));
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenS3(std::string url, absl::string_view rest,
                                                     const S3StoreOptions& s3) {
  const size_t slash = rest.find('/');
  const std::string bucket(rest.substr(0, slash));
  std::string prefix(slash == absl::string_view::npos ? "" : rest.substr(slash + 1));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!ValidBucket(bucket)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "archive URL ", url, ": \"", bucket,
        "\" is not a valid bucket name (3 to 63 of a-z, 0-9, '.' and '-', starting and ending "
        "with a letter or digit)"));
  }
  if (!prefix.empty()) {
    if (absl::Status s = ValidatePath(prefix, absl::StrCat("the prefix of archive URL ", url));
        !s.ok()) {
      return s;
    }
    prefix += "/";
  }
  S3ClientOptions client;
  client.bucket = bucket;
  client.region = s3.region;
  if (client.region.empty()) client.region = Env("AWS_REGION");
  if (client.region.empty()) client.region = Env("AWS_DEFAULT_REGION");
  if (client.region.empty()) client.region = "us-east-1";
  client.endpoint = s3.endpoint;
  if (client.endpoint.empty()) {
    client.endpoint = absl::StrCat("https://s3.", client.region, ".amazonaws.com");
  }
  if (!absl::StartsWith(client.endpoint, "http://") &&
      !absl::StartsWith(client.endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("S3 endpoint \"", client.endpoint, "\" must start with http:// or https://"));
  }
  client.path_style = s3.path_style;
  client.ca_file = s3.ca_file;
  client.connect_timeout_ms = s3.connect_timeout_ms;
  client.request_timeout_ms = s3.request_timeout_ms;
  absl::StatusOr<S3Credentials> credentials = LoadS3Credentials(
      s3.credentials_file, s3.profile, &client.credentials_file, &client.credentials_profile);
  if (!credentials.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive ", url, ": ", credentials.status().message()));
  }
  client.credentials = *std::move(credentials);
  return internal::MakeS3Store(std::move(url), std::move(client), std::move(prefix));
}

}  // namespace

absl::Status ValidateArchiveObjectName(absl::string_view name) {
  return ValidatePath(name, "archive object name");
}

absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenArchiveStore(absl::string_view url,
                                                               const S3StoreOptions& s3) {
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "file://")) {
    if (!absl::StartsWith(rest, "/")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "archive URL ", url, ": file:// needs an absolute path (file:///srv/cairn-archive)"));
    }
    std::string root(rest);
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    return internal::MakeFileStore(std::string(url), std::move(root));
  }
  if (absl::ConsumePrefix(&rest, "s3://")) return OpenS3(std::string(url), rest, s3);
  return absl::InvalidArgumentError(
      absl::StrCat("archive URL \"", url, "\": expected file:///PATH or s3://BUCKET[/PREFIX]"));
}

}  // namespace cairn::storage
