// The archive store contract (storage/archive_store.h), one suite run
// against both backends: file:// on a temporary directory, and s3:// on a
// real S3-compatible server (versitygw) started on loopback with a bucket
// of its own. Every bad input and fault gets a clear error naming the
// object or the store, and writes nothing.
#include "cairn/storage/archive_store.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/hash.h"
#include "cairn/storage/s3_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/process.h"
#include "testing/s3_server.h"
#include "testing/temp_dir.h"

namespace cairn::storage {
namespace {

using ::testing::HasSubstr;

constexpr char kBucket[] = "cairn-archive";
constexpr char kPrefix[] = "region-b/ledger-1";

enum class Backend { kFile, kS3 };

std::string Name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kFile ? "File" : "S3";
}

void Overwrite(const std::string& path, const std::string& bytes) {
  ::chmod(path.c_str(), 0644);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class ArchiveStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kS3) {
      server_ = std::make_unique<cairn::testing::S3Server>(dir_.path() + "/s3");
      const absl::Status started = server_->Start();
      ASSERT_TRUE(started.ok()) << started;
      ASSERT_TRUE(server_->CreateBucket(kBucket).ok());
    }
    store_ = Open(Url());
    ASSERT_TRUE(store_->Check().ok()) << store_->Check();
  }

  std::string Url() const {
    return GetParam() == Backend::kFile ? "file://" + dir_.path() + "/archive"
                                        : absl::StrCat("s3://", kBucket, "/", kPrefix);
  }

  S3StoreOptions S3Options() const {
    S3StoreOptions o;
    if (server_ == nullptr) return o;
    o.endpoint = server_->endpoint();
    o.path_style = true;
    o.region = "us-east-1";
    o.credentials_file = dir_.path() + "/credentials";
    std::ofstream(o.credentials_file)
        << "[default]\naws_access_key_id = " << server_->access_key()
        << "\naws_secret_access_key = " << server_->secret_key() << "\n";
    o.connect_timeout_ms = 1000;
    o.request_timeout_ms = 5000;
    return o;
  }

  std::unique_ptr<ArchiveStore> Open(const std::string& url, S3StoreOptions o) const {
    absl::StatusOr<std::unique_ptr<ArchiveStore>> s = OpenArchiveStore(url, o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }
  std::unique_ptr<ArchiveStore> Open(const std::string& url) const {
    return Open(url, S3Options());
  }

  // Where object `name` lives on disk (the file, or versitygw's file).
  std::string PathOf(const std::string& name) const {
    return GetParam() == Backend::kFile
               ? dir_.path() + "/archive/" + name
               : server_->ObjectPath(kBucket, absl::StrCat(kPrefix, "/", name));
  }

  cairn::testing::TempDir dir_;
  std::unique_ptr<cairn::testing::S3Server> server_;
  std::unique_ptr<ArchiveStore> store_;
};

TEST_P(ArchiveStoreTest, PutGetStatRoundTrip) {
  const std::string bytes("segment bytes\0with a zero", 25);
  ASSERT_TRUE(store_->Put("segments/segment-1-10.cseg", bytes).ok());
  absl::StatusOr<std::string> got = store_->Get("segments/segment-1-10.cseg");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, bytes);
  absl::StatusOr<ArchiveObjectInfo> info = store_->Stat("segments/segment-1-10.cseg");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, bytes.size());
  EXPECT_EQ(info->sha256_hex, ledger::HashToHex(ledger::Sha256(bytes)));
  // A large one (curl asks the server with Expect: 100-continue first).
  std::string large(3 << 20, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7919 % 251);
  ASSERT_TRUE(store_->Put("segments/large", large).ok());
  EXPECT_EQ(store_->Get("segments/large").value_or(""), large);
  // An empty object is an object too.
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(store_->Get("empty").value_or("x"), "");
}

TEST_P(ArchiveStoreTest, PutIsIdempotentAndNeverOverwrites) {
  ASSERT_TRUE(store_->Put("a/b", "first").ok());
  // The same bytes again (a retry after a crash): fine, nothing changes.
  EXPECT_TRUE(store_->Put("a/b", "first").ok());
  // Other bytes under the same name: refused, naming the object.
  absl::Status s = store_->Put("a/b", "second");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("a/b"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("never overwritten"));
  EXPECT_EQ(store_->Get("a/b").value_or(""), "first");
}

TEST_P(ArchiveStoreTest, ReplaceChangesTheMutableObject) {
  ASSERT_TRUE(store_->Replace("latest", "one").ok());
  EXPECT_EQ(store_->Get("latest").value_or(""), "one");
  ASSERT_TRUE(store_->Replace("latest", "two").ok());
  EXPECT_EQ(store_->Get("latest").value_or(""), "two");
}

TEST_P(ArchiveStoreTest, MissingObjectIsNotFound) {
  absl::StatusOr<std::string> got = store_->Get("manifests/nothing");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("manifests/nothing"));
  EXPECT_EQ(store_->Stat("manifests/nothing").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(ArchiveStoreTest, BadNamesAreRefusedAndWriteNothing) {
  const std::vector<std::string> names = {"",   "/abs",   "a//b", "a/../b", "./a",
                                          "a/", "sp ace", "q?x",  "pct%41", std::string(600, 'x')};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    absl::Status s = store_->Put(name, "x");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(store_->Get(name).status().code(), absl::StatusCode::kInvalidArgument);
  }
  if (GetParam() == Backend::kFile) {
    EXPECT_TRUE(std::filesystem::is_empty(dir_.path() + "/archive"));
  } else {
    EXPECT_FALSE(std::filesystem::exists(server_->ObjectPath(kBucket, kPrefix)));
  }
}

TEST_P(ArchiveStoreTest, FlippedByteIsDataLossNamingTheObject) {
  const std::string bytes(4096, 'a');
  ASSERT_TRUE(store_->Put("segments/s1", bytes).ok());
  std::string damaged = bytes;
  damaged[1000] ^= 0x01;
  Overwrite(PathOf("segments/s1"), damaged);
  absl::StatusOr<std::string> got = store_->Get("segments/s1");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("segments/s1"));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("damaged"));
  // A Put of the original bytes does not paper over the damage.
  absl::Status again = store_->Put("segments/s1", bytes);
  EXPECT_EQ(again.code(), absl::StatusCode::kDataLoss) << again;
}

TEST_P(ArchiveStoreTest, TruncatedObjectIsDataLoss) {
  ASSERT_TRUE(store_->Put("s2", std::string(1000, 'b')).ok());
  Overwrite(PathOf("s2"), std::string(999, 'b'));
  EXPECT_EQ(store_->Get("s2").status().code(), absl::StatusCode::kDataLoss);
}

TEST_P(ArchiveStoreTest, ObjectWithoutDigestIsDataLoss) {
  if (GetParam() == Backend::kFile) {
    ASSERT_TRUE(store_->Put("nodigest", "x").ok());
    ASSERT_EQ(::unlink((PathOf("nodigest") + ".sha256").c_str()), 0);
  } else {
    // Written by another tool, without x-amz-meta-sha256.
    S3StoreOptions o = S3Options();
    S3ClientOptions c;
    c.endpoint = o.endpoint;
    c.region = "us-east-1";
    c.bucket = kBucket;
    c.path_style = true;
    c.credentials = {server_->access_key(), server_->secret_key(), ""};
    S3Client client(c);
    absl::StatusOr<S3Response> r = client.Send("PUT", absl::StrCat(kPrefix, "/nodigest"), "x");
    ASSERT_TRUE(r.ok() && r->status == 200);
  }
  absl::StatusOr<std::string> got = store_->Get("nodigest");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("carries no SHA-256"));
}

TEST_P(ArchiveStoreTest, BadUrlsAreRefused) {
  for (const char* url : {"ftp://x/y", "file://relative/path", "s3://A_B/x", "s3://ab",
                          "s3://bucket-ok/bad prefix", "/plain/path"}) {
    SCOPED_TRACE(url);
    absl::StatusOr<std::unique_ptr<ArchiveStore>> s = OpenArchiveStore(url, S3Options());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  }
  S3StoreOptions o = S3Options();
  o.endpoint = "127.0.0.1:9";
  EXPECT_EQ(OpenArchiveStore("s3://bucket-ok/x", o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(ArchiveStoreTest, UnusableStoreIsNamed) {
  if (GetParam() == Backend::kFile) {
    auto missing = Open("file://" + dir_.path() + "/no/such/dir");
    absl::Status s = missing->Check();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("mounted"));
    return;
  }
  // A bucket that does not exist.
  auto no_bucket = Open("s3://no-such-bucket/x");
  absl::Status s = no_bucket->Check();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("bucket no-such-bucket does not exist"));
  s = no_bucket->Put("obj", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  // Wrong credentials.
  S3StoreOptions o = S3Options();
  std::ofstream(o.credentials_file) << "[default]\naws_access_key_id = " << server_->access_key()
                                    << "\naws_secret_access_key = wrong-secret\n";
  auto wrong = Open(Url(), o);
  s = wrong->Put("obj", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(server_->access_key()));
  EXPECT_EQ(store_->Stat("obj").status().code(), absl::StatusCode::kNotFound);
  // The credentials file rewritten (as a sidecar rotating temporary
  // credentials does): the open store picks the new ones up.
  std::ofstream(o.credentials_file, std::ios::trunc)
      << "[default]\naws_access_key_id = " << server_->access_key()
      << "\naws_secret_access_key = " << server_->secret_key() << "\n";
  ASSERT_TRUE(cairn::testing::PollUntil([&] { return wrong->Put("obj", "x").ok(); },
                                        std::chrono::seconds(10),
                                        "the store to sign with the rewritten credentials")
                  .ok());
  EXPECT_TRUE(store_->Stat("obj").ok());
  // A missing profile or no credentials at all.
  o.profile = "nope";
  EXPECT_EQ(OpenArchiveStore(Url(), o).status().code(), absl::StatusCode::kInvalidArgument);
  // The store down: Unavailable naming the endpoint; back up: works again.
  server_->Kill();
  s = store_->Put("during-outage", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(server_->endpoint()));
  ASSERT_TRUE(server_->Start().ok());
  EXPECT_TRUE(store_->Put("during-outage", "x").ok());
  EXPECT_EQ(store_->Get("during-outage").value_or(""), "x");
}

// A directory that vanished (an unmounted volume) is not silently made
// again: writes fail until it is back.
TEST_P(ArchiveStoreTest, VanishedDirectoryIsNotRecreated) {
  if (GetParam() != Backend::kFile) GTEST_SKIP() << "file:// only";
  ASSERT_TRUE(store_->Put("a", "x").ok());
  std::filesystem::rename(dir_.path() + "/archive", dir_.path() + "/unmounted");
  absl::Status s = store_->Put("segments/b", "y");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("mounted"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/archive"));
  std::filesystem::rename(dir_.path() + "/unmounted", dir_.path() + "/archive");
  EXPECT_TRUE(store_->Put("segments/b", "y").ok());
}

// A crash of the file store between its two files leaves the digest file
// alone; the next Put of that name completes it.
TEST_P(ArchiveStoreTest, InterruptedPutIsCompletedByTheNext) {
  if (GetParam() != Backend::kFile) GTEST_SKIP() << "file:// only: S3 uploads are atomic";
  std::filesystem::create_directories(dir_.path() + "/archive/segments");
  std::ofstream(PathOf("segments/s9") + ".sha256") << "0000  s9\n";
  EXPECT_EQ(store_->Get("segments/s9").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Put("segments/s9", "nine").ok());
  EXPECT_EQ(store_->Get("segments/s9").value_or(""), "nine");
  // sha256sum -c agrees with the digest file.
  const std::string line = cairn::testing::ReadFileOrEmpty(PathOf("segments/s9") + ".sha256");
  EXPECT_EQ(line, ledger::HashToHex(ledger::Sha256("nine")) + "  s9\n");
}

INSTANTIATE_TEST_SUITE_P(Backends, ArchiveStoreTest,
                         ::testing::Values(Backend::kFile, Backend::kS3), Name);

}  // namespace
}  // namespace cairn::storage
