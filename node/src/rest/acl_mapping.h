// How the REST API (docs/api.md, "REST API") speaks Azure Confidential
// Ledger's data-plane dialect (api-version 2022-05-13): JSON shapes of
// entries and users, role names, user ids, and errors. Pure functions, no
// I/O; the gateway (rest_gateway.h) does the calls.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cairn/v1/admin.pb.h"
#include "cairn/v1/ledger.pb.h"
#include "nlohmann/json.hpp"

namespace cairn::node::rest {

inline constexpr char kApiVersion[] = "2022-05-13";
// The collection ACL writes to when a request names none.
inline constexpr char kDefaultCollection[] = "subledger:0";

// An error as the REST API answers it: the HTTP status, and the body
// {"error": {"code": CODE, "message": MESSAGE}}.
struct HttpError {
  int http_status = 500;
  std::string code;
  std::string message;
};

// The HTTP form of an error from the ledger's gRPC services: ACL's code where
// ACL has one for the case, otherwise Cairn's reason name (NOT_LEADER,
// BACKPRESSURE, ...), with the message unchanged.
HttpError ToHttpError(const absl::Status& status);
nlohmann::ordered_json ErrorBody(const HttpError& error);

// ACL's LedgerEntry: {"contents", "collectionId", "transactionId"}. Contents
// that are not valid UTF-8 (appended as bytes over gRPC) cannot be a JSON
// string: they come as "contentsBase64" instead of "contents".
nlohmann::ordered_json EntryJson(const v1::Entry& entry);

// "Administrator", "Contributor", "Reader" and back.
std::string RoleName(v1::Role role);
std::optional<v1::Role> RoleFromName(absl::string_view name);

// A user id in a path, in Cairn's form (64 lowercase hex digits). ACL shows
// certificate fingerprints in other spellings too: hex digits of either case,
// and 32 colon-separated pairs ("AB:CD:...") are accepted. InvalidArgument
// otherwise.
absl::StatusOr<std::string> NormalizeUserId(absl::string_view user_id);

// ACL's LedgerUser: {"assignedRole", "userId"}.
nlohmann::ordered_json UserJson(const v1::User& user);

}  // namespace cairn::node::rest
