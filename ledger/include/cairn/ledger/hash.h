// SHA-256, the one hash function of the ledger (RFC 9162 leaves and nodes,
// contents digests, certificate fingerprints) and of the node (snapshot
// payload checksums), and conversions of a Hash to and from bytes and
// lowercase hex. The one wrapper of OpenSSL's digest calls in Cairn: every
// EVP return code is checked here, and a failure (a broken OpenSSL install)
// stops the process with OpenSSL's error text.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/ledger/merkle_store.h"  // Hash

namespace cairn::ledger {

inline constexpr size_t kHashBytes = 32;

// SHA-256 of `data`.
Hash Sha256(absl::string_view data);
// SHA-256 of the concatenation of `parts`, without copying them together.
Hash Sha256Parts(std::initializer_list<absl::string_view> parts);

// SHA-256 of data that arrives in pieces (a snapshot payload, chunk by
// chunk). Not thread-safe; one per stream.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view bytes);
  // The digest of everything passed to Update. The hasher is spent afterwards.
  Hash Finish();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// The 32 bytes of `hash`, as a view into it.
inline absl::string_view HashBytes(const Hash& hash) {
  return absl::string_view(reinterpret_cast<const char*>(hash.data()), hash.size());
}
inline std::string HashToString(const Hash& hash) { return std::string(HashBytes(hash)); }
// Lowercase hex, 64 characters.
std::string HashToHex(const Hash& hash);

// InvalidArgument naming `what` unless `bytes` is exactly 32 bytes.
absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes, absl::string_view what);
// InvalidArgument naming `what` unless `hex` is 64 hex digits.
absl::StatusOr<Hash> HashFromHex(absl::string_view hex, absl::string_view what);

}  // namespace cairn::ledger
