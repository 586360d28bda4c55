// Cairn and etcd request sources for cairn-bench (see sources.h).
#include "load/sources.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cairn/v1/admin.grpc.pb.h"
#include "cairn/v1/ledger.grpc.pb.h"
#include "proto/etcd_kv_subset.grpc.pb.h"

namespace cairn::bench {
namespace {

using Clock = std::chrono::system_clock;

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is required"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", flag, " ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, " is not PEM"));
  }
  return buf.str();
}

void SetDeadline(grpc::ClientContext* context, int64_t timeout_ms) {
  context->set_deadline(Clock::now() + std::chrono::milliseconds(timeout_ms));
}

// Fills worker.value with value_bytes random bytes once (every time when
// `fresh`: values that do not compress into each other, as a ledger of real
// records would not), then stamps the worker id and a value number at the
// front so every value is distinct: value `entry` of the `entries` one
// request carries is number sequence * entries + entry (the sequence number
// itself for single values).
const std::string& NextValue(WorkerContext& w, size_t value_bytes, bool fresh, size_t entry = 0,
                             size_t entries = 1) {
  if (w.value.size() != value_bytes || fresh) {
    w.value.resize(value_bytes);
    for (char& c : w.value) c = static_cast<char>('a' + w.rng() % 26);
  }
  const uint64_t stamp[2] = {static_cast<uint64_t>(w.id), w.sequence * entries + entry};
  std::memcpy(w.value.data(), stamp, std::min(sizeof(stamp), value_bytes));
  return w.value;
}

// Everything one unary call needs alive until its callback runs.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

// OK when an AppendBatch of `entries` entries was answered with one result,
// carrying a txid, per entry; INTERNAL otherwise.
grpc::Status CheckBatchResults(const v1::AppendBatchResponse& response, size_t entries) {
  if (static_cast<size_t>(response.results_size()) != entries) {
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat("AppendBatch answered ", response.results_size(),
                                     " results for ", entries, " entries"));
  }
  for (int i = 0; i < response.results_size(); ++i) {
    if (response.results(i).txid().empty()) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          absl::StrCat("AppendBatch result ", i, " has no txid"));
    }
  }
  return grpc::Status::OK;
}

class CairnSource : public RequestSource {
 public:
  CairnSource(std::vector<std::shared_ptr<grpc::Channel>> channels, CairnSourceOptions options)
      : options_(std::move(options)) {
    for (auto& c : channels) stubs_.push_back(v1::LedgerService::NewStub(c));
  }

  void Start(WorkerContext& w, Op op, Done done) override {
    v1::LedgerService::Stub* stub = stubs_[static_cast<size_t>(w.connection)].get();
    switch (op) {
      case Op::kAppend:
        if (options_.batch > 1) {
          AppendBatch(stub, w, std::move(done));
          return;
        }
        Append(stub, w, [done](grpc::Status s, const std::string&) { done(s); });
        return;
      case Op::kGet: {
        auto call = std::make_shared<Call<v1::GetEntryRequest, v1::GetEntryResponse>>();
        SetDeadline(&call->context, options_.timeout_ms);
        call->request.set_txid(PickTxid(w));
        stub->async()->GetEntry(&call->context, &call->request, &call->response,
                                [call, done](grpc::Status s) { done(s); });
        return;
      }
      case Op::kReceipt: {
        auto call = std::make_shared<Call<v1::GetReceiptRequest, v1::GetReceiptResponse>>();
        SetDeadline(&call->context, options_.timeout_ms);
        call->request.set_txid(PickTxid(w));
        stub->async()->GetReceipt(
            &call->context, &call->request, &call->response, [call, done](grpc::Status s) {
              if (s.ok() && call->response.receipt().inclusion_proof_size() == 0 &&
                  call->response.receipt().leaf_index() > 0) {
                s = grpc::Status(grpc::StatusCode::INTERNAL, "receipt without an inclusion proof");
              }
              done(s);
            });
        return;
      }
      case Op::kAppendReceipt:
        AppendThenReceipt(stub, w, std::move(done));
        return;
      case Op::kPut:
        done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "put is an etcd operation"));
        return;
    }
  }

 private:
  // Appends one value; `then` gets the outcome (INTERNAL when no txid came
  // back) and the txid.
  void Append(v1::LedgerService::Stub* stub, WorkerContext& w,
              std::function<void(grpc::Status, const std::string&)> then) {
    auto call = std::make_shared<Call<v1::AppendRequest, v1::AppendResponse>>();
    SetDeadline(&call->context, options_.timeout_ms);
    call->request.set_collection_id(options_.collection);
    call->request.set_contents(NextValue(w, options_.value_bytes, options_.fresh_values));
    if (options_.geo_durable) call->request.set_wait(v1::APPEND_WAIT_GEO_DURABLE);
    stub->async()->Append(&call->context, &call->request, &call->response,
                          [call, then = std::move(then)](grpc::Status s) {
                            if (s.ok() && call->response.txid().empty()) {
                              s = grpc::Status(grpc::StatusCode::INTERNAL, "no txid");
                            }
                            then(s, call->response.txid());
                          });
  }

  // Appends options_.batch distinct values to the collection in one
  // AppendBatch.
  void AppendBatch(v1::LedgerService::Stub* stub, WorkerContext& w, Done done) {
    auto call = std::make_shared<Call<v1::AppendBatchRequest, v1::AppendBatchResponse>>();
    SetDeadline(&call->context, options_.timeout_ms);
    const size_t entries = options_.batch;
    call->request.mutable_entries()->Reserve(static_cast<int>(entries));
    for (size_t i = 0; i < entries; ++i) {
      v1::AppendBatchEntry* entry = call->request.add_entries();
      entry->set_collection_id(options_.collection);
      entry->set_contents(NextValue(w, options_.value_bytes, options_.fresh_values, i, entries));
    }
    if (options_.geo_durable) call->request.set_wait(v1::APPEND_WAIT_GEO_DURABLE);
    stub->async()->AppendBatch(&call->context, &call->request, &call->response,
                               [call, entries, done](grpc::Status s) {
                                 if (s.ok()) s = CheckBatchResults(call->response, entries);
                                 done(s);
                               });
  }

  // Appends, then asks for that entry's receipt, waiting for the signature
  // that covers it: done once the receipt is in hand.
  void AppendThenReceipt(v1::LedgerService::Stub* stub, WorkerContext& w, Done done) {
    const int64_t timeout_ms = options_.timeout_ms;
    Append(stub, w, [stub, timeout_ms, done](grpc::Status s, const std::string& txid) {
      if (!s.ok()) {
        done(s);
        return;
      }
      auto receipt = std::make_shared<Call<v1::GetReceiptRequest, v1::GetReceiptResponse>>();
      SetDeadline(&receipt->context, timeout_ms);
      receipt->request.set_txid(txid);
      receipt->request.set_wait(true);
      stub->async()->GetReceipt(&receipt->context, &receipt->request, &receipt->response,
                                [receipt, done](grpc::Status r) { done(r); });
    });
  }

  const std::string& PickTxid(WorkerContext& w) {
    return options_.txids[w.rng() % options_.txids.size()];
  }

  CairnSourceOptions options_;
  std::vector<std::unique_ptr<v1::LedgerService::Stub>> stubs_;
};

class EtcdSource : public RequestSource {
 public:
  EtcdSource(std::vector<std::shared_ptr<grpc::Channel>> channels, EtcdSourceOptions options)
      : options_(options) {
    for (auto& c : channels) stubs_.push_back(etcdserverpb::KV::NewStub(c));
  }

  void Start(WorkerContext& w, Op op, Done done) override {
    if (op != Op::kPut && op != Op::kAppend) {
      done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "etcd runs only put (append)"));
      return;
    }
    if (options_.batch > 1) {
      Txn(w, std::move(done));
      return;
    }
    auto call = std::make_shared<Call<etcdserverpb::PutRequest, etcdserverpb::PutResponse>>();
    SetDeadline(&call->context, options_.timeout_ms);
    call->request.set_key(absl::StrCat("bench/", w.rng() % options_.key_space));
    call->request.set_value(NextValue(w, options_.value_bytes, options_.fresh_values));
    stubs_[static_cast<size_t>(w.connection)]->async()->Put(
        &call->context, &call->request, &call->response, [call, done](grpc::Status s) {
          if (s.ok() && call->response.header().revision() <= 0) {
            s = grpc::Status(grpc::StatusCode::INTERNAL, "etcd answered without a revision");
          }
          done(s);
        });
  }

 private:
  // One transaction of options_.batch puts, to distinct keys drawn as for
  // single puts (etcd refuses two puts to one key in a transaction).
  void Txn(WorkerContext& w, Done done) {
    auto call = std::make_shared<Call<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>>();
    SetDeadline(&call->context, options_.timeout_ms);
    const size_t puts = options_.batch;
    std::unordered_set<uint64_t> keys;
    keys.reserve(puts);
    call->request.mutable_success()->Reserve(static_cast<int>(puts));
    for (size_t i = 0; i < puts; ++i) {
      uint64_t key = w.rng() % options_.key_space;
      while (!keys.insert(key).second) key = w.rng() % options_.key_space;  // key_space >= puts
      etcdserverpb::PutRequest* put = call->request.add_success()->mutable_request_put();
      put->set_key(absl::StrCat("bench/", key));
      put->set_value(NextValue(w, options_.value_bytes, options_.fresh_values, i, puts));
    }
    stubs_[static_cast<size_t>(w.connection)]->async()->Txn(
        &call->context, &call->request, &call->response, [call, puts, done](grpc::Status s) {
          const etcdserverpb::TxnResponse& r = call->response;
          if (s.ok() && (r.header().revision() <= 0 || !r.succeeded() ||
                         static_cast<size_t>(r.responses_size()) != puts)) {
            s = grpc::Status(
                grpc::StatusCode::INTERNAL,
                absl::StrCat("etcd answered the transaction of ", puts, " puts with revision ",
                             r.header().revision(), ", succeeded=", r.succeeded(), " and ",
                             r.responses_size(), " responses"));
          }
          done(s);
        });
  }

  EtcdSourceOptions options_;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs_;
};

uint64_t IndexOfTxid(const std::string& txid) {
  uint64_t index = 0;
  const auto dot = txid.find('.');
  if (dot == std::string::npos || !absl::SimpleAtoi(txid.substr(dot + 1), &index)) return 0;
  return index;
}

// Appends `count` entries, 32 at a time, and returns their txids.
absl::StatusOr<std::vector<std::string>> Prefill(v1::LedgerService::Stub* stub,
                                                 const std::string& collection, size_t count,
                                                 size_t value_bytes) {
  constexpr size_t kInflight = 32;
  absl::Mutex mu;
  std::vector<std::string> txids;
  size_t issued = 0;
  size_t finished = 0;
  std::string error;
  std::function<void()> issue_one = [&]() {
    auto call = std::make_shared<Call<v1::AppendRequest, v1::AppendResponse>>();
    SetDeadline(&call->context, 30000);
    call->request.set_collection_id(collection);
    call->request.set_contents(std::string(value_bytes, 'p'));
    stub->async()->Append(&call->context, &call->request, &call->response,
                          [&, call](grpc::Status s) {
                            bool more = false;
                            {
                              absl::MutexLock lock(&mu);
                              ++finished;
                              if (s.ok()) {
                                txids.push_back(call->response.txid());
                              } else if (error.empty()) {
                                error = s.error_message();
                              }
                              more = error.empty() && issued < count;
                              if (more) ++issued;
                            }
                            if (more) issue_one();
                          });
  };
  size_t first = 0;
  {
    absl::MutexLock lock(&mu);
    first = std::min(kInflight, count);
    issued = first;
  }
  for (size_t i = 0; i < first; ++i) issue_one();
  absl::MutexLock lock(&mu);
  auto all_finished = [&]() { return finished == issued; };
  mu.Await(absl::Condition(&all_finished));
  if (!error.empty()) return absl::UnavailableError(absl::StrCat("prefill append: ", error));
  return txids;
}

}  // namespace

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> OpenChannels(const std::string& address,
                                                                         int count,
                                                                         const TlsFilesPaths* tls) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (tls != nullptr) {
    auto cert = ReadPem(tls->cert_file, "--cert");
    if (!cert.ok()) return cert.status();
    auto key = ReadPem(tls->key_file, "--key");
    if (!key.ok()) return key.status();
    auto ca = ReadPem(tls->service_cert_file, "--service-cert");
    if (!ca.ok()) return ca.status();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *std::move(ca);
    ssl.pem_private_key = *std::move(key);
    ssl.pem_cert_chain = *std::move(cert);
    credentials = grpc::SslCredentials(ssl);
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(64 << 20);
    channels.push_back(grpc::CreateCustomChannel(address, credentials, args));
  }
  return channels;
}

std::unique_ptr<RequestSource> NewCairnSource(std::vector<std::shared_ptr<grpc::Channel>> channels,
                                              CairnSourceOptions options) {
  return std::make_unique<CairnSource>(std::move(channels), std::move(options));
}

std::unique_ptr<RequestSource> NewEtcdSource(std::vector<std::shared_ptr<grpc::Channel>> channels,
                                             EtcdSourceOptions options) {
  return std::make_unique<EtcdSource>(std::move(channels), options);
}

absl::StatusOr<std::string> FindCairnLeader(const std::vector<std::string>& endpoints,
                                            const TlsFilesPaths& tls, int64_t timeout_ms) {
  const auto give_up = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last_error = "no endpoint given";
  while (Clock::now() < give_up) {
    for (const std::string& endpoint : endpoints) {
      auto channels = OpenChannels(endpoint, 1, &tls);
      if (!channels.ok()) return channels.status();
      auto stub = v1::AdminService::NewStub(channels->front());
      grpc::ClientContext context;
      SetDeadline(&context, 2000);
      v1::GetClusterStatusRequest request;
      v1::ClusterStatus status;
      const grpc::Status st = stub->GetClusterStatus(&context, request, &status);
      if (!st.ok()) {
        last_error = absl::StrCat(endpoint, ": ", st.error_message());
        continue;
      }
      for (const auto& n : status.nodes()) {
        if (status.leader_id() != 0 && n.node().node_id() == status.leader_id()) {
          return n.node().client_address();
        }
      }
      last_error = absl::StrCat(endpoint, ": no leader yet");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return absl::UnavailableError(absl::StrCat("no leader found: ", last_error));
}

absl::StatusOr<std::vector<std::string>> SampleSignedTxids(std::shared_ptr<grpc::Channel> channel,
                                                           const std::string& collection,
                                                           size_t count, size_t value_bytes,
                                                           uint64_t seed) {
  auto stub = v1::LedgerService::NewStub(channel);
  uint64_t signed_size = 0;
  {
    grpc::ClientContext context;
    SetDeadline(&context, 5000);
    v1::GetLatestCheckpointResponse response;
    const grpc::Status st = stub->GetLatestCheckpoint(&context, {}, &response);
    if (st.ok()) {
      signed_size = response.checkpoint().checkpoint().tree_size();
    } else if (st.error_code() != grpc::StatusCode::NOT_FOUND) {
      return absl::UnavailableError(absl::StrCat("GetLatestCheckpoint: ", st.error_message()));
    }
  }
  std::set<std::string> found;
  std::mt19937_64 rng(seed);
  int misses = 0;
  for (size_t attempt = 0; signed_size > 1 && attempt < 3 * count && found.size() < count;
       ++attempt) {
    grpc::ClientContext context;
    SetDeadline(&context, 5000);
    v1::ListEntriesRequest request;
    request.set_collection_id(collection);
    request.set_from_txid(absl::StrCat("1.", 1 + rng() % signed_size));
    request.set_page_size(1);
    // Any signed txid will do: a local read, not a ReadIndex round per sample.
    request.set_consistency(v1::READ_CONSISTENCY_LOCAL);
    v1::ListEntriesResponse response;
    const grpc::Status st = stub->ListEntries(&context, request, &response);
    if (!st.ok()) return absl::UnavailableError(absl::StrCat("ListEntries: ", st.error_message()));
    if (response.entries_size() == 0 || IndexOfTxid(response.entries(0).txid()) > signed_size) {
      if (++misses > 20 && found.empty()) break;  // nothing of this collection is signed
      continue;
    }
    found.insert(response.entries(0).txid());
  }
  if (found.size() >= std::max<size_t>(1, count / 10)) {
    return std::vector<std::string>(found.begin(), found.end());
  }
  auto appended = Prefill(stub.get(), collection, count, value_bytes);
  if (!appended.ok()) return appended.status();
  std::string last;
  for (const auto& t : *appended) {
    if (IndexOfTxid(t) > IndexOfTxid(last)) last = t;
  }
  grpc::ClientContext context;
  SetDeadline(&context, 30000);
  v1::GetReceiptRequest request;
  request.set_txid(last);
  request.set_wait(true);
  v1::GetReceiptResponse response;
  const grpc::Status st = stub->GetReceipt(&context, request, &response);
  if (!st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("waiting for a signature over the prefill: ", st.error_message()));
  }
  return *std::move(appended);
}

}  // namespace cairn::bench
