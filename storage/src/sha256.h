// Incremental SHA-256 over OpenSSL EVP, for snapshot payload checksums.
#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

struct evp_md_ctx_st;

namespace cairn::storage::internal {

class Sha256 {
 public:
  Sha256();  // aborts if OpenSSL cannot provide SHA-256 (a broken install)
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view bytes);
  // The 32-byte digest. The object is spent afterwards.
  std::string Finish();

 private:
  struct CtxDeleter {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

}  // namespace cairn::storage::internal
