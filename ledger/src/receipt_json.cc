// Receipt and signed checkpoint JSON (see receipt_json.h). nlohmann::json
// throws; every exception is caught here and becomes a Status.
#include "cairn/ledger/receipt_json.h"

#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cairn/base/hex.h"
#include "nlohmann/json.hpp"

namespace cairn::ledger {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr int kDepthMax = 16;

// ---- Printing ----------------------------------------------------------------

ordered_json KindToJson(v1::EntryKind kind) {
  switch (kind) {
    case v1::ENTRY_KIND_UNSPECIFIED:
      return "unspecified";
    case v1::ENTRY_KIND_USER:
      return "user";
    case v1::ENTRY_KIND_PRIVATE_USER:
      return "private_user";
    case v1::ENTRY_KIND_GOVERNANCE:
      return "governance";
    case v1::ENTRY_KIND_SIGNATURE:
      return "signature";
    case v1::ENTRY_KIND_INTERNAL:
      return "internal";
    default:
      return static_cast<int64_t>(kind);  // unknown values keep their number
  }
}

ordered_json LeafToJson(const v1::LeafComponents& leaf) {
  ordered_json j;
  j["encoding_version"] = leaf.encoding_version();
  j["kind"] = KindToJson(leaf.kind());
  j["txid"] = leaf.txid();
  j["collection_id"] = leaf.collection_id();
  j["contents_digest"] = base::HexEncode(leaf.contents_digest());
  j["claims_digest"] = base::HexEncode(leaf.claims_digest());
  j["user_id"] = leaf.user_id();
  j["timestamp_unix_ms"] = leaf.timestamp_unix_ms();
  // Only private user leaves have one; public receipts keep their keys.
  if (!leaf.sealed_digest().empty()) j["sealed_digest"] = base::HexEncode(leaf.sealed_digest());
  return j;
}

ordered_json SignedCheckpointJson(const v1::SignedCheckpoint& sc) {
  const v1::Checkpoint& c = sc.checkpoint();
  ordered_json checkpoint;
  checkpoint["service_id"] = c.service_id();
  checkpoint["tree_size"] = c.tree_size();
  checkpoint["root_hash"] = base::HexEncode(c.root_hash());
  checkpoint["last_txid"] = c.last_txid();
  checkpoint["timestamp_unix_ms"] = c.timestamp_unix_ms();
  ordered_json j;
  j["checkpoint"] = std::move(checkpoint);
  j["signer_node_id"] = sc.signer_node_id();
  j["signature"] = base::HexEncode(sc.signature());
  j["signature_txid"] = sc.signature_txid();
  return j;
}

// Strings in protobuf are not necessarily UTF-8 (bytes from a binary
// receipt); replace invalid sequences rather than throw.
std::string Dump(const ordered_json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

// ---- Parsing -----------------------------------------------------------------

absl::Status JsonError(absl::string_view path, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("receipt JSON: ", path, ": ", why));
}

// An object whose keys must be exactly `keys`; reads them with type checks.
class Obj {
 public:
  static absl::StatusOr<Obj> Make(const json& j, std::string path,
                                  std::initializer_list<const char*> keys) {
    if (!j.is_object()) return JsonError(path, "must be an object");
    for (const char* key : keys) {
      if (!j.contains(key)) return JsonError(path, absl::StrCat("missing key \"", key, "\""));
    }
    if (j.size() != keys.size()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (std::find_if(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; }) ==
            keys.end()) {
          return JsonError(path, absl::StrCat("unknown key \"", it.key().substr(0, 64), "\""));
        }
      }
    }
    return Obj(j, std::move(path));
  }

  std::string Path(absl::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  }
  const json& At(const char* key) const { return j_.at(key); }

  absl::StatusOr<std::string> Str(const char* key) const {
    const json& v = j_.at(key);
    if (!v.is_string()) return JsonError(Path(key), "must be a string");
    return v.get<std::string>();
  }

  absl::StatusOr<uint64_t> U64(const char* key, uint64_t max) const {
    const json& v = j_.at(key);
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
      return JsonError(Path(key), absl::StrCat("must be an integer from 0 to ", max));
    }
    return v.get<uint64_t>();
  }

  absl::StatusOr<int64_t> I64(const char* key) const {
    const json& v = j_.at(key);
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return JsonError(Path(key), "is out of range for a signed 64-bit integer");
      }
      return static_cast<int64_t>(v.get<uint64_t>());
    }
    if (!v.is_number_integer()) return JsonError(Path(key), "must be an integer");
    return v.get<int64_t>();
  }

  absl::StatusOr<std::string> Hex(const char* key) const { return HexValue(j_.at(key), Path(key)); }

  static absl::StatusOr<std::string> HexValue(const json& v, const std::string& path) {
    if (!v.is_string()) return JsonError(path, "must be a hex string");
    const std::string& s = v.get_ref<const std::string&>();
    for (char c : s) {
      if (absl::ascii_isupper(static_cast<unsigned char>(c))) {
        return JsonError(path, "hex must be lowercase");
      }
    }
    absl::StatusOr<std::string> bytes = base::HexDecode(s, path);
    if (!bytes.ok()) return JsonError(path, bytes.status().message());
    return bytes;
  }

 private:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  const json& j_;
  std::string path_;
};

#define CAIRN_ASSIGN_OR_RETURN_JSON(lhs, expr)  \
  auto lhs##_or = (expr);                       \
  if (!lhs##_or.ok()) return lhs##_or.status(); \
  auto lhs = *std::move(lhs##_or)

absl::StatusOr<v1::EntryKind> KindFromJson(const json& v, const std::string& path) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "unspecified") return v1::ENTRY_KIND_UNSPECIFIED;
    if (s == "user") return v1::ENTRY_KIND_USER;
    if (s == "governance") return v1::ENTRY_KIND_GOVERNANCE;
    if (s == "signature") return v1::ENTRY_KIND_SIGNATURE;
    if (s == "internal") return v1::ENTRY_KIND_INTERNAL;
    if (s == "private_user") return v1::ENTRY_KIND_PRIVATE_USER;
    return JsonError(path, "must be user, private_user, governance, signature or internal");
  }
  if (v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
      v.get<int64_t>() <= std::numeric_limits<int32_t>::max()) {
    return static_cast<v1::EntryKind>(v.get<int64_t>());
  }
  return JsonError(path, "must be an entry kind name");
}

absl::StatusOr<v1::LeafComponents> LeafFromJson(const json& j, const std::string& path) {
  // "sealed_digest" is there exactly for a private user leaf (the encoding
  // rules check that it agrees with the kind).
  const bool sealed = j.is_object() && j.contains("sealed_digest");
  CAIRN_ASSIGN_OR_RETURN_JSON(
      o, sealed ? Obj::Make(j, path,
                            {"encoding_version", "kind", "txid", "collection_id", "contents_digest",
                             "claims_digest", "user_id", "timestamp_unix_ms", "sealed_digest"})
                : Obj::Make(j, path,
                            {"encoding_version", "kind", "txid", "collection_id", "contents_digest",
                             "claims_digest", "user_id", "timestamp_unix_ms"}));
  v1::LeafComponents leaf;
  if (sealed) {
    CAIRN_ASSIGN_OR_RETURN_JSON(sealed_digest, o.Hex("sealed_digest"));
    leaf.set_sealed_digest(std::move(sealed_digest));
  }
  CAIRN_ASSIGN_OR_RETURN_JSON(version, o.U64("encoding_version", UINT32_MAX));
  CAIRN_ASSIGN_OR_RETURN_JSON(kind, KindFromJson(o.At("kind"), o.Path("kind")));
  CAIRN_ASSIGN_OR_RETURN_JSON(txid, o.Str("txid"));
  CAIRN_ASSIGN_OR_RETURN_JSON(collection, o.Str("collection_id"));
  CAIRN_ASSIGN_OR_RETURN_JSON(contents, o.Hex("contents_digest"));
  CAIRN_ASSIGN_OR_RETURN_JSON(claims, o.Hex("claims_digest"));
  CAIRN_ASSIGN_OR_RETURN_JSON(user, o.Str("user_id"));
  CAIRN_ASSIGN_OR_RETURN_JSON(timestamp, o.I64("timestamp_unix_ms"));
  leaf.set_encoding_version(static_cast<uint32_t>(version));
  leaf.set_kind(kind);
  leaf.set_txid(std::move(txid));
  leaf.set_collection_id(std::move(collection));
  leaf.set_contents_digest(std::move(contents));
  leaf.set_claims_digest(std::move(claims));
  leaf.set_user_id(std::move(user));
  leaf.set_timestamp_unix_ms(timestamp);
  return leaf;
}

absl::StatusOr<v1::SignedCheckpoint> SignedCheckpointFromJsonValue(const json& j,
                                                                   const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN_JSON(
      o, Obj::Make(j, path, {"checkpoint", "signer_node_id", "signature", "signature_txid"}));
  const std::string cpath = o.Path("checkpoint");
  CAIRN_ASSIGN_OR_RETURN_JSON(
      c, Obj::Make(o.At("checkpoint"), cpath,
                   {"service_id", "tree_size", "root_hash", "last_txid", "timestamp_unix_ms"}));
  v1::SignedCheckpoint sc;
  v1::Checkpoint* cp = sc.mutable_checkpoint();
  CAIRN_ASSIGN_OR_RETURN_JSON(service_id, c.Str("service_id"));
  CAIRN_ASSIGN_OR_RETURN_JSON(tree_size, c.U64("tree_size", UINT64_MAX));
  CAIRN_ASSIGN_OR_RETURN_JSON(root, c.Hex("root_hash"));
  CAIRN_ASSIGN_OR_RETURN_JSON(last_txid, c.Str("last_txid"));
  CAIRN_ASSIGN_OR_RETURN_JSON(timestamp, c.I64("timestamp_unix_ms"));
  CAIRN_ASSIGN_OR_RETURN_JSON(signer, o.U64("signer_node_id", UINT64_MAX));
  CAIRN_ASSIGN_OR_RETURN_JSON(signature, o.Hex("signature"));
  CAIRN_ASSIGN_OR_RETURN_JSON(signature_txid, o.Str("signature_txid"));
  cp->set_service_id(std::move(service_id));
  cp->set_tree_size(tree_size);
  cp->set_root_hash(std::move(root));
  cp->set_last_txid(std::move(last_txid));
  cp->set_timestamp_unix_ms(timestamp);
  sc.set_signer_node_id(signer);
  sc.set_signature(std::move(signature));
  sc.set_signature_txid(std::move(signature_txid));
  return sc;
}

absl::StatusOr<v1::Receipt> ReceiptFromJsonValue(const json& j) {
  CAIRN_ASSIGN_OR_RETURN_JSON(o, Obj::Make(j, "",
                                           {"version", "leaf", "leaf_index", "inclusion_proof",
                                            "checkpoint", "node_certificate_pem"}));
  v1::Receipt receipt;
  CAIRN_ASSIGN_OR_RETURN_JSON(version, o.U64("version", UINT32_MAX));
  CAIRN_ASSIGN_OR_RETURN_JSON(leaf, LeafFromJson(o.At("leaf"), "leaf"));
  CAIRN_ASSIGN_OR_RETURN_JSON(leaf_index, o.U64("leaf_index", UINT64_MAX));
  const json& proof = o.At("inclusion_proof");
  if (!proof.is_array()) return JsonError("inclusion_proof", "must be an array");
  for (size_t i = 0; i < proof.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN_JSON(h,
                                Obj::HexValue(proof[i], absl::StrCat("inclusion_proof[", i, "]")));
    receipt.add_inclusion_proof(std::move(h));
  }
  CAIRN_ASSIGN_OR_RETURN_JSON(checkpoint,
                              SignedCheckpointFromJsonValue(o.At("checkpoint"), "checkpoint"));
  CAIRN_ASSIGN_OR_RETURN_JSON(pem, o.Str("node_certificate_pem"));
  receipt.set_version(static_cast<uint32_t>(version));
  *receipt.mutable_leaf() = std::move(leaf);
  receipt.set_leaf_index(leaf_index);
  *receipt.mutable_checkpoint() = std::move(checkpoint);
  receipt.set_node_certificate_pem(std::move(pem));
  return receipt;
}

// Parses with limits: size, nesting depth, and no duplicate keys in an object.
absl::StatusOr<json> ParseJson(absl::string_view text) {
  if (text.size() > kReceiptBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt JSON: larger than ", kReceiptBytesMax, " bytes"));
  }
  std::vector<std::set<std::string>> keys;  // one set per open object
  auto check = [&keys](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kDepthMax) throw std::runtime_error("nested too deeply");
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second) {
      throw std::runtime_error("duplicate key \"" + parsed.get<std::string>().substr(0, 64) + "\"");
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("receipt JSON: ", e.what()));
  }
}

}  // namespace

std::string ReceiptToJson(const v1::Receipt& receipt) {
  ordered_json j;
  j["version"] = receipt.version();
  j["leaf"] = LeafToJson(receipt.leaf());
  j["leaf_index"] = receipt.leaf_index();
  ordered_json proof = ordered_json::array();
  for (const std::string& h : receipt.inclusion_proof()) proof.push_back(base::HexEncode(h));
  j["inclusion_proof"] = std::move(proof);
  j["checkpoint"] = SignedCheckpointJson(receipt.checkpoint());
  j["node_certificate_pem"] = receipt.node_certificate_pem();
  return Dump(j);
}

std::string SignedCheckpointToJson(const v1::SignedCheckpoint& signed_checkpoint) {
  return Dump(SignedCheckpointJson(signed_checkpoint));
}

absl::StatusOr<v1::Receipt> ReceiptFromJson(absl::string_view text) {
  absl::StatusOr<json> j = ParseJson(text);
  if (!j.ok()) return j.status();
  try {
    return ReceiptFromJsonValue(*j);
  } catch (const std::exception& e) {  // not expected: every access is type-checked
    return absl::InvalidArgumentError(absl::StrCat("receipt JSON: ", e.what()));
  }
}

absl::StatusOr<v1::SignedCheckpoint> SignedCheckpointFromJson(absl::string_view text) {
  absl::StatusOr<json> j = ParseJson(text);
  if (!j.ok()) return j.status();
  try {
    return SignedCheckpointFromJsonValue(*j, "");
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("receipt JSON: ", e.what()));
  }
}

absl::StatusOr<v1::Receipt> ParseReceipt(absl::string_view bytes) {
  if (bytes.size() > kReceiptBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat("receipt: larger than ", kReceiptBytesMax, " bytes"));
  }
  const absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(bytes);
  if (!trimmed.empty() && trimmed[0] == '{') return ReceiptFromJson(bytes);
  v1::Receipt receipt;
  if (!receipt.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("receipt: neither JSON nor a binary cairn.v1.Receipt");
  }
  return receipt;
}

}  // namespace cairn::ledger
