// The archive store: where a geo-replica keeps its copy of the ledger in the
// paired region, and where recovery and `cairnctl dr verify` read it back.
// One interface, two backends chosen by URL:
//
//   file:///PATH           a directory (a mount in the paired region)
//   s3://BUCKET[/PREFIX]   any S3-compatible object store (s3_client.h)
//
// Objects are immutable and have deterministic names (the layout above this
// interface picks them), so a restore never needs to LIST. A write is
// idempotent: putting the bytes an object already holds succeeds and writes
// nothing; putting other bytes under an existing name is refused
// (AlreadyExists), so an archive is never silently overwritten. Every object
// carries its SHA-256, set by the writer and checked on every read:
//
//   file://  NAME.sha256 beside NAME, in `sha256sum` format, so
//            `sha256sum -c` also checks a directory by hand
//   s3://    the object's x-amz-meta-sha256 metadata (and the upload is
//            signed over its SHA-256, which the server checks)
//
// Object names are '/'-separated parts of [A-Za-z0-9._-], none empty, "." or
// "..": nothing in a name needs escaping in a path or a URL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cairn::storage {

// Limit on one object (a segment is at most 1 GiB; see ledger/segment.h).
inline constexpr uint64_t kArchiveObjectBytesMax = 1ull << 30;

struct ArchiveObjectInfo {
  uint64_t size = 0;
  std::string sha256_hex;  // as the store recorded it (lowercase)
};

class ArchiveStore {
 public:
  virtual ~ArchiveStore() = default;

  // The URL the store was opened from, for messages.
  virtual const std::string& url() const = 0;

  // Checks the store can be used: the directory or bucket exists and the
  // credentials are accepted. The error says which, naming the store.
  virtual absl::Status Check() = 0;

  // Creates the immutable object `name` holding `bytes` (see above):
  // idempotent for the same bytes, AlreadyExists for other bytes.
  virtual absl::Status Put(absl::string_view name, absl::string_view bytes) = 0;

  // Replaces the object `name` (the archive's one mutable object, the
  // pointer to its newest manifest). Readers see the old or the new bytes.
  virtual absl::Status Replace(absl::string_view name, absl::string_view bytes) = 0;

  // The object's bytes, checked against the SHA-256 it carries. NotFound if
  // there is no such object; DataLoss naming the object if its bytes do not
  // match its digest or it carries none.
  virtual absl::StatusOr<std::string> Get(absl::string_view name) = 0;

  // The object's size and recorded digest, without its bytes. NotFound if
  // there is no such object.
  virtual absl::StatusOr<ArchiveObjectInfo> Stat(absl::string_view name) = 0;
};

// Settings of an s3:// store that its URL does not give. Every field has a
// default that works for AWS; see s3_client.h for what each one does.
struct S3StoreOptions {
  // "https://host[:port]" or "http://host[:port]"; empty: AWS,
  // https://s3.REGION.amazonaws.com.
  std::string endpoint;
  // Empty: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1.
  std::string region;
  // BUCKET in the path (endpoint/BUCKET/KEY) instead of the host name
  // (BUCKET.endpoint/KEY); most self-hosted stores want it.
  bool path_style = false;
  // PEM file of the CA certificates that sign the endpoint's certificate;
  // empty: the system's.
  std::string ca_file;
  // An AWS shared credentials file (INI, [profile] with aws_access_key_id,
  // aws_secret_access_key, aws_session_token). Empty: AWS_ACCESS_KEY_ID and
  // AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment, else
  // AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.
  std::string credentials_file;
  // Profile in the credentials file; empty: AWS_PROFILE, then "default".
  std::string profile;
  // Per request: connecting, and the whole request.
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 60000;
};

// InvalidArgument unless `name` is a valid object name (see above).
absl::Status ValidateArchiveObjectName(absl::string_view name);

// Opens the store `url` names. InvalidArgument (naming the URL and what is
// wrong with it) for an unknown scheme, a relative file:// path, a bad
// bucket name or prefix, or credentials that cannot be found or read. Opening
// does not contact the store: call Check() for that.
absl::StatusOr<std::unique_ptr<ArchiveStore>> OpenArchiveStore(absl::string_view url,
                                                               const S3StoreOptions& s3 = {});

}  // namespace cairn::storage
