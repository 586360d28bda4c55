// Canonical leaf and checkpoint encodings (encoding.h) against golden bytes
// computed independently from docs/formats.md, field validation, and the
// log entry to leaf mapping (entry.h).
#include "cairn/ledger/encoding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "absl/strings/match.h"
#include "cairn/base/check.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/entry.h"
#include "cairn/ledger/merkle.h"
#include "cairn/v1/log.pb.h"

namespace cairn::ledger {
namespace {

using ::testing::HasSubstr;

constexpr char kUserId[] = "cab4f1161514fe75bfaabc3ee2283d75a2197dbc7d9b915213c78598c40c3171";
constexpr char kServiceId[] = "c5eca385640f3db461d7361323e587400f1e33d6484f19a748426482c4dbccf9";

v1::LeafComponents GoldenLeaf() {
  v1::LeafComponents leaf;
  leaf.set_encoding_version(1);
  leaf.set_kind(v1::ENTRY_KIND_USER);
  leaf.set_txid("3.1042");
  leaf.set_collection_id("orders");
  leaf.set_contents_digest(HashToString(Sha256("hello")));
  std::string claims;
  for (int i = 0; i < 32; ++i) claims.push_back(static_cast<char>(i));
  leaf.set_claims_digest(claims);
  leaf.set_user_id(kUserId);
  leaf.set_timestamp_unix_ms(1700000000123);
  return leaf;
}

v1::Checkpoint GoldenCheckpoint() {
  v1::Checkpoint cp;
  cp.set_service_id(kServiceId);
  cp.set_tree_size(1042);
  cp.set_root_hash(HashToString(Sha256("root")));
  cp.set_last_txid("3.1042");
  cp.set_timestamp_unix_ms(1700000000999);
  return cp;
}

TEST(LeafEncodingTest, MatchesTheDocumentedBytes) {
  auto bytes = EncodeLeaf(GoldenLeaf());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(base::HexEncode(*bytes),
            "636169726e2d6c65616601010000000000000003000000000000041200066f72646572732cf24dba5f"
            "b0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b982401000102030405060708090a0b0c"
            "0d0e0f101112131415161718191a1b1c1d1e1f01cab4f1161514fe75bfaabc3ee2283d75a2197dbc7d"
            "9b915213c78598c40c31710000018bcfe5687b");
  EXPECT_EQ(HashToHex(*LeafHashOf(GoldenLeaf())),
            "8101d27f6ebdadce4d07871099dd77434728fe408e6d8654119ce94a8280e978");
}

TEST(LeafEncodingTest, EveryFieldChangesTheBytes) {
  const std::vector<std::function<void(v1::LeafComponents&)>> changes = {
      [](auto& l) { l.set_txid("4.1042"); },
      [](auto& l) { l.set_txid("3.1043"); },
      [](auto& l) { l.set_collection_id("orders2"); },
      [](auto& l) { l.set_collection_id("order"); },
      [](auto& l) { l.set_contents_digest(HashToString(Sha256("hellp"))); },
      [](auto& l) { l.clear_claims_digest(); },
      [](auto& l) { l.set_claims_digest(std::string(32, '\0')); },
      [](auto& l) { l.set_user_id(std::string(64, 'a')); },
      [](auto& l) { l.set_timestamp_unix_ms(1700000000124); },
      [](auto& l) { l.set_timestamp_unix_ms(0); },
  };
  std::set<std::string> seen = {*EncodeLeaf(GoldenLeaf())};
  for (const auto& change : changes) {
    v1::LeafComponents leaf = GoldenLeaf();
    change(leaf);
    auto bytes = EncodeLeaf(leaf);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_TRUE(seen.insert(*bytes).second) << leaf.ShortDebugString();
  }
}

// docs/formats.md, "From log entry to leaf": fields a kind does not use are
// refused, so a verifier given a leaf can rely on the table.
TEST(LeafEncodingTest, TheEntryToLeafTableIsEnforced) {
  const auto service_leaf = [](v1::EntryKind kind, const char* collection) {
    v1::LeafComponents leaf = GoldenLeaf();
    leaf.set_kind(kind);
    leaf.set_collection_id(collection);
    leaf.clear_claims_digest();
    leaf.clear_user_id();
    if (kind == v1::ENTRY_KIND_INTERNAL) {
      leaf.set_contents_digest(HashToString(Sha256("")));
      leaf.set_timestamp_unix_ms(0);
    }
    return leaf;
  };
  const v1::LeafComponents governance = service_leaf(v1::ENTRY_KIND_GOVERNANCE, "cairn.governance");
  const v1::LeafComponents signature = service_leaf(v1::ENTRY_KIND_SIGNATURE, "cairn.signatures");
  const v1::LeafComponents internal = service_leaf(v1::ENTRY_KIND_INTERNAL, "cairn.internal");
  for (const v1::LeafComponents& leaf : {governance, signature, internal}) {
    ASSERT_TRUE(EncodeLeaf(leaf).ok()) << EncodeLeaf(leaf).status();
    v1::LeafComponents claims = leaf;
    claims.set_claims_digest(std::string(32, 'c'));
    EXPECT_THAT(EncodeLeaf(claims).status().message(), HasSubstr("claims_digest: must be empty"));
  }
  // A governance entry names its administrator, or no one (genesis).
  v1::LeafComponents admin = governance;
  admin.set_user_id(kUserId);
  ASSERT_TRUE(EncodeLeaf(admin).ok());
  EXPECT_NE(*EncodeLeaf(admin), *EncodeLeaf(governance));
  for (v1::LeafComponents leaf : {signature, internal}) {
    leaf.set_user_id(kUserId);
    EXPECT_THAT(EncodeLeaf(leaf).status().message(), HasSubstr("user_id: must be empty"));
  }
  v1::LeafComponents user = GoldenLeaf();
  user.clear_user_id();
  EXPECT_THAT(EncodeLeaf(user).status().message(), HasSubstr("must name its user"));
  v1::LeafComponents late = internal;
  late.set_timestamp_unix_ms(1);
  EXPECT_THAT(EncodeLeaf(late).status().message(), HasSubstr("must be 0 in an internal entry"));
  v1::LeafComponents full = internal;
  full.set_contents_digest(HashToString(Sha256("x")));
  EXPECT_THAT(EncodeLeaf(full).status().message(), HasSubstr("internal entry is empty"));
}

TEST(LeafEncodingTest, InvalidFieldsAreNamed) {
  struct Case {
    std::function<void(v1::LeafComponents&)> change;
    const char* field;
  };
  const std::vector<Case> cases = {
      {[](auto& l) { l.set_encoding_version(2); }, "encoding_version"},
      {[](auto& l) { l.set_encoding_version(0); }, "encoding_version"},
      {[](auto& l) { l.set_kind(v1::ENTRY_KIND_UNSPECIFIED); }, "kind"},
      {[](auto& l) { l.set_kind(static_cast<v1::EntryKind>(9)); }, "kind"},
      {[](auto& l) { l.set_txid("3.0"); }, "txid"},
      {[](auto& l) { l.set_txid(""); }, "txid"},
      {[](auto& l) { l.set_collection_id(""); }, "collection_id"},
      {[](auto& l) { l.set_collection_id(std::string(257, 'c')); }, "collection_id"},
      {[](auto& l) { l.set_collection_id("bad\xc3"); }, "UTF-8"},
      {[](auto& l) { l.set_collection_id("bad\xc0\x80"); }, "UTF-8"},
      {[](auto& l) { l.set_collection_id("tab\there"); }, "control"},
      {[](auto& l) { l.set_collection_id("cairn.governance"); }, "reserved"},
      {[](auto& l) { l.set_kind(v1::ENTRY_KIND_GOVERNANCE); }, "cairn.governance"},
      {[](auto& l) { l.set_contents_digest("short"); }, "contents_digest"},
      {[](auto& l) { l.set_claims_digest(std::string(31, 'c')); }, "claims_digest"},
      {[](auto& l) { l.set_user_id(std::string(64, 'A')); }, "user_id"},
      {[](auto& l) { l.set_user_id("abc"); }, "user_id"},
      {[](auto& l) { l.set_timestamp_unix_ms(-1); }, "timestamp_unix_ms"},
  };
  for (const Case& c : cases) {
    v1::LeafComponents leaf = GoldenLeaf();
    c.change(leaf);
    auto bytes = EncodeLeaf(leaf);
    EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(bytes.status().message(), HasSubstr(c.field));
  }
  // A 256-byte collection and multi-byte UTF-8 are fine.
  v1::LeafComponents leaf = GoldenLeaf();
  leaf.set_collection_id(std::string(256, 'c'));
  EXPECT_TRUE(EncodeLeaf(leaf).ok());
  leaf.set_collection_id("caf\xc3\xa9-\xf0\x9f\x93\x9c");
  EXPECT_TRUE(EncodeLeaf(leaf).ok());
}

TEST(CheckpointEncodingTest, MatchesTheDocumentedBytes) {
  auto bytes = EncodeCheckpoint(GoldenCheckpoint());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(base::HexEncode(*bytes),
            "636169726e2d636865636b706f696e742d7631c5eca385640f3db461d7361323e587400f1e33d648"
            "4f19a748426482c4dbccf900000000000004124813494d137e1631bba301d5acab6e7bb7aa74ce11"
            "85d456565ef51d737677b2000000000000000300000000000004120000018bcfe56be7");
  EXPECT_FALSE(absl::StartsWith(*bytes, kLeafMagic));
}

TEST(CheckpointEncodingTest, InvalidFieldsAreNamed) {
  struct Case {
    std::function<void(v1::Checkpoint&)> change;
    const char* message;
  };
  const std::vector<Case> cases = {
      {[](auto& c) { c.set_service_id(""); }, "service_id"},
      {[](auto& c) { c.set_service_id(std::string(64, 'G')); }, "service_id"},
      {[](auto& c) {
         c.set_tree_size(0);
         c.set_last_txid("");
       },
       "tree_size"},
      {[](auto& c) { c.set_root_hash(""); }, "root_hash"},
      {[](auto& c) { c.set_last_txid("3.1041"); }, "is not the tree size"},
      {[](auto& c) { c.set_last_txid("3.x"); }, "last_txid"},
      {[](auto& c) { c.set_timestamp_unix_ms(-5); }, "timestamp_unix_ms"},
  };
  for (const Case& c : cases) {
    v1::Checkpoint cp = GoldenCheckpoint();
    c.change(cp);
    EXPECT_THAT(EncodeCheckpoint(cp).status().message(), HasSubstr(c.message));
  }
}

std::string Serialize(const v1::LogCommand& command) {
  std::string out;
  CAIRN_CHECK(command.SerializeToString(&out));
  return out;
}

TEST(LeafComponentsForTest, UserEntriesBindContentsClaimsUserAndTime) {
  v1::LogCommand command;
  v1::UserTransaction* tx = command.mutable_user();
  tx->set_collection_id("orders");
  tx->set_contents("hello");
  tx->set_claims_digest(std::string(32, '\x07'));
  tx->set_user_id(kUserId);
  tx->set_idempotency_key("k1");
  tx->set_timestamp_unix_ms(1700000000123);
  auto leaf = LeafComponentsFor(3, 1042, Serialize(command));
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(leaf->encoding_version(), 1u);
  EXPECT_EQ(leaf->kind(), v1::ENTRY_KIND_USER);
  EXPECT_EQ(leaf->txid(), "3.1042");
  EXPECT_EQ(leaf->collection_id(), "orders");
  EXPECT_EQ(leaf->contents_digest(), HashToString(Sha256("hello")));
  EXPECT_EQ(leaf->claims_digest(), std::string(32, '\x07'));
  EXPECT_EQ(leaf->user_id(), kUserId);
  EXPECT_EQ(leaf->timestamp_unix_ms(), 1700000000123);
  EXPECT_EQ(*LeafHashFor(3, 1042, Serialize(command)), LeafHash(*EncodeLeaf(*leaf)));
}

TEST(LeafComponentsForTest, ServiceEntriesUseReservedCollectionsAndBindEveryByte) {
  v1::LogCommand gov;
  gov.mutable_governance()->set_user_id(kUserId);
  gov.mutable_governance()->set_timestamp_unix_ms(77);
  gov.mutable_governance()->set_remove_user_id("x");
  const std::string gov_bytes = Serialize(gov);
  auto g = LeafComponentsFor(1, 2, gov_bytes);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->kind(), v1::ENTRY_KIND_GOVERNANCE);
  EXPECT_EQ(g->collection_id(), "cairn.governance");
  EXPECT_EQ(g->contents_digest(), HashToString(Sha256(gov_bytes)));
  EXPECT_EQ(g->user_id(), kUserId);
  EXPECT_EQ(g->timestamp_unix_ms(), 77);
  EXPECT_TRUE(EncodeLeaf(*g).ok());

  v1::LogCommand sig;
  sig.mutable_signature()->mutable_checkpoint()->mutable_checkpoint()->set_timestamp_unix_ms(99);
  auto s = LeafComponentsFor(2, 5, Serialize(sig));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->kind(), v1::ENTRY_KIND_SIGNATURE);
  EXPECT_EQ(s->collection_id(), "cairn.signatures");
  EXPECT_EQ(s->user_id(), "");
  EXPECT_EQ(s->timestamp_unix_ms(), 99);
  EXPECT_TRUE(EncodeLeaf(*s).ok());

  auto i = LeafComponentsFor(2, 3, "");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->kind(), v1::ENTRY_KIND_INTERNAL);
  EXPECT_EQ(i->collection_id(), "cairn.internal");
  EXPECT_EQ(i->contents_digest(), HashToString(EmptyRoot()));
  EXPECT_TRUE(EncodeLeaf(*i).ok());
}

TEST(LeafComponentsForTest, BadEntriesNameTheirTxid) {
  EXPECT_THAT(LeafComponentsFor(2, 9, "\xff\xff\xff").status().message(), HasSubstr("2.9"));
  // Only an unknown field: parses, but holds no command.
  EXPECT_THAT(LeafComponentsFor(2, 9, std::string("\xa0\x06\x01", 3)).status().message(),
              HasSubstr("no command"));
  v1::LogCommand command;
  command.mutable_user()->set_collection_id("cairn.sneaky");
  command.mutable_user()->set_user_id(kUserId);
  auto reserved = LeafComponentsFor(4, 10, Serialize(command));
  EXPECT_THAT(reserved.status().message(), HasSubstr("4.10"));
  EXPECT_THAT(reserved.status().message(), HasSubstr("reserved"));
  command.mutable_user()->set_collection_id("ok");
  command.mutable_user()->set_claims_digest("short");
  EXPECT_THAT(LeafComponentsFor(4, 10, Serialize(command)).status().message(),
              HasSubstr("claims_digest"));
  EXPECT_FALSE(LeafComponentsFor(0, 10, "").ok());
  EXPECT_FALSE(LeafComponentsFor(1, 0, "").ok());
}

TEST(ValidateUserTransactionTest, RequiresWhatALeafNeeds) {
  v1::UserTransaction tx;
  tx.set_collection_id("orders");
  tx.set_user_id(kUserId);
  EXPECT_TRUE(ValidateUserTransaction(tx).ok());
  tx.set_user_id("");
  EXPECT_THAT(ValidateUserTransaction(tx).message(), HasSubstr("user_id"));
  tx.set_user_id(kUserId);
  tx.set_collection_id("cairn.x");
  EXPECT_THAT(ValidateUserTransaction(tx).message(), HasSubstr("collection_id"));
}

}  // namespace
}  // namespace cairn::ledger
