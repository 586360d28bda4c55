// OpenSSL error text and memory BIO helpers (see openssl_util.h).
#include "openssl_util.h"

#include <openssl/err.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cairn::ledger::internal {

std::string DrainOpenSslErrors() {
  std::string text;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

absl::Status OpenSslError(absl::string_view what, absl::StatusCode code) {
  return absl::Status(code, absl::StrCat(what, ": ", DrainOpenSslErrors()));
}

OsslPtr<BIO> ReadBio(absl::string_view data) {
  return OsslPtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

int NoPassword(char*, int, int, void*) { return 0; }

absl::Status CheckP256(EVP_PKEY* pkey, absl::string_view what) {
  if (pkey == nullptr || !EVP_PKEY_is_a(pkey, "EC")) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not an ECDSA key"));
  }
  char group[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1 ||
      absl::string_view(group, len) != "prime256v1") {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ECDSA key is not on curve P-256 (", group, ")"));
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger::internal
