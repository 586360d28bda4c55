// Private helpers for the OpenSSL 3 handles the ledger uses: owning smart
// pointers (one deleter per handle type) and a Status built from the OpenSSL
// error queue, so no handle leaks and no failure loses its reason.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cairn::ledger::internal {

struct OpenSslDeleter {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
  void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
  void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(ASN1_INTEGER* p) const { ASN1_INTEGER_free(p); }
};

template <typename T>
using OsslPtr = std::unique_ptr<T, OpenSslDeleter>;

// Drains the calling thread's OpenSSL error queue into one line of text.
std::string DrainOpenSslErrors();

// `code` status "<what>: <OpenSSL error text>"; drains the error queue.
absl::Status OpenSslError(absl::string_view what,
                          absl::StatusCode code = absl::StatusCode::kInternal);

// A read-only memory BIO over `data` (which must outlive it).
OsslPtr<BIO> ReadBio(absl::string_view data);

// The bytes written so far to a memory BIO.
std::string BioContents(BIO* bio);

// A password callback that never supplies one: encrypted PEM input fails
// instead of prompting on the terminal.
int NoPassword(char* buf, int size, int rwflag, void* userdata);

// OK when `pkey` is an ECDSA key on P-256; InvalidArgument naming `what` otherwise.
absl::Status CheckP256(EVP_PKEY* pkey, absl::string_view what);

}  // namespace cairn::ledger::internal
