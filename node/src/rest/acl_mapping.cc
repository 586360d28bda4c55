// ACL's JSON shapes, roles, user ids and error codes (see acl_mapping.h).
#include "rest/acl_mapping.h"

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "cairn/base/hex.h"
#include "cairn/base/utf8.h"
#include "errors/status.h"

namespace cairn::node::rest {
namespace {

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

}  // namespace

HttpError ToHttpError(const absl::Status& status) {
  const v1::ErrorInfo info = ReasonOrDefault(status);
  HttpError error{HttpStatusOf(status.code()), "", std::string(status.message())};
  // ACL's code where it has one for the case, else Cairn's reason name.
  static constexpr std::pair<absl::string_view, absl::string_view> kAclCodes[] = {
      {"INVALID_REQUEST", "InvalidInput"},
      {"LIMIT_EXCEEDED", "InvalidInput"},
      {"UNAUTHENTICATED", "InvalidAuthenticationInfo"},
      {"PERMISSION_DENIED", "AuthorizationFailed"},
      {"NOT_FOUND", "ResourceNotFound"},
  };
  error.code = info.reason().empty() ? "UNSPECIFIED" : info.reason();
  for (const auto& [reason, code] : kAclCodes) {
    if (info.reason() == reason) error.code = std::string(code);
  }
  // Contents over entry_bytes_max: the body is what is too large.
  const auto limit = info.metadata().find("limit");
  if (info.reason() == "LIMIT_EXCEEDED" && limit != info.metadata().end() &&
      limit->second == "entry_bytes_max") {
    error.http_status = 413;
    error.code = "RequestBodyTooLarge";
  }
  return error;
}

nlohmann::ordered_json ErrorBody(const HttpError& error) {
  return {{"error", {{"code", error.code}, {"message", error.message}}}};
}

nlohmann::ordered_json EntryJson(const v1::Entry& entry) {
  nlohmann::ordered_json j;
  if (base::IsValidUtf8(entry.contents())) {
    j["contents"] = entry.contents();
  } else {
    j["contentsBase64"] = absl::Base64Escape(entry.contents());
  }
  j["collectionId"] = entry.collection_id();
  j["transactionId"] = entry.txid();
  // A private ledger's entry: what checks its receipt with the contents.
  if (!entry.contents_salt().empty()) j["contentsSalt"] = base::HexEncode(entry.contents_salt());
  return j;
}

std::string RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_ADMINISTRATOR:
      return "Administrator";
    case v1::ROLE_CONTRIBUTOR:
      return "Contributor";
    case v1::ROLE_READER:
      return "Reader";
    default:
      return "None";
  }
}

std::optional<v1::Role> RoleFromName(absl::string_view name) {
  if (name == "Administrator") return v1::ROLE_ADMINISTRATOR;
  if (name == "Contributor") return v1::ROLE_CONTRIBUTOR;
  if (name == "Reader") return v1::ROLE_READER;
  return std::nullopt;
}

absl::StatusOr<std::string> NormalizeUserId(absl::string_view user_id) {
  // 64 hex digits, or 32 pairs of them joined by colons.
  std::string id;
  if (user_id.size() == 95) {
    for (size_t i = 0; i < user_id.size(); ++i) {
      if (i % 3 == 2) {
        if (user_id[i] != ':') return absl::InvalidArgumentError("userId: misplaced ':'");
      } else {
        id.push_back(user_id[i]);
      }
    }
  } else {
    id = std::string(user_id);
  }
  id = absl::AsciiStrToLower(id);
  const bool hex =
      id.size() == 64 && absl::c_all_of(id, [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
      });
  if (!hex) {
    return absl::InvalidArgumentError(
        "userId must be a certificate fingerprint: the SHA-256 of its DER in hex (64 digits, "
        "or 32 colon-separated pairs)");
  }
  return id;
}

nlohmann::ordered_json UserJson(const v1::User& user) {
  return {{"assignedRole", RoleName(user.role())}, {"userId", user.user_id()}};
}

}  // namespace cairn::node::rest
