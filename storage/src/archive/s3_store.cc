// The s3:// archive store: one object per archive object, under the URL's
// prefix, its SHA-256 in x-amz-meta-sha256 (see archive_store.h). Put asks
// for the object first (HEAD) and uploads only when it is absent, so a
// repeated Put after a crash writes nothing and a different Put is refused.
// An object already there is read back and compared. One writer per archive (its geo-replica) is
// the design; two writers racing on one name could both see it absent, and the later upload would
// win.
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cairn/ledger/hash.h"
#include "stores.h"

namespace cairn::storage::internal {
namespace {

constexpr absl::string_view kDigestHeader = "x-amz-meta-sha256";

class S3Store final : public ArchiveStore {
 public:
  S3Store(std::string url, S3ClientOptions client, std::string prefix)
      : url_(std::move(url)), client_(std::move(client)), prefix_(std::move(prefix)) {}

  const std::string& url() const override { return url_; }

  absl::Status Check() override {
    absl::StatusOr<S3Response> r = client_.Send("HEAD", "", "");
    if (!r.ok()) return Unreachable(r.status());
    if (r->status == 200) return absl::OkStatus();
    if (r->status == 404) return NoBucket();
    return ErrorOf(*r, "checking the bucket");
  }

  absl::Status Put(absl::string_view name, absl::string_view bytes) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    const std::string digest = ledger::HashToHex(ledger::Sha256(bytes));
    absl::StatusOr<ArchiveObjectInfo> existing = Stat(name);
    if (existing.ok()) {
      // Rare (a retry after a crash): read it back, so that a damaged
      // object is reported rather than taken for the bytes it should hold.
      absl::StatusOr<std::string> held = Get(name);
      if (!held.ok()) return held.status();
      if (*held == bytes) return absl::OkStatus();
      return absl::AlreadyExistsError(absl::StrCat(
          "archive ", url_, ": object ", name, " already exists with other contents (SHA-256 ",
          existing->sha256_hex, ", new ", digest, "); archive objects are never overwritten"));
    }
    if (!absl::IsNotFound(existing.status())) return existing.status();
    return Upload(name, bytes, digest);
  }

  absl::Status Replace(absl::string_view name, absl::string_view bytes) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    return Upload(name, bytes, ledger::HashToHex(ledger::Sha256(bytes)));
  }

  absl::StatusOr<std::string> Get(absl::string_view name) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    absl::StatusOr<S3Response> r = client_.Send("GET", Key(name), "");
    if (!r.ok()) return Unreachable(r.status());
    if (r->status != 200) return ErrorOf(*r, absl::StrCat("reading object ", name));
    if (r->body.size() > kArchiveObjectBytesMax) {
      return absl::DataLossError(absl::StrCat("archive ", url_, ": object ", name,
                                              " is larger than ", kArchiveObjectBytesMax,
                                              " bytes"));
    }
    absl::StatusOr<std::string> recorded = RecordedDigest(name, *r);
    if (!recorded.ok()) return recorded.status();
    const std::string actual = ledger::HashToHex(ledger::Sha256(r->body));
    if (actual != *recorded) {
      return absl::DataLossError(absl::StrCat("archive ", url_, ": object ", name,
                                              " is damaged: its SHA-256 is ", actual,
                                              " but it was written with ", *recorded));
    }
    return std::move(r->body);
  }

  absl::StatusOr<ArchiveObjectInfo> Stat(absl::string_view name) override {
    if (absl::Status s = ValidateArchiveObjectName(name); !s.ok()) return s;
    absl::StatusOr<S3Response> r = client_.Send("HEAD", Key(name), "");
    if (!r.ok()) return Unreachable(r.status());
    if (r->status == 404) {
      return absl::NotFoundError(absl::StrCat("archive ", url_, " has no object ", name));
    }
    if (r->status != 200) return ErrorOf(*r, absl::StrCat("reading object ", name));
    ArchiveObjectInfo info;
    const auto length = r->headers.find("content-length");
    if (length == r->headers.end() || !absl::SimpleAtoi(length->second, &info.size)) {
      return absl::DataLossError(
          absl::StrCat("archive ", url_, ": the store gave no size for ", name));
    }
    absl::StatusOr<std::string> recorded = RecordedDigest(name, *r);
    if (!recorded.ok()) return recorded.status();
    info.sha256_hex = *std::move(recorded);
    return info;
  }

 private:
  std::string Key(absl::string_view name) const { return absl::StrCat(prefix_, name); }

  absl::Status Upload(absl::string_view name, absl::string_view bytes, const std::string& digest) {
    absl::StatusOr<S3Response> r = client_.Send(
        "PUT", Key(name), bytes,
        {absl::StrCat(kDigestHeader, ": ", digest), "Content-Type: application/octet-stream"});
    if (!r.ok()) return Unreachable(r.status());
    if (r->status == 200) return absl::OkStatus();
    return ErrorOf(*r, absl::StrCat("writing object ", name));
  }

  absl::StatusOr<std::string> RecordedDigest(absl::string_view name, const S3Response& r) const {
    const auto it = r.headers.find(std::string(kDigestHeader));
    if (it == r.headers.end() || !ledger::HashFromHex(it->second, "digest").ok()) {
      return absl::DataLossError(absl::StrCat("archive ", url_, ": object ", name,
                                              " carries no SHA-256 (", kDigestHeader, ")"));
    }
    return absl::AsciiStrToLower(it->second);
  }

  absl::Status Unreachable(const absl::Status& s) const {
    return absl::UnavailableError(absl::StrCat("archive ", url_, ": cannot reach the store at ",
                                               client_.options().endpoint, ": ", s.message()));
  }

  absl::Status NoBucket() const {
    return absl::FailedPreconditionError(
        absl::StrCat("archive ", url_, ": bucket ", client_.options().bucket, " does not exist at ",
                     client_.options().endpoint));
  }

  absl::Status ErrorOf(const S3Response& r, absl::string_view doing) const {
    const std::string text = S3ErrorText(r);
    if (r.status == 404) {
      if (text.find("NoSuchBucket") != std::string::npos) return NoBucket();
      return absl::NotFoundError(absl::StrCat("archive ", url_, ": ", doing, ": ", text));
    }
    if (r.status == 401 || r.status == 403) {
      return absl::PermissionDeniedError(absl::StrCat(
          "archive ", url_, ": ", doing, ": the store refused access key ", client_.access_key_id(),
          " (", text, "); check the credentials and the bucket's permissions"));
    }
    if (r.status == 429 || r.status >= 500) {
      return absl::UnavailableError(absl::StrCat("archive ", url_, ": ", doing, ": ", text));
    }
    return absl::FailedPreconditionError(absl::StrCat("archive ", url_, ": ", doing, ": ", text));
  }

  const std::string url_;
  S3Client client_;
  const std::string prefix_;
};

}  // namespace

std::unique_ptr<ArchiveStore> MakeS3Store(std::string url, S3ClientOptions client,
                                          std::string prefix) {
  return std::make_unique<S3Store>(std::move(url), std::move(client), std::move(prefix));
}

}  // namespace cairn::storage::internal
