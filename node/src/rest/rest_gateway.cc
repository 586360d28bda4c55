// The REST gateway (see rest_gateway.h): HTTPS with mutual TLS through
// cpp-httplib, each request turned into one call to this node's client port.
#include "rest/rest_gateway.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <functional>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cairn/ledger/hash.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt_json.h"
#include "cairn/ledger/txid.h"
#include "cairn/v1/admin.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "errors/status.h"
#include "rest/acl_mapping.h"
#include "service/call.h"
#include "spdlog/spdlog.h"

namespace cairn::node::rest {
namespace {

using json = nlohmann::ordered_json;

constexpr uint32_t kPageSize = 100;
constexpr int64_t kReceiptWaitMs = 2000;

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void ReplyError(httplib::Response& res, const HttpError& error) {
  Reply(res, error.http_status, ErrorBody(error));
}

void ReplyStatus(httplib::Response& res, const absl::Status& status) {
  ReplyError(res, ToHttpError(status));
}

// The verified client certificate's fingerprint (the user id), or why there
// is none. The handshake already refused a certificate the service
// certificate did not issue.
absl::StatusOr<std::string> CallerOf(const httplib::Request& req) {
  if (req.ssl == nullptr) return absl::UnauthenticatedError("not a TLS connection");
  X509* cert = SSL_get0_peer_certificate(req.ssl);
  if (cert == nullptr) {
    return absl::UnauthenticatedError(
        "this request needs a client certificate issued by the service certificate");
  }
  if (SSL_get_verify_result(req.ssl) != X509_V_OK) {
    return absl::UnauthenticatedError("the client certificate did not verify");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return absl::UnauthenticatedError("the client certificate cannot be encoded");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return ledger::HashToHex(ledger::Sha256(bytes));
}

// An api-version other than the one implemented is refused (absent is
// accepted: Cairn has one version of these paths).
std::optional<HttpError> CheckApiVersion(const httplib::Request& req) {
  if (!req.has_param("api-version") || req.get_param_value("api-version") == kApiVersion) {
    return std::nullopt;
  }
  return HttpError{400, "InvalidQueryParameterValue",
                   absl::StrCat("api-version ", req.get_param_value("api-version").substr(0, 32),
                                " is not supported (only ", kApiVersion, ")")};
}

absl::StatusOr<std::string> TxIdParam(const std::string& text, absl::string_view what) {
  absl::StatusOr<ledger::TxId> txid = ledger::TxId::Parse(text, what);
  if (!txid.ok()) return txid.status();
  return txid->ToString();
}

// The deepest nesting of arrays and objects in `text` (outside strings),
// found without building anything: a body nested deeper than any request
// needs is refused before nlohmann::json builds it.
int JsonDepth(absl::string_view text) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// A request body: a JSON object (nested at most a few levels) with the
// string member `member`, or InvalidArgument.
absl::StatusOr<std::string> StringMember(const std::string& body, const char* member) {
  const absl::Status bad = absl::InvalidArgumentError(
      absl::StrCat("the body must be a JSON object with a string \"", member, "\""));
  if (JsonDepth(body) > 4) return bad;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains(member) || !j[member].is_string()) {
    return bad;
  }
  return j[member].get<std::string>();
}

// The node's certificate and key and the service certificate as the only
// client CA, parsed as everywhere else (ledger/identity.h); OpenSSL takes its
// own references.
bool LoadPem(SSL_CTX& ctx, const TlsFiles& tls) {
  auto cert = ledger::Certificate::FromPem(tls.cert_pem);
  auto key = ledger::PrivateKey::FromPem(tls.key_pem);
  auto service = ledger::Certificate::FromPem(tls.service_cert_pem);
  const bool ok = cert.ok() && key.ok() && service.ok() &&
                  SSL_CTX_set_min_proto_version(&ctx, TLS1_3_VERSION) == 1 &&
                  SSL_CTX_use_certificate(&ctx, cert->get()) == 1 &&
                  SSL_CTX_use_PrivateKey(&ctx, key->get()) == 1 &&
                  SSL_CTX_check_private_key(&ctx) == 1 &&
                  X509_STORE_add_cert(SSL_CTX_get_cert_store(&ctx), service->get()) == 1;
  // A client certificate is verified when presented (issued directly by the
  // service certificate); requests that need one say so when it is absent.
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(&ctx, 1);
  return ok;
}

}  // namespace

// The request handlers: each makes gRPC calls on the caller's behalf
// (rest_gateway.h says which make more than one).
class RestGateway::Handlers {
 public:
  Handlers(const GatewayOptions& options, const TlsFiles* tls, PeerChannels* channels,
           const LeaderRouter* router)
      : options_(options), tls_(tls), channels_(channels), router_(router) {}

  // Cancels the calls in flight and refuses new ones (shutdown).
  void CancelCalls() { calls_.CancelAll(); }

  void Register(httplib::Server& server) {
    server.Post("/app/transactions", Wrap(&Handlers::CreateEntry));
    server.Get("/app/transactions", Wrap(&Handlers::ListEntries));
    server.Get("/app/transactions/current", Wrap(&Handlers::CurrentEntry));
    server.Get(R"(/app/transactions/([^/]+)/receipt)", Wrap(&Handlers::Receipt));
    server.Get(R"(/app/transactions/([^/]+)/status)", Wrap(&Handlers::Status));
    server.Get(R"(/app/transactions/([^/]+))", Wrap(&Handlers::GetEntry));
    server.Get("/app/collections", Wrap(&Handlers::Collections));
    server.Get(R"(/app/users/([^/]+))", Wrap(&Handlers::GetUser));
    server.Patch(R"(/app/users/([^/]+))", Wrap(&Handlers::PatchUser));
    server.Delete(R"(/app/users/([^/]+))", Wrap(&Handlers::DeleteUser));
    server.Get(R"(/ledgerIdentity(/([^/]*))?)",
               [this](const httplib::Request& req, httplib::Response& res) { Identity(req, res); });
  }

 private:
  using Handler = void (Handlers::*)(const std::string& user, const httplib::Request&,
                                     httplib::Response&);

  // Authenticates the caller and checks the api-version before `handler`.
  httplib::Server::Handler Wrap(Handler handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res) {
      absl::StatusOr<std::string> user = CallerOf(req);
      if (!user.ok()) return ReplyStatus(res, user.status());
      if (std::optional<HttpError> e = CheckApiVersion(req)) return ReplyError(res, *e);
      (this->*handler)(*user, req, res);
    };
  }

  // Calls `method` on this node's client port on behalf of `user`; a
  // follower's NOT_LEADER is followed once, to the leader it names.
  // `channel`: where to call (default: this node's client port).
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const std::string& user, const Request& request, Response* response,
                    std::optional<int64_t> timeout_ms = std::nullopt,
                    std::shared_ptr<grpc::Channel> channel = nullptr) {
    if (channel == nullptr) channel = channels_->Get(options_.node_id, options_.client_address);
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext ctx;
      ctx.AddMetadata(kOnBehalfOfHeader, user);
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(timeout_ms.value_or(options_.call_timeout_ms)));
      auto stub = std::make_unique<Stub>(channel);
      if (!calls_.Add(&ctx)) return absl::UnavailableError("the node is shutting down");
      const absl::Status status = FromGrpcStatus(((*stub).*method)(&ctx, request, response));
      calls_.Remove(&ctx);
      if (status.ok() || attempt > 0) return status;
      const v1::ErrorInfo info = ReasonOrDefault(status);
      uint64_t leader = 0;
      const auto id = info.metadata().find("leader_id");
      const auto address = info.metadata().find("leader_address");
      if (info.reason() != "NOT_LEADER" || id == info.metadata().end() ||
          address == info.metadata().end() || !absl::SimpleAtoi(id->second, &leader)) {
        return status;
      }
      channel = channels_->Get(leader, address->second);
    }
  }

  void CreateEntry(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    v1::AppendRequest append;
    append.set_collection_id(req.has_param("collectionId") ? req.get_param_value("collectionId")
                                                           : kDefaultCollection);
    absl::StatusOr<std::string> contents = StringMember(req.body, "contents");
    if (!contents.ok()) return ReplyStatus(res, contents.status());
    append.set_contents(*std::move(contents));
    if (req.has_header("Idempotency-Key")) {
      append.set_idempotency_key(req.get_header_value("Idempotency-Key"));
    }
    v1::AppendResponse appended;
    if (absl::Status s = Call(&v1::LedgerService::Stub::Append, user, append, &appended); !s.ok()) {
      return ReplyStatus(res, s);
    }
    res.set_header("x-ms-ccf-transaction-id", appended.txid());
    Reply(res, 200, {{"collectionId", append.collection_id()}, {"transactionId", appended.txid()}});
  }

  void GetEntry(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::string> txid = TxIdParam(req.matches[1], "transactionId");
    if (!txid.ok()) return ReplyStatus(res, txid.status());
    v1::GetEntryRequest get;
    get.set_txid(*txid);
    get.set_no_wait(true);
    v1::GetEntryResponse got;
    if (absl::Status s = Call(&v1::LedgerService::Stub::GetEntry, user, get, &got); !s.ok()) {
      return ReplyStatus(res, s);
    }
    if (req.has_param("collectionId") &&
        req.get_param_value("collectionId") != got.entry().collection_id()) {
      return ReplyStatus(res, absl::NotFoundError(absl::StrCat(
                                  "transaction ", *txid, " is not in collection ",
                                  req.get_param_value("collectionId").substr(0, 256))));
    }
    Reply(res, 200, {{"state", "Ready"}, {"entry", EntryJson(got.entry())}});
  }

  void CurrentEntry(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    v1::GetCurrentEntryRequest get;
    get.set_collection_id(req.has_param("collectionId") ? req.get_param_value("collectionId")
                                                        : kDefaultCollection);
    v1::GetCurrentEntryResponse got;
    if (absl::Status s = Call(&v1::LedgerService::Stub::GetCurrentEntry, user, get, &got);
        !s.ok()) {
      return ReplyStatus(res, s);
    }
    Reply(res, 200, EntryJson(got.entry()));
  }

  void ListEntries(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    v1::ListEntriesRequest list;
    const std::string collection =
        req.has_param("collectionId") ? req.get_param_value("collectionId") : kDefaultCollection;
    list.set_collection_id(collection);
    for (const char* param : {"fromTransactionId", "toTransactionId"}) {
      if (!req.has_param(param)) continue;
      absl::StatusOr<std::string> txid = TxIdParam(req.get_param_value(param), param);
      if (!txid.ok()) return ReplyStatus(res, txid.status());
      if (param[0] == 'f') {
        list.set_from_txid(*txid);
      } else {
        list.set_to_txid(*txid);
      }
    }
    if (req.has_param("pageToken")) list.set_page_token(req.get_param_value("pageToken"));
    list.set_page_size(kPageSize);
    list.set_include_contents(true);
    v1::ListEntriesResponse listed;
    if (absl::Status s = Call(&v1::LedgerService::Stub::ListEntries, user, list, &listed);
        !s.ok()) {
      return ReplyStatus(res, s);
    }
    json entries = json::array();
    for (const v1::Entry& entry : listed.entries()) entries.push_back(EntryJson(entry));
    json body = {{"state", "Ready"}, {"entries", std::move(entries)}};
    if (!listed.next_page_token().empty()) {
      httplib::Params next = {{"api-version", kApiVersion},
                              {"collectionId", collection},
                              {"pageToken", listed.next_page_token()}};
      if (!list.from_txid().empty()) next.emplace("fromTransactionId", list.from_txid());
      if (!list.to_txid().empty()) next.emplace("toTransactionId", list.to_txid());
      body["nextLink"] =
          absl::StrCat("/app/transactions?", httplib::detail::params_to_query_str(next));
    }
    Reply(res, 200, body);
  }

  void Receipt(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::string> txid = TxIdParam(req.matches[1], "transactionId");
    if (!txid.ok()) return ReplyStatus(res, txid.status());
    // Waits a little: a committed txid is covered by the next signature
    // (about --signature-interval-ms later; on an idle ledger the leader
    // signs for a waiting reader), so it usually has its receipt within it.
    v1::GetReceiptRequest get;
    get.set_txid(*txid);
    get.set_wait(true);
    v1::GetReceiptResponse got;
    absl::Status s = Call(&v1::LedgerService::Stub::GetReceipt, user, get, &got, kReceiptWaitMs);
    // Not covered yet: ACL's answer is "Loading" (ask again); a txid not in
    // the ledger stays an error.
    if (absl::IsDeadlineExceeded(s)) {
      return Reply(res, 200, {{"state", "Loading"}, {"transactionId", *txid}});
    }
    if (!s.ok()) return ReplyStatus(res, s);
    json receipt = json::parse(ledger::ReceiptToJson(got.receipt()), nullptr, false);
    Reply(res, 200,
          {{"receipt", std::move(receipt)}, {"state", "Ready"}, {"transactionId", *txid}});
  }

  void Status(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::string> txid = TxIdParam(req.matches[1], "transactionId");
    if (!txid.ok()) return ReplyStatus(res, txid.status());
    v1::GetTransactionStatusRequest get;
    get.set_txid(*txid);
    v1::GetTransactionStatusResponse got;
    if (absl::Status s = Call(&v1::LedgerService::Stub::GetTransactionStatus, user, get, &got);
        !s.ok()) {
      return ReplyStatus(res, s);
    }
    // A follower knows only its own log: a txid the leader committed but
    // has not sent here yet is unknown to it. Ask the leader.
    if (got.status() == v1::TRANSACTION_STATUS_UNKNOWN && !router_->IsLeader()) {
      if (std::shared_ptr<grpc::Channel> leader = router_->LeaderChannel()) {
        if (absl::Status s = Call(&v1::LedgerService::Stub::GetTransactionStatus, user, get, &got,
                                  std::nullopt, std::move(leader));
            !s.ok()) {
          return ReplyStatus(res, s);
        }
      }
    }
    switch (got.status()) {
      case v1::TRANSACTION_STATUS_COMMITTED:
        return Reply(res, 200, {{"state", "Committed"}, {"transactionId", *txid}});
      case v1::TRANSACTION_STATUS_PENDING:
        return Reply(res, 200, {{"state", "Pending"}, {"transactionId", *txid}});
      case v1::TRANSACTION_STATUS_INVALID:
        return ReplyStatus(res, absl::NotFoundError(
                                    absl::StrCat("transaction ", *txid,
                                                 " is not in the ledger and never will be (another "
                                                 "transaction holds its index)")));
      default:
        return ReplyStatus(res, absl::NotFoundError(absl::StrCat("transaction ", *txid,
                                                                 " is unknown to the ledger")));
    }
  }

  void Collections(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    v1::ListCollectionsRequest list;
    if (req.has_param("pageToken")) list.set_page_token(req.get_param_value("pageToken"));
    list.set_page_size(kPageSize);
    v1::ListCollectionsResponse listed;
    if (absl::Status s = Call(&v1::LedgerService::Stub::ListCollections, user, list, &listed);
        !s.ok()) {
      return ReplyStatus(res, s);
    }
    json collections = json::array();
    for (const v1::CollectionSummary& c : listed.collections()) {
      // The service's own (cairn.governance, cairn.signatures) are not
      // collections an ACL client wrote.
      if (absl::StartsWith(c.collection_id(), "cairn.")) continue;
      collections.push_back({{"collectionId", c.collection_id()}});
    }
    json body = {{"collections", std::move(collections)}};
    if (!listed.next_page_token().empty()) {
      httplib::Params next = {{"api-version", kApiVersion},
                              {"pageToken", listed.next_page_token()}};
      body["nextLink"] =
          absl::StrCat("/app/collections?", httplib::detail::params_to_query_str(next));
    }
    Reply(res, 200, body);
  }

  void GetUser(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::string> user_id = NormalizeUserId(req.matches[1].str());
    if (!user_id.ok()) return ReplyStatus(res, user_id.status());
    v1::GetUserRequest get;
    get.set_user_id(*user_id);
    v1::User got;
    if (absl::Status s = Call(&v1::AdminService::Stub::GetUser, user, get, &got); !s.ok()) {
      return ReplyStatus(res, s);
    }
    Reply(res, 200, UserJson(got));
  }

  void PatchUser(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::string> user_id = NormalizeUserId(req.matches[1].str());
    if (!user_id.ok()) return ReplyStatus(res, user_id.status());
    absl::StatusOr<std::string> role_name = StringMember(req.body, "assignedRole");
    if (!role_name.ok()) return ReplyStatus(res, role_name.status());
    std::optional<v1::Role> role = RoleFromName(*role_name);
    if (!role) {
      return ReplyStatus(res, absl::InvalidArgumentError(
                                  "assignedRole must be Administrator, Contributor or Reader"));
    }
    // A merge patch: only the role changes; a known user keeps its
    // description.
    v1::PutUserRequest put;
    v1::GetUserRequest get;
    get.set_user_id(*user_id);
    if (absl::Status s = Call(&v1::AdminService::Stub::GetUser, user, get, put.mutable_user());
        !s.ok() && !absl::IsNotFound(s)) {
      return ReplyStatus(res, s);
    }
    put.mutable_user()->set_user_id(*user_id);
    put.mutable_user()->set_role(*role);
    v1::GovernanceResponse done;
    if (absl::Status s = Call(&v1::AdminService::Stub::PutUser, user, put, &done); !s.ok()) {
      return ReplyStatus(res, s);
    }
    Reply(res, 200, UserJson(put.user()));
  }

  void DeleteUser(const std::string& user, const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<std::string> user_id = NormalizeUserId(req.matches[1].str());
    if (!user_id.ok()) return ReplyStatus(res, user_id.status());
    v1::RemoveUserRequest remove;
    remove.set_user_id(*user_id);
    v1::GovernanceResponse done;
    if (absl::Status s = Call(&v1::AdminService::Stub::RemoveUser, user, remove, &done); !s.ok()) {
      return ReplyStatus(res, s);
    }
    res.status = 204;
  }

  // ACL's identity service: public, no client certificate needed.
  void Identity(const httplib::Request& req, httplib::Response& res) {
    if (std::optional<HttpError> e = CheckApiVersion(req)) return ReplyError(res, *e);
    const std::string id = req.matches.size() > 2 ? req.matches[2].str() : "";
    if (!id.empty() && id != options_.service_id) {
      return ReplyStatus(
          res, absl::NotFoundError(absl::StrCat("this is ledger ", options_.service_id, ", not ",
                                                id.substr(0, 64))));
    }
    Reply(res, 200,
          {{"ledgerId", options_.service_id}, {"ledgerTlsCertificate", tls_->service_cert_pem}});
  }

  // The gRPC calls in flight, so that shutdown need not wait out their
  // deadlines.
  class InFlight {
   public:
    bool Add(grpc::ClientContext* ctx) ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      if (closed_) return false;
      calls_.insert(ctx);
      return true;
    }
    void Remove(grpc::ClientContext* ctx) ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      calls_.erase(ctx);
    }
    void CancelAll() ABSL_LOCKS_EXCLUDED(mu_) {
      absl::MutexLock lock(&mu_);
      closed_ = true;
      for (grpc::ClientContext* ctx : calls_) ctx->TryCancel();
    }

   private:
    absl::Mutex mu_;
    bool closed_ ABSL_GUARDED_BY(mu_) = false;
    std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(mu_);
  };

  const GatewayOptions& options_;
  const TlsFiles* const tls_;
  PeerChannels* const channels_;
  const LeaderRouter* const router_;
  InFlight calls_;
};

RestGateway::RestGateway(GatewayOptions options, const TlsFiles* tls, PeerChannels* channels,
                         const LeaderRouter* router)
    : options_(std::move(options)),
      tls_(tls),
      handlers_(std::make_unique<Handlers>(options_, tls, channels, router)) {}

RestGateway::~RestGateway() { Stop(); }

absl::Status RestGateway::Start() {
  bool loaded = false;
  auto server = std::make_unique<httplib::SSLServer>([this, &loaded](SSL_CTX& ctx) {
    loaded = LoadPem(ctx, *tls_);
    return loaded;
  });
  if (!loaded || !server->is_valid()) {
    return absl::InvalidArgumentError("--rest-address: cannot set up TLS with the node's files");
  }
  // Contents may be escaped six-fold in JSON ("\u0000"), plus the rest.
  server->set_payload_max_length(options_.entry_bytes_max * 6 + 4096);
  server->set_keep_alive_timeout(5);
  server->set_read_timeout(10);
  // Before any body is read: only the public identity path may be asked
  // without a client certificate, and compressed bodies (which would be
  // inflated past the body limit) are refused.
  server->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Content-Encoding") &&
        req.get_header_value("Content-Encoding") != "identity") {
      ReplyError(res,
                 {415, "UnsupportedContentType", "compressed request bodies are not accepted"});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!absl::StartsWith(req.path, "/ledgerIdentity")) {
      if (absl::StatusOr<std::string> user = CallerOf(req); !user.ok()) {
        ReplyStatus(res, user.status());
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  handlers_->Register(*server);
  // What httplib refuses by itself (no route, a body over the limit) gets
  // an error body too.
  server->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        return ReplyError(res, {404, "ResourceNotFound", absl::StrCat("Unknown path: ", req.path)});
      case 413:
        return ReplyError(res, {413, "RequestBodyTooLarge", "the request body is too large"});
      default:
        return ReplyError(res, {res.status, "InvalidInput", "the request is malformed"});
    }
  });
  server->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ReplyError(res, {500, "InternalError", "the request failed inside the REST gateway"});
      });
  const size_t colon = options_.address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(options_.address).substr(colon + 1), &port) ||
      !server->bind_to_port(options_.address.substr(0, colon), port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on --rest-address ", options_.address));
  }
  server_ = std::move(server);
  thread_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  // stop() does nothing until the server runs: wait for that, so a Stop()
  // right after Start() cannot leave the thread serving forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) {
    Stop();
    return absl::UnavailableError(
        absl::StrCat("the REST API on ", options_.address, " did not start"));
  }
  spdlog::info("REST API (Azure Confidential Ledger {} paths) on https://{}", kApiVersion,
               options_.address);
  return absl::OkStatus();
}

void RestGateway::Stop() {
  handlers_->CancelCalls();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cairn::node::rest
