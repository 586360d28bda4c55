// Recovery share files (see recovery_share.h).
#include "cairn/ledger/recovery_share.h"

#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/private_entry.h"
#include "nlohmann/json.hpp"

namespace cairn::ledger {

RecoveryShareFile::~RecoveryShareFile() { OPENSSL_cleanse(share.data(), share.size()); }

std::string RecoveryKeyFingerprint(const v1::RecoveryKey& record) {
  return HashToHex(Sha256(record.public_key_der()));
}

absl::StatusOr<RecoveryShareFile> OpenRecoveryShare(const v1::RecoveryKey& record,
                                                    absl::string_view service_id,
                                                    const Certificate& operator_cert,
                                                    const PrivateKey& operator_key) {
  if (!operator_cert.MatchesKey(operator_key)) {
    return absl::InvalidArgumentError(
        "the operator key is not the key of the operator certificate");
  }
  const std::string fingerprint = operator_cert.Fingerprint();
  for (const v1::RecoveryShare& s : record.shares()) {
    if (s.operator_fingerprint() != fingerprint) continue;
    auto opened = UnwrapSecret(s.wrapped(), operator_key,
                               RecoveryShareContext(s.index(), fingerprint, service_id));
    if (!opened.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("recovery share ", s.index(), ": ", opened.status().message()));
    }
    if (opened->size() != kRecoverySecretBytes) {
      OPENSSL_cleanse(opened->data(), opened->size());
      return absl::InvalidArgumentError(
          absl::StrCat("recovery share ", s.index(), " is not ", kRecoverySecretBytes, " bytes"));
    }
    RecoveryShareFile file;
    file.service_id = std::string(service_id);
    file.recovery_key = RecoveryKeyFingerprint(record);
    file.index = s.index();
    file.share = *std::move(opened);
    return file;
  }
  return absl::NotFoundError(
      absl::StrCat("the ledger holds no recovery share for the operator "
                   "certificate ",
                   fingerprint.substr(0, 16),
                   "… (it was not among the recovery operators named when "
                   "the service was created)"));
}

std::string EncodeRecoveryShareFile(const RecoveryShareFile& share) {
  nlohmann::ordered_json j;
  j["format"] = kRecoveryShareFormat;
  j["service_id"] = share.service_id;
  j["recovery_key"] = share.recovery_key;
  j["index"] = share.index;
  j["share"] = base::HexEncode(share.share);
  std::string out = j.dump(2);
  out.push_back('\n');
  return out;
}

absl::StatusOr<RecoveryShareFile> DecodeRecoveryShareFile(absl::string_view bytes) {
  const auto refused = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("not a recovery share file: ", why));
  };
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object()) return refused("not a JSON object");
  if (!j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != kRecoveryShareFormat) {
    return refused(absl::StrCat("\"format\" is not \"", kRecoveryShareFormat, "\""));
  }
  for (const char* field : {"service_id", "recovery_key", "share"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return refused(absl::StrCat("\"", field, "\" is missing or not a string"));
    }
  }
  if (!j.contains("index") || !j["index"].is_number_unsigned() || j["index"].get<uint64_t>() < 1 ||
      j["index"].get<uint64_t>() > 255) {
    return refused("\"index\" is not a number from 1 to 255");
  }
  RecoveryShareFile file;
  file.service_id = j["service_id"].get<std::string>();
  file.recovery_key = j["recovery_key"].get<std::string>();
  file.index = j["index"].get<uint32_t>();
  auto share = base::HexDecode(j["share"].get<std::string>(), "\"share\"");
  if (!share.ok()) return refused(share.status().message());
  if (share->size() != kRecoverySecretBytes) {
    OPENSSL_cleanse(share->data(), share->size());
    return refused(absl::StrCat("\"share\" is not ", kRecoverySecretBytes, " bytes"));
  }
  file.share = *std::move(share);
  return file;
}

}  // namespace cairn::ledger
