// Who may do what, over real mTLS: every RPC is authorized, roles are
// enforced, the peer port serves only nodes, and bad input is refused with a
// message naming the problem. Every refused request writes nothing.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "cairn/ledger/identity.h"
#include "cairn/ledger/receipt.h"
#include "testing/cluster.h"
#include "testing/stubs.h"
#include "testing/temp_dir.h"

namespace cairn {
namespace {

using ::cairn::testing::Ctx;
using ::testing::HasSubstr;
using ::testing::Not;

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new testing::TempDir();
    cluster_ = new testing::TestCluster(tmp_->path(), 1, {"--entry-bytes-max=1024"});
    const absl::Status st = cluster_->Start();
    ASSERT_TRUE(st.ok()) << st;
    auto admin = Admin("admin");
    for (auto [name, role] :
         {std::pair{"reader", v1::ROLE_READER}, std::pair{"contributor", v1::ROLE_CONTRIBUTOR}}) {
      v1::PutUserRequest req;
      req.set_certificate_pem(testing::ReadFileOrEmpty(cluster_->pki().User(name).cert));
      req.mutable_user()->set_role(role);
      v1::GovernanceResponse resp;
      const grpc::Status put = admin->PutUser(Ctx().get(), req, &resp);
      ASSERT_TRUE(put.ok()) << put.error_message();
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete tmp_;
  }

  static std::string Address() { return cluster_->node(1).client_address(); }
  static std::unique_ptr<v1::LedgerService::Stub> Ledger(const std::string& user) {
    return testing::Ledger(cluster_->pki(), user, Address());
  }
  static std::unique_ptr<v1::AdminService::Stub> Admin(const std::string& user) {
    return testing::Admin(cluster_->pki(), user, Address());
  }
  static v1::AppendRequest SecretAppend() {
    v1::AppendRequest req;
    req.set_collection_id("secret");
    req.set_contents("must not be written");
    return req;
  }
  // Nothing was ever written to "secret", and the users are as set up.
  static void ExpectNothingWritten() {
    v1::GetCurrentEntryRequest req;
    req.set_collection_id("secret");
    v1::GetCurrentEntryResponse resp;
    EXPECT_EQ(Ledger("admin")->GetCurrentEntry(Ctx().get(), req, &resp).error_code(),
              grpc::StatusCode::NOT_FOUND);
    v1::ListUsersResponse users;
    ASSERT_TRUE(Admin("admin")->ListUsers(Ctx().get(), {}, &users).ok());
    EXPECT_EQ(users.users_size(), 3);
  }

  static testing::TempDir* tmp_;
  static testing::TestCluster* cluster_;
};
testing::TempDir* SecurityTest::tmp_ = nullptr;
testing::TestCluster* SecurityTest::cluster_ = nullptr;

TEST_F(SecurityTest, NoClientCertificateIsUnauthenticated) {
  auto stub = v1::LedgerService::NewStub(
      testing::Channel(Address(), {"", ""}, cluster_->pki().service_cert()));
  v1::AppendResponse resp;
  const grpc::Status st = stub->Append(Ctx().get(), SecretAppend(), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("client certificate"));
  ExpectNothingWritten();
}

TEST_F(SecurityTest, CertificateFromAnotherCaFailsTheHandshake) {
  auto stub = v1::LedgerService::NewStub(
      testing::Channel(Address(), cluster_->pki().ForeignUser(), cluster_->pki().service_cert()));
  v1::AppendResponse resp;
  const grpc::Status st = stub->Append(Ctx(std::chrono::seconds(3)).get(), SecretAppend(), &resp);
  // TLS refuses the certificate before any handler runs.
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  ExpectNothingWritten();
}

TEST_F(SecurityTest, UnknownUserIsPermissionDenied) {
  v1::AppendResponse resp;
  const grpc::Status st = Ledger("stranger")->Append(Ctx().get(), SecretAppend(), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("is not a user of this service"));
  v1::GetCurrentEntryRequest read;
  read.set_collection_id("secret");
  v1::GetCurrentEntryResponse entry;
  EXPECT_EQ(Ledger("stranger")->GetCurrentEntry(Ctx().get(), read, &entry).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Anyone authenticated may learn the service identity, to pin it.
  v1::GetServiceIdentityResponse identity;
  ASSERT_TRUE(Ledger("stranger")->GetServiceIdentity(Ctx().get(), {}, &identity).ok());
  EXPECT_EQ(identity.service_certificate_pem(),
            testing::ReadFileOrEmpty(cluster_->pki().service_cert()));
  ExpectNothingWritten();
}

TEST_F(SecurityTest, ReaderCannotAppend) {
  v1::AppendResponse resp;
  const grpc::Status st = Ledger("reader")->Append(Ctx().get(), SecretAppend(), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("is a Reader; this call needs Contributor"));
  ExpectNothingWritten();
}

TEST_F(SecurityTest, ContributorCannotManageUsersOrMembers) {
  auto admin = Admin("contributor");
  v1::PutUserRequest put;
  put.mutable_user()->set_user_id(cluster_->pki().UserId("stranger"));
  put.mutable_user()->set_role(v1::ROLE_ADMINISTRATOR);
  v1::GovernanceResponse resp;
  grpc::Status st = admin->PutUser(Ctx().get(), put, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("needs Administrator"));
  v1::RemoveNodeRequest remove;
  remove.set_node_id(1);
  st = admin->RemoveNode(Ctx().get(), remove, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ExpectNothingWritten();
}

TEST_F(SecurityTest, ClientCertificateOnThePeerPortIsRefused) {
  auto stub = v1::RaftService::NewStub(testing::Channel(cluster_->node(1).peer_address(),
                                                        cluster_->pki().User("admin"),
                                                        cluster_->pki().service_cert()));
  v1::RaftMessageBatch batch;
  v1::RaftMessage* m = batch.add_messages();
  m->set_type(v1::RAFT_MESSAGE_TYPE_VOTE);
  m->set_from(2);
  m->set_to(1);
  m->set_term(1000);
  v1::SendResponse resp;
  const grpc::Status st = stub->Send(Ctx().get(), batch, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("peer port serves only Cairn nodes"));
  // The peer port does not serve the data plane at all.
  auto ledger = v1::LedgerService::NewStub(testing::Channel(cluster_->node(1).peer_address(),
                                                            cluster_->pki().User("admin"),
                                                            cluster_->pki().service_cert()));
  v1::AppendResponse append;
  EXPECT_EQ(ledger->Append(Ctx().get(), SecretAppend(), &append).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  ExpectNothingWritten();
}

// The bytes of a gRPC byte buffer.
std::string BufferBytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (buffer.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

// The raw calls below use gRPC's completion-queue API, driven from the
// test's own thread one operation at a time: with the callback API, grpcpp's
// header code (compiled into the test, so instrumented) runs on gRPC's own
// threads, whose hand-offs TSan cannot see, and TSan reported a race between
// the test thread starting an operation and gRPC's thread completing it.
// Waits for the one operation in flight on `cq`; whether it succeeded.
bool Await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

// Shuts `cq` down and drains it, as gRPC requires before it is destroyed.
void Drain(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

// grpc.health.v1.Health/Check with an empty request; the status code, and
// the serving status byte of the response when it succeeded.
std::pair<grpc::StatusCode, int> HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  grpc::Status st;
  auto ctx = Ctx();
  auto call = stub.PrepareUnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  call->Finish(&response, &st, nullptr);
  Await(cq);
  Drain(cq);
  const std::string bytes = st.ok() ? BufferBytes(response) : "";
  // HealthCheckResponse{status = 1 (SERVING)} is the two bytes 08 01.
  return {st.error_code(), bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : -1};
}

// One request on a grpc.reflection.<version>.ServerReflection stream: the
// call's status and the bytes of the response (a ServerReflectionResponse).
std::pair<grpc::StatusCode, std::string> ReflectionCall(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& version,
    const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  auto ctx = Ctx();
  auto call = stub.PrepareCall(
      ctx.get(),
      absl::StrCat("/grpc.reflection.", version, ".ServerReflection/ServerReflectionInfo"), &cq);
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1), in;
  std::string bytes;
  call->StartCall(nullptr);
  if (Await(cq)) {
    call->Write(out, nullptr);
    if (Await(cq)) {
      call->WritesDone(nullptr);
      if (Await(cq)) {
        call->Read(&in, nullptr);
        if (Await(cq)) bytes = BufferBytes(in);
      }
    }
  }
  grpc::Status st;
  call->Finish(&st, nullptr);
  Await(cq);
  Drain(cq);
  return {st.error_code(), bytes};
}

// ServerReflectionRequest{list_services: ""} and {file_containing_symbol: s}.
std::string ListServicesRequest() { return std::string("\x3a\x00", 2); }
std::string FileContainingSymbolRequest(const std::string& symbol) {
  return std::string("\x22") + static_cast<char>(symbol.size()) + symbol;
}

// Completes a TLS handshake with `address` offering only TLS `version`
// (TLS1_2_VERSION, TLS1_3_VERSION), presenting `creds`.
bool Handshakes(const std::string& address, int version, const testing::CertFiles& creds) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  SSL_CTX_set_min_proto_version(ctx.get(), version);
  SSL_CTX_set_max_proto_version(ctx.get(), version);
  SSL_CTX_use_certificate_file(ctx.get(), creds.cert.c_str(), SSL_FILETYPE_PEM);
  SSL_CTX_use_PrivateKey_file(ctx.get(), creds.key.c_str(), SSL_FILETYPE_PEM);
  static const unsigned char kH2[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx.get(), kH2, sizeof(kH2));
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  SSL_set_fd(ssl.get(), fd);
  const bool ok = SSL_connect(ssl.get()) == 1;
  ::close(fd);
  ERR_clear_error();
  return ok;
}

// Both ports speak TLS 1.3 only: a client or peer offering TLS 1.2 is refused
// in the handshake, before any certificate or RPC is looked at.
TEST_F(SecurityTest, BothPortsRefuseTls12AndSpeakTls13) {
  auto& pki = cluster_->pki();
  const auto& node = cluster_->node(1);
  EXPECT_FALSE(Handshakes(node.client_address(), TLS1_2_VERSION, pki.User("reader")));
  EXPECT_TRUE(Handshakes(node.client_address(), TLS1_3_VERSION, pki.User("reader")));
  EXPECT_FALSE(Handshakes(node.peer_address(), TLS1_2_VERSION, pki.Node(2)));
  EXPECT_TRUE(Handshakes(node.peer_address(), TLS1_3_VERSION, pki.Node(2)));
}

// Health checking answers on the client port (load balancers and probes use
// it without a role); the peer port serves RaftService and nothing else.
TEST_F(SecurityTest, HealthIsServedOnTheClientPortOnly) {
  auto& pki = cluster_->pki();
  EXPECT_EQ(HealthCheck(testing::Channel(cluster_->node(1).client_address(), pki.User("reader"),
                                         pki.service_cert())),
            std::make_pair(grpc::StatusCode::OK, 1));
  EXPECT_EQ(HealthCheck(
                testing::Channel(cluster_->node(1).peer_address(), pki.Node(2), pki.service_cert()))
                .first,
            grpc::StatusCode::UNIMPLEMENTED);
}

// Reflection (for grpcurl) on the client port, where it knows every service
// it lists, health checking included ("Symbol not found" for it before);
// the peer port serves no reflection (it did: the plugin registers itself
// process-wide).
TEST_F(SecurityTest, ReflectionIsServedOnTheClientPortOnlyAndKnowsHealth) {
  auto& pki = cluster_->pki();
  const auto client =
      testing::Channel(cluster_->node(1).client_address(), pki.User("reader"), pki.service_cert());
  // v1alpha (gRPC's plugin) and v1 (reflection_v1.h, which current grpcurl
  // asks for first) give the same answers.
  for (const std::string version : {"v1alpha", "v1"}) {
    auto [code, listed] = ReflectionCall(client, version, ListServicesRequest());
    ASSERT_EQ(code, grpc::StatusCode::OK) << version;
    EXPECT_THAT(listed, HasSubstr("cairn.v1.LedgerService")) << version;
    EXPECT_THAT(listed, HasSubstr("grpc.health.v1.Health")) << version;
    EXPECT_THAT(listed, HasSubstr("grpc.reflection.v1.ServerReflection")) << version;
    for (const std::string symbol :
         {"grpc.health.v1.Health", "cairn.v1.LedgerService", "cairn.v1.AdminService"}) {
      auto [found_code, found] =
          ReflectionCall(client, version, FileContainingSymbolRequest(symbol));
      EXPECT_EQ(found_code, grpc::StatusCode::OK) << version << " " << symbol;
      EXPECT_THAT(found, Not(HasSubstr("not found"))) << version << " " << symbol;
      EXPECT_THAT(found, HasSubstr(".proto")) << version << " " << symbol;
    }
    auto [missing_code, missing] =
        ReflectionCall(client, version, FileContainingSymbolRequest("no.such.Symbol"));
    EXPECT_EQ(missing_code, grpc::StatusCode::OK) << version;
    EXPECT_THAT(missing, HasSubstr("not found")) << version;
  }
  const auto peer =
      testing::Channel(cluster_->node(1).peer_address(), pki.Node(2), pki.service_cert());
  for (const std::string version : {"v1alpha", "v1"}) {
    EXPECT_EQ(ReflectionCall(peer, version, ListServicesRequest()).first,
              grpc::StatusCode::UNIMPLEMENTED)
        << version;
  }
}

TEST_F(SecurityTest, BadInputIsRefusedNamingTheProblem) {
  auto ledger = Ledger("contributor");
  struct Case {
    std::string collection;
    std::string contents;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"secret", std::string(1025, 'x'), "entry_bytes_max=1024"},
      {std::string("bad\xff\xfe", 5), "x", "UTF-8"},
      {std::string(257, 'c'), "x", "collection_id_bytes_max=256"},
      {"cairn.governance", "x", "reserved"},
      {"secret", "", "contents is empty"},
  };
  for (const Case& c : cases) {
    v1::AppendRequest req;
    req.set_collection_id(c.collection);
    req.set_contents(c.contents);
    v1::AppendResponse resp;
    const grpc::Status st = ledger->Append(Ctx().get(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.message;
    EXPECT_THAT(st.error_message(), HasSubstr(c.message));
  }
  v1::GetEntryRequest get;
  get.set_txid("3.-1");
  v1::GetEntryResponse entry;
  grpc::Status st = ledger->GetEntry(Ctx().get(), get, &entry);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("txid"));
  v1::ListEntriesRequest list;
  list.set_collection_id("secret");
  list.set_page_size(1000000);
  v1::ListEntriesResponse page;
  st = ledger->ListEntries(Ctx().get(), list, &page);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("page_size_max=1000"));
  ExpectNothingWritten();
}

TEST_F(SecurityTest, TamperedReceiptIsRejectedNamingTheCheck) {
  v1::AppendRequest req;
  req.set_collection_id("public");
  req.set_contents("genuine");
  v1::AppendResponse appended;
  ASSERT_TRUE(Ledger("contributor")->Append(Ctx().get(), req, &appended).ok());
  v1::GetReceiptRequest get;
  get.set_txid(appended.txid());
  get.set_wait(true);
  v1::GetReceiptResponse resp;
  ASSERT_TRUE(Ledger("reader")->GetReceipt(Ctx().get(), get, &resp).ok());
  auto service = ledger::ReadCertificateFile(cluster_->pki().service_cert());
  ASSERT_TRUE(service.ok());
  ASSERT_TRUE(ledger::VerifyReceipt(resp.receipt(), *service, {"genuine"}).ok());
  v1::Receipt tampered = resp.receipt();
  tampered.mutable_leaf()->set_collection_id("other");
  EXPECT_THAT(std::string(ledger::VerifyReceipt(tampered, *service).message()),
              HasSubstr("inclusion proof"));
  tampered = resp.receipt();
  tampered.mutable_checkpoint()->mutable_checkpoint()->set_timestamp_unix_ms(1);
  EXPECT_FALSE(ledger::VerifyReceipt(tampered, *service).ok());
  EXPECT_THAT(std::string(ledger::VerifyReceipt(resp.receipt(), *service, {"forged"}).message()),
              HasSubstr("leaf"));
}

}  // namespace
}  // namespace cairn
