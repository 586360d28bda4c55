// SHA-256 through OpenSSL EVP with the digest fetched once and one context per
// thread, so hashing millions of Merkle nodes pays no per-call fetch or
// allocation; an incremental hasher owns a context of its own (see hash.h).
#include "cairn/ledger/hash.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "openssl_util.h"

namespace cairn::ledger {
namespace {

const EVP_MD* Sha256Md() {
  // Fetched once for the life of the process (never freed on purpose).
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    CAIRN_CHECK(fetched != nullptr) << "EVP_MD_fetch(SHA256): " << internal::DrainOpenSslErrors();
    return fetched;
  }();
  return md;
}

internal::OsslPtr<EVP_MD_CTX> NewContext() {
  internal::OsslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  CAIRN_CHECK(ctx != nullptr) << "EVP_MD_CTX_new: " << internal::DrainOpenSslErrors();
  return ctx;
}

EVP_MD_CTX* ThreadContext() {
  thread_local internal::OsslPtr<EVP_MD_CTX> ctx = NewContext();
  return ctx.get();
}

// The three digest steps, each checked: the only calls of EVP_Digest* in Cairn.
void Begin(EVP_MD_CTX* ctx) {
  CAIRN_CHECK(EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr) == 1)
      << "EVP_DigestInit_ex2(SHA256): " << internal::DrainOpenSslErrors();
}

void Add(EVP_MD_CTX* ctx, absl::string_view bytes) {
  CAIRN_CHECK(EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) == 1)
      << "EVP_DigestUpdate: " << internal::DrainOpenSslErrors();
}

Hash End(EVP_MD_CTX* ctx) {
  Hash out;
  unsigned int len = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size())
      << "EVP_DigestFinal_ex: " << internal::DrainOpenSslErrors();
  return out;
}

}  // namespace

Hash Sha256Parts(std::initializer_list<absl::string_view> parts) {
  EVP_MD_CTX* ctx = ThreadContext();
  Begin(ctx);
  for (absl::string_view part : parts) Add(ctx, part);
  return End(ctx);
}

struct Sha256Hasher::Context {
  internal::OsslPtr<EVP_MD_CTX> evp = NewContext();
};

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Context>()) { Begin(ctx_->evp.get()); }

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(absl::string_view bytes) { Add(ctx_->evp.get(), bytes); }

Hash Sha256Hasher::Finish() { return End(ctx_->evp.get()); }

Hash Sha256(absl::string_view data) { return Sha256Parts({data}); }

std::string HashToHex(const Hash& hash) { return base::HexEncode(HashBytes(hash)); }

absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes, absl::string_view what) {
  if (bytes.size() != kHashBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a hash is 32 bytes, got ", bytes.size()));
  }
  Hash out;
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}

absl::StatusOr<Hash> HashFromHex(absl::string_view hex, absl::string_view what) {
  if (hex.size() != 2 * kHashBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": a hash is 64 hex digits, got ", hex.size()));
  }
  absl::StatusOr<std::string> bytes = base::HexDecode(hex, what);
  if (!bytes.ok()) return bytes.status();
  return HashFromBytes(*bytes, what);
}

}  // namespace cairn::ledger
