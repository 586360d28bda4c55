// The service certificate the receipt fuzz targets verify against: the one
// their seed corpus was generated with (CAIRN_FUZZ_SERVICE_CERT, set by
// CTest), so seeds pass verification and mutations reach every check.
// Without it, a fresh certificate (parsing paths are still exercised).
#pragma once

#include <cstdlib>

#include "cairn/base/check.h"
#include "cairn/ledger/identity.h"
#include "test_ledger.h"

namespace cairn::fuzz {

inline const ledger::Certificate& ServiceCert() {
  static const ledger::Certificate* const cert = [] {
    const char* path = std::getenv("CAIRN_FUZZ_SERVICE_CERT");
    if (path != nullptr && *path != '\0') {
      auto cert = ledger::ReadCertificateFile(path);
      CAIRN_CHECK_OK(cert.status()) << "CAIRN_FUZZ_SERVICE_CERT";
      return new ledger::Certificate(*cert);
    }
    return new ledger::Certificate(testing::TestLedger().service_cert());
  }();
  return *cert;
}

// A ledger with entries of every kind (a private ledger's sealed entry too)
// and two signatures, for seeds.
inline void FillSeedLedger(testing::TestLedger& ledger) {
  ledger.AppendUser("orders", "first", std::string(32, '\x11'));
  auto secret = ledger::LedgerSecret::FromBytes(1, std::string(ledger::kLedgerSecretBytes, 's'));
  CAIRN_CHECK_OK(secret.status());
  ledger.AppendPrivateUser(*secret, "sealed", "private contents",
                           std::string(ledger::kContentsSaltBytes, '\x22'));
  ledger.AppendGovernance();
  ledger.AppendInternal();
  ledger.AppendSignature();
  ledger.set_term(2);
  for (int i = 0; i < 5; ++i) ledger.AppendUser("payments", "payment " + std::to_string(i));
  ledger.AppendSignature();
}

}  // namespace cairn::fuzz
