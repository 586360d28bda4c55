// Fuzz target: gRPC request validation of the data plane
// (node/src/service/validation.h). The bytes are what gRPC hands the
// service: a serialized AppendRequest, here after a 4-byte page size. Whatever
// they hold, validation must end in OK or InvalidArgument with a
// machine-readable reason (never a crash), and a request it accepts must be
// one the ledger can record: its fields within the configured limits and the
// leaf built from it encodable (a validated append never fails later, after
// it was proposed).
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "cairn/base/check.h"
#include "cairn/ledger/encoding.h"
#include "cairn/ledger/hash.h"
#include "cairn/node/config.h"
#include "cairn/v1/ledger.pb.h"
#include "errors/status.h"
#include "fuzz_protobuf_quiet.h"
#include "fuzz_target.h"
#include "service/validation.h"

namespace {

// Checks one request against one configuration.
void CheckAppend(const cairn::v1::AppendRequest& request, const cairn::node::NodeConfig& config) {
  using namespace cairn;
  const absl::Status st = node::ValidateAppend(request, config);
  if (!st.ok()) {
    CAIRN_CHECK(absl::IsInvalidArgument(st)) << st;
    CAIRN_CHECK(node::ErrorInfoOf(st).has_value()) << "rejection without a reason: " << st;
    return;
  }
  CAIRN_CHECK(!request.collection_id().empty());
  CAIRN_CHECK(request.collection_id().size() <= config.collection_id_bytes_max);
  CAIRN_CHECK(!request.contents().empty());
  CAIRN_CHECK(request.contents().size() <= config.entry_bytes_max);
  CAIRN_CHECK(request.idempotency_key().size() <= config.idempotency_key_bytes_max);
  // The leaf the leader builds for it (txid and user are the leader's).
  v1::LeafComponents leaf;
  leaf.set_encoding_version(ledger::kLeafEncodingVersion);
  leaf.set_kind(v1::ENTRY_KIND_USER);
  leaf.set_txid("1.1");
  leaf.set_collection_id(request.collection_id());
  leaf.set_contents_digest(std::string(ledger::HashBytes(ledger::Sha256(request.contents()))));
  leaf.set_claims_digest(request.claims_digest());
  leaf.set_user_id(std::string(64, 'a'));
  leaf.set_timestamp_unix_ms(1);
  CAIRN_CHECK_OK(ledger::EncodeLeaf(leaf).status()) << "validated append is not a valid leaf";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn;
  if (size < 4) return 0;
  const uint32_t page_size = static_cast<uint32_t>(data[0]) << 24 |
                             static_cast<uint32_t>(data[1]) << 16 |
                             static_cast<uint32_t>(data[2]) << 8 | data[3];
  static const node::NodeConfig defaults;
  static const node::NodeConfig tight = [] {
    node::NodeConfig c;
    c.collection_id_bytes_max = 8;
    c.entry_bytes_max = 16;
    c.idempotency_key_bytes_max = 4;
    c.page_size_max = 10;
    return c;
  }();
  for (const node::NodeConfig* config : {&defaults, &tight}) {
    const absl::Status st = node::ValidatePageSize(page_size, *config);
    CAIRN_CHECK(st.ok() == (page_size <= config->page_size_max)) << st;
  }
  v1::AppendRequest request;
  if (!request.ParseFromArray(data + 4, static_cast<int>(size - 4))) return 0;
  CheckAppend(request, defaults);
  CheckAppend(request, tight);
  return 0;
}

namespace cairn::fuzz {

std::vector<std::pair<std::string, std::string>> Seeds() {
  auto seed = [](uint32_t page_size, absl::string_view collection, absl::string_view contents,
                 absl::string_view claims, absl::string_view key, v1::AppendWait wait) {
    v1::AppendRequest r;
    r.set_collection_id(std::string(collection));
    r.set_contents(std::string(contents));
    r.set_claims_digest(std::string(claims));
    r.set_idempotency_key(std::string(key));
    r.set_wait(wait);
    std::string bytes = {static_cast<char>(page_size >> 24), static_cast<char>(page_size >> 16),
                         static_cast<char>(page_size >> 8), static_cast<char>(page_size)};
    return bytes + r.SerializeAsString();
  };
  return {
      {"append-minimal.bin", seed(0, "orders", "x", "", "", v1::APPEND_WAIT_COMMITTED)},
      {"append-full.bin", seed(100, "orders/eu", "contents of an entry", std::string(32, '\x22'),
                               "key-1", v1::APPEND_WAIT_NONE)},
      {"append-utf8.bin", seed(1000, "r\xc3\xa9sum\xc3\xa9", "y", "", "k", v1::APPEND_WAIT_NONE)},
      {"append-reserved.bin",
       seed(1001, "cairn.governance", "z", "", "", v1::APPEND_WAIT_COMMITTED)},
  };
}

}  // namespace cairn::fuzz
