// Incremental SHA-256 over OpenSSL EVP (see sha256.h).
#include "sha256.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "cairn/base/check.h"

namespace cairn::storage::internal {
namespace {

std::string OpenSslError() {
  char buf[256] = {0};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  return buf;
}

}  // namespace

void Sha256::CtxDeleter::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  CAIRN_CHECK(ctx_ != nullptr) << "EVP_MD_CTX_new: " << OpenSslError();
  CAIRN_CHECK(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1)
      << "EVP_DigestInit_ex(sha256): " << OpenSslError();
}

Sha256::~Sha256() = default;

void Sha256::Update(absl::string_view bytes) {
  CAIRN_CHECK(EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) == 1)
      << "EVP_DigestUpdate: " << OpenSslError();
}

std::string Sha256::Finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CAIRN_CHECK(EVP_DigestFinal_ex(ctx_.get(), digest, &len) == 1)
      << "EVP_DigestFinal_ex: " << OpenSslError();
  CAIRN_CHECK(len == 32) << "sha256 digest of " << len << " bytes";
  return std::string(reinterpret_cast<const char*>(digest), len);
}

}  // namespace cairn::storage::internal
