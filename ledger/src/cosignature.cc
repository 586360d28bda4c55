// Archive cosignatures (see cosignature.h).
#include "cairn/ledger/cosignature.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cairn/base/big_endian.h"
#include "cairn/ledger/encoding.h"

namespace cairn::ledger {
namespace {

constexpr absl::string_view kMagic = "cairn-archive-cosignature-v1\n";
constexpr absl::string_view kSnapshotMagic = "cairn-archive-snapshot-v1\n";

void PutField(std::string* out, absl::string_view field) {
  base::PutU32(out, static_cast<uint32_t>(field.size()));
  out->append(field.data(), field.size());
}

// The signer's certificate is a node certificate of `signer_node_id`,
// issued by the service and valid at `at_unix_ms`; `what` starts errors.
absl::StatusOr<Certificate> SignerCertificate(absl::string_view what, absl::string_view pem,
                                              uint64_t signer_node_id, int64_t at_unix_ms,
                                              const Certificate& service_cert) {
  absl::StatusOr<Certificate> node = Certificate::FromPem(pem);
  if (!node.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": node certificate: ", node.status().message()));
  }
  if (absl::Status s = VerifyNodeCertificate(*node, service_cert, absl::FromUnixMillis(at_unix_ms),
                                             signer_node_id);
      !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": node certificate: ", s.message()));
  }
  return node;
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
  absl::StatusOr<Certificate> node =
      SignerCertificate("cosignature", c.node_certificate_pem(), c.signer_node_id(),
                        c.timestamp_unix_ms(), service_cert);
  if (!node.ok()) return node.status();
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

std::string SnapshotStatement(const SnapshotAttestation& a) {
  std::string out(kSnapshotMagic);
  base::PutU64(&out, a.index);
  base::PutU64(&out, a.term);
  base::PutU64(&out, a.payload_bytes);
  PutField(&out, a.payload_sha256);
  PutField(&out, a.region);
  base::PutU64(&out, static_cast<uint64_t>(a.timestamp_unix_ms));
  return out;
}

absl::Status SignSnapshot(SnapshotAttestation* a, uint64_t node_id, const PrivateKey& node_key,
                          absl::string_view node_cert_pem) {
  a->signer_node_id = node_id;
  a->node_certificate_pem = std::string(node_cert_pem);
  absl::StatusOr<std::string> signature = node_key.Sign(SnapshotStatement(*a));
  if (!signature.ok()) return signature.status();
  a->signature = *std::move(signature);
  return absl::OkStatus();
}

absl::Status VerifySnapshotAttestation(const SnapshotAttestation& a,
                                       const Certificate& service_cert) {
  if (a.payload_sha256.size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot attestation: the payload digest is ",
                                                   a.payload_sha256.size(), " bytes, not 32"));
  }
  absl::StatusOr<Certificate> node =
      SignerCertificate("snapshot attestation", a.node_certificate_pem, a.signer_node_id,
                        a.timestamp_unix_ms, service_cert);
  if (!node.ok()) return node.status();
  if (absl::Status s = node->VerifySignature(SnapshotStatement(a), a.signature); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot attestation: signature: ", s.message()));
  }
  return absl::OkStatus();
}

}  // namespace cairn::ledger
