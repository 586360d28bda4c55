// Archive cosignatures (see cosignature.h).
#include "cairn/ledger/cosignature.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/base/big_endian.h"
#include "cairn/ledger/encoding.h"

namespace cairn::ledger {
namespace {

constexpr absl::string_view kMagic = "cairn-archive-cosignature-v1\n";

void PutField(std::string* out, absl::string_view field) {
  base::PutU32(out, static_cast<uint32_t>(field.size()));
  out->append(field.data(), field.size());
}

}  // namespace

absl::StatusOr<std::string> CosignatureStatement(const v1::ArchiveCosignature& c) {
  absl::StatusOr<std::string> checkpoint = EncodeCheckpoint(c.checkpoint());
  if (!checkpoint.ok()) return checkpoint.status();
  std::string out(kMagic);
  PutField(&out, *checkpoint);
  PutField(&out, c.signature_txid());
  PutField(&out, c.region());
  base::PutU64(&out, static_cast<uint64_t>(c.timestamp_unix_ms()));
  return out;
}

absl::Status Cosign(v1::ArchiveCosignature* c, uint64_t node_id, const PrivateKey& node_key,
                    absl::string_view node_cert_pem) {
  c->set_signer_node_id(node_id);
  c->set_node_certificate_pem(std::string(node_cert_pem));
  absl::StatusOr<std::string> statement = CosignatureStatement(*c);
  if (!statement.ok()) return statement.status();
  absl::StatusOr<std::string> signature = node_key.Sign(*statement);
  if (!signature.ok()) return signature.status();
  c->set_signature(*std::move(signature));
  return absl::OkStatus();
}

absl::Status VerifyCosignature(const v1::ArchiveCosignature& c, const Certificate& service_cert) {
  absl::StatusOr<Certificate> node = Certificate::FromPem(c.node_certificate_pem());
  if (!node.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cosignature: node certificate: ", node.status().message()));
  }
  if (absl::Status s =
          node->VerifyIssuedBy(service_cert, absl::FromUnixMillis(c.timestamp_unix_ms()));
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cosignature: node certificate: ", s.message()));
  }
  if (node->NodeId() == 0 || node->NodeId() != c.signer_node_id()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cosignature: the certificate is not the node certificate of signer ", c.signer_node_id()));
  }
  if (c.checkpoint().service_id() != service_cert.Fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat("cosignature: the checkpoint names service ",
                                                   c.checkpoint().service_id(), ", not ",
                                                   service_cert.Fingerprint()));
  }
  absl::StatusOr<std::string> statement = CosignatureStatement(c);
  if (!statement.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cosignature: ", statement.status().message()));
  }
  if (absl::Status s = node->VerifySignature(*statement, c.signature()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("cosignature: signature: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger
