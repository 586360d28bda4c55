// Signed S3 requests on libcurl (see s3_client.h).
#include "cairn/storage/s3_client.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cairn/base/check.h"
#include "cairn/base/clock.h"
#include "cairn/base/files.h"
#include "cairn/ledger/hash.h"

namespace cairn::storage {
namespace {

constexpr uint64_t kCredentialsFileBytesMax = 1 << 20;

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// The [profile] section of an AWS shared credentials file. AWS's own tools
// accept "[profile NAME]" in the config file only; the credentials file
// names profiles bare, as here.
absl::StatusOr<S3Credentials> ReadCredentialsFile(const std::string& path,
                                                  const std::string& profile) {
  absl::StatusOr<std::string> text = base::ReadFileToString(path, kCredentialsFileBytesMax);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the S3 credentials file: ", text.status().message()));
  }
  S3Credentials out;
  bool in_profile = false;
  bool found = false;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      in_profile = absl::StripAsciiWhitespace(line.substr(1, line.size() - 2)) == profile;
      found = found || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key == "aws_access_key_id") out.access_key_id = value;
    if (key == "aws_secret_access_key") out.secret_access_key = value;
    if (key == "aws_session_token") out.session_token = value;
  }
  if (!found) {
    return absl::InvalidArgumentError(
        absl::StrCat("the S3 credentials file ", path, " has no profile [", profile, "]"));
  }
  if (out.access_key_id.empty() || out.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile [", profile, "] in the S3 credentials file ", path,
                     " lacks aws_access_key_id or aws_secret_access_key"));
  }
  return out;
}

// Percent-encodes everything but RFC 3986's unreserved characters and '/':
// S3's canonical URI for a key (encoded once).
std::string EncodeKey(absl::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (const char ch : key) {
    const auto c = static_cast<unsigned char>(ch);
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { CAIRN_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK); });
}

struct Upload {
  absl::string_view rest;
};

size_t ReadBody(char* out, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  const size_t take = std::min(size * n, up->rest.size());
  std::copy_n(up->rest.data(), take, out);
  up->rest.remove_prefix(take);
  return take;
}

size_t WriteBody(char* in, size_t size, size_t n, void* user) {
  static_cast<S3Response*>(user)->body.append(in, size * n);
  return size * n;
}

size_t WriteHeader(char* in, size_t size, size_t n, void* user) {
  const absl::string_view line(in, size * n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    static_cast<S3Response*>(user)->headers[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

// The text between <Tag> and </Tag>, or empty.
std::string XmlField(absl::string_view xml, absl::string_view tag) {
  const std::string open = absl::StrCat("<", tag, ">");
  const size_t start = xml.find(open);
  if (start == absl::string_view::npos) return "";
  const size_t end = xml.find(absl::StrCat("</", tag, ">"), start);
  if (end == absl::string_view::npos) return "";
  return std::string(xml.substr(start + open.size(), end - start - open.size()));
}

}  // namespace

absl::StatusOr<S3Credentials> LoadS3Credentials(const std::string& credentials_file,
                                                const std::string& profile_flag,
                                                std::string* source_file,
                                                std::string* source_profile) {
  std::string profile = profile_flag;
  if (profile.empty()) profile = Getenv("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  auto from_file = [&](const std::string& file) {
    if (source_file != nullptr) *source_file = file;
    if (source_profile != nullptr) *source_profile = profile;
    return ReadCredentialsFile(file, profile);
  };
  if (!credentials_file.empty()) return from_file(credentials_file);
  S3Credentials env{Getenv("AWS_ACCESS_KEY_ID"), Getenv("AWS_SECRET_ACCESS_KEY"),
                    Getenv("AWS_SESSION_TOKEN")};
  if (!env.access_key_id.empty() && !env.secret_access_key.empty()) return env;
  if (!env.access_key_id.empty() || !env.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        "S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  std::string file = Getenv("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !Getenv("HOME").empty()) file = Getenv("HOME") + "/.aws/credentials";
  if (file.empty() || !base::ReadFileToString(file, kCredentialsFileBytesMax).ok()) {
    return absl::InvalidArgumentError(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give a "
        "credentials file (its option, AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)");
  }
  return from_file(file);
}

namespace {

// The file's modification time in nanoseconds; 0 if it cannot be read.
int64_t MtimeNs(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)) {
  InitCurlOnce();
  curl_ = curl_easy_init();
  CAIRN_CHECK(curl_ != nullptr) << "curl_easy_init failed";
  absl::MutexLock lock(&mu_);
  credentials_ = options_.credentials;
  if (!options_.credentials_file.empty()) {
    credentials_mtime_ns_ = MtimeNs(options_.credentials_file);
  }
}

std::string S3Client::access_key_id() const {
  absl::MutexLock lock(&mu_);
  return credentials_.access_key_id;
}

void S3Client::RefreshCredentials() {
  if (options_.credentials_file.empty()) return;
  const int64_t now_ms = base::NowUnixMs();
  if (now_ms - credentials_checked_ms_ < 1000) return;
  credentials_checked_ms_ = now_ms;
  const int64_t mtime = MtimeNs(options_.credentials_file);
  if (mtime == 0 || mtime == credentials_mtime_ns_) return;
  absl::StatusOr<S3Credentials> fresh =
      ReadCredentialsFile(options_.credentials_file, options_.credentials_profile);
  if (!fresh.ok()) return;  // half written, or broken: keep what works; look again later
  credentials_ = *std::move(fresh);
  credentials_mtime_ns_ = mtime;
}

S3Client::~S3Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::string S3Client::UrlOf(absl::string_view key) const {
  absl::string_view endpoint = absl::StripSuffix(options_.endpoint, "/");
  if (options_.path_style) {
    return absl::StrCat(endpoint, "/", options_.bucket, key.empty() ? "" : "/", EncodeKey(key));
  }
  const size_t scheme_end = endpoint.find("://");
  CAIRN_CHECK(scheme_end != absl::string_view::npos) << "S3 endpoint without scheme: " << endpoint;
  return absl::StrCat(endpoint.substr(0, scheme_end + 3), options_.bucket, ".",
                      endpoint.substr(scheme_end + 3), "/", EncodeKey(key));
}

absl::StatusOr<S3Response> S3Client::Send(absl::string_view method, absl::string_view key,
                                          absl::string_view body,
                                          const std::vector<std::string>& headers) {
  const std::string url = UrlOf(key);
  const std::string sigv4 = absl::StrCat("aws:amz:", options_.region, ":s3");
  std::vector<std::string> all = headers;
  all.push_back(absl::StrCat("x-amz-content-sha256: ", ledger::HashToHex(ledger::Sha256(body))));
  absl::MutexLock lock(&mu_);
  RefreshCredentials();
  if (!credentials_.session_token.empty()) {
    all.push_back(absl::StrCat("x-amz-security-token: ", credentials_.session_token));
  }
  if (!options_.amz_date.empty()) all.push_back(absl::StrCat("x-amz-date: ", options_.amz_date));
  curl_slist* list = nullptr;
  for (const std::string& h : all) list = curl_slist_append(list, h.c_str());
  curl_slist* connect_to = nullptr;
  if (!options_.connect_to.empty()) {
    connect_to = curl_slist_append(nullptr, options_.connect_to.c_str());
  }

  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);
  S3Response response;
  Upload upload{body};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(c, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (connect_to != nullptr) curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  if (method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    CAIRN_CHECK(method == "GET") << "S3Client: unsupported method " << method;
  }
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_slist_free_all(connect_to);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("S3 ", method, " ", url, " failed: ", curl_easy_strerror(rc)));
  }
  response.status = status;
  return response;
}

std::string S3ErrorText(const S3Response& response) {
  const std::string code = XmlField(response.body, "Code");
  const std::string message = XmlField(response.body, "Message");
  if (code.empty()) return absl::StrCat("HTTP ", response.status);
  return absl::StrCat("HTTP ", response.status, " ", code, message.empty() ? "" : ": ", message);
}

}  // namespace cairn::storage
