// Canonical leaf and checkpoint encodings (see encoding.h and
// docs/formats.md). All integers are big-endian; every variable-length field
// is length-prefixed and every optional one has a presence byte, so the
// encoding is injective.
#include "cairn/ledger/encoding.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cairn/base/big_endian.h"
#include "cairn/base/hex.h"
#include "cairn/base/utf8.h"
#include "cairn/ledger/merkle.h"
#include "cairn/ledger/txid.h"

namespace cairn::ledger {
namespace {

using base::PutU16;
using base::PutU64;

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status ValidateCollectionForKind(v1::EntryKind kind, absl::string_view collection) {
  absl::string_view reserved;
  switch (kind) {
    case v1::ENTRY_KIND_USER:
    case v1::ENTRY_KIND_PRIVATE_USER:
      return ValidateUserCollectionId(collection, "leaf.collection_id");
    case v1::ENTRY_KIND_GOVERNANCE:
      reserved = kGovernanceCollection;
      break;
    case v1::ENTRY_KIND_SIGNATURE:
      reserved = kSignaturesCollection;
      break;
    case v1::ENTRY_KIND_INTERNAL:
      reserved = kInternalCollection;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("leaf.kind: ", static_cast<int>(kind), " is not a known entry kind"));
  }
  if (collection != reserved) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf.collection_id: a ", v1::EntryKind_Name(kind), " entry belongs to ", reserved));
  }
  return absl::OkStatus();
}

// The "From log entry to leaf" table (docs/formats.md): what each kind of
// entry puts in the fields only some kinds use. Only a user leaf carries a
// claims digest; a user leaf always names its user, a signature or internal
// leaf never does; an internal leaf is the empty entry at time 0.
absl::Status ValidateLeafForKind(const v1::LeafComponents& leaf) {
  const char* kind = leaf.kind() == v1::ENTRY_KIND_GOVERNANCE  ? "governance"
                     : leaf.kind() == v1::ENTRY_KIND_SIGNATURE ? "signature"
                                                               : "internal";
  if (leaf.kind() == v1::ENTRY_KIND_PRIVATE_USER) {
    if (leaf.sealed_digest().size() != kHashBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf.sealed_digest: a private user entry has one of 32 bytes, got ",
                       leaf.sealed_digest().size()));
    }
  } else if (!leaf.sealed_digest().empty()) {
    return absl::InvalidArgumentError("leaf.sealed_digest: only a private user entry has one");
  }
  if (IsUserKind(leaf.kind())) {
    if (leaf.user_id().empty()) {
      return absl::InvalidArgumentError("leaf.user_id: a user entry must name its user");
    }
    return absl::OkStatus();
  }
  if (!leaf.claims_digest().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf.claims_digest: must be empty in a ", kind, " entry"));
  }
  if (leaf.kind() == v1::ENTRY_KIND_GOVERNANCE) return absl::OkStatus();
  if (!leaf.user_id().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf.user_id: must be empty in a ", kind, " entry"));
  }
  if (leaf.kind() == v1::ENTRY_KIND_INTERNAL) {
    if (leaf.contents_digest() != HashToString(Sha256(""))) {
      return absl::InvalidArgumentError(
          "leaf.contents_digest: an internal entry is empty, so its digest is H(\"\")");
    }
    if (leaf.timestamp_unix_ms() != 0) {
      return absl::InvalidArgumentError("leaf.timestamp_unix_ms: must be 0 in an internal entry");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLeaf(const v1::LeafComponents& leaf) {
  if (leaf.encoding_version() != kLeafEncodingVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "leaf.encoding_version: ", leaf.encoding_version(), " is not supported (only 1)"));
  }
  if (absl::Status s = ValidateCollectionForKind(leaf.kind(), leaf.collection_id()); !s.ok()) {
    return s;
  }
  if (leaf.contents_digest().size() != kHashBytes) {
    return absl::InvalidArgumentError(absl::StrCat("leaf.contents_digest: must be 32 bytes, got ",
                                                   leaf.contents_digest().size()));
  }
  if (absl::Status s = ValidateClaimsDigest(leaf.claims_digest(), "leaf.claims_digest"); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateUserId(leaf.user_id(), true, "leaf.user_id"); !s.ok()) return s;
  if (leaf.timestamp_unix_ms() < 0) {
    return absl::InvalidArgumentError("leaf.timestamp_unix_ms: must be >= 0");
  }
  return ValidateLeafForKind(leaf);
}

}  // namespace

absl::Status ValidateUserCollectionId(absl::string_view id, absl::string_view what) {
  if (id.empty() || id.size() > kCollectionIdBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": must be 1 to ", kCollectionIdBytesMax, " bytes, got ", id.size()));
  }
  if (!base::IsValidUtf8(id)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": is not valid UTF-8"));
  }
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": contains a control character"));
    }
  }
  if (absl::StartsWith(id, kReservedCollectionPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": names starting with \"cairn.\" are reserved"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRegion(absl::string_view region, absl::string_view what) {
  if (region.empty() || region.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be 1 to 64 characters"));
  }
  for (const char ch : region) {
    const auto c = static_cast<unsigned char>(ch);
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " \"", region, "\" may hold only letters, digits, '-' and '_'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateUserId(absl::string_view user_id, bool allow_empty, absl::string_view what) {
  if (user_id.empty() && allow_empty) return absl::OkStatus();
  if (user_id.size() != 2 * kHashBytes || !IsLowerHex(user_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": must be 64 lowercase hex digits (a certificate fingerprint)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateClaimsDigest(absl::string_view digest, absl::string_view what) {
  if (!digest.empty() && digest.size() != kHashBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": must be empty or 32 bytes, got ", digest.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeLeaf(const v1::LeafComponents& leaf) {
  if (absl::Status s = ValidateLeaf(leaf); !s.ok()) return s;
  absl::StatusOr<TxId> txid = TxId::Parse(leaf.txid(), "leaf.txid");
  if (!txid.ok()) return txid.status();
  std::string out;
  out.reserve(kLeafMagic.size() + 2 + 16 + 2 + leaf.collection_id().size() + 32 + 33 + 33 + 8);
  out.append(kLeafMagic.data(), kLeafMagic.size());
  out.push_back(static_cast<char>(kLeafEncodingVersion));
  out.push_back(static_cast<char>(leaf.kind()));
  PutU64(&out, txid->term);
  PutU64(&out, txid->index);
  PutU16(&out, static_cast<uint16_t>(leaf.collection_id().size()));
  out.append(leaf.collection_id());
  out.append(leaf.contents_digest());
  out.push_back(leaf.claims_digest().empty() ? '\x00' : '\x01');
  out.append(leaf.claims_digest());
  if (leaf.user_id().empty()) {
    out.push_back('\x00');
  } else {
    out.push_back('\x01');
    out.append(*base::HexDecode(leaf.user_id()));  // validated: 64 lowercase hex digits
  }
  PutU64(&out, static_cast<uint64_t>(leaf.timestamp_unix_ms()));
  // Only a private user leaf has it (ValidateLeafForKind), and always.
  out.append(leaf.sealed_digest());
  return out;
}

absl::StatusOr<Hash> LeafHashOf(const v1::LeafComponents& leaf) {
  absl::StatusOr<std::string> data = EncodeLeaf(leaf);
  if (!data.ok()) return data.status();
  return LeafHash(*data);
}

absl::StatusOr<std::string> EncodeCheckpoint(const v1::Checkpoint& checkpoint) {
  if (absl::Status s = ValidateUserId(checkpoint.service_id(), false, "checkpoint.service_id");
      !s.ok()) {
    return s;
  }
  if (checkpoint.tree_size() == 0) {
    return absl::InvalidArgumentError("checkpoint.tree_size: must be >= 1");
  }
  absl::StatusOr<Hash> root = HashFromBytes(checkpoint.root_hash(), "checkpoint.root_hash");
  if (!root.ok()) return root.status();
  absl::StatusOr<TxId> last = TxId::Parse(checkpoint.last_txid(), "checkpoint.last_txid");
  if (!last.ok()) return last.status();
  if (last->index != checkpoint.tree_size()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint.last_txid: index ", last->index,
                                                   " is not the tree size ", checkpoint.tree_size(),
                                                   " (leaf i is log index i + 1)"));
  }
  if (checkpoint.timestamp_unix_ms() < 0) {
    return absl::InvalidArgumentError("checkpoint.timestamp_unix_ms: must be >= 0");
  }
  std::string out;
  out.reserve(kCheckpointMagic.size() + 32 + 8 + 32 + 16 + 8);
  out.append(kCheckpointMagic.data(), kCheckpointMagic.size());
  out.append(*base::HexDecode(checkpoint.service_id()));
  PutU64(&out, checkpoint.tree_size());
  out.append(reinterpret_cast<const char*>(root->data()), root->size());
  PutU64(&out, last->term);
  PutU64(&out, last->index);
  PutU64(&out, static_cast<uint64_t>(checkpoint.timestamp_unix_ms()));
  return out;
}

}  // namespace cairn::ledger
