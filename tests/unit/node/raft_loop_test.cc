// The node's real Raft loop (RaftLoop, not a copy), driven one iteration at a
// time with recorded peers, so an interleaving seen in a live cluster can be
// replayed exactly. The first story is the lost acknowledged write of the
// safety issue: a leader is deposed while a keyed append is in flight, the
// new leader's entry takes that index, and a retry of the append reaches the
// old leader in the same loop iteration as the message that deposes it. The
// retry must never be answered with the new leader's entry.
#include "raft/raft_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "cairn/storage/ledger_store.h"
#include "cairn/storage/raft_log_store.h"
#include "errors/status.h"
#include "ledger_fixture.h"
#include "raft/stored_log.h"

namespace cairn::node {
namespace {

using consensus::Message;
using consensus::MessageType;
using ::testing::HasSubstr;

class RecordingPeers final : public PeerTransport, public SnapshotTransfers {
 public:
  void SetPeer(consensus::NodeId, const std::string&) override {}
  void RemovePeer(consensus::NodeId) override {}
  std::vector<consensus::NodeId> PeerIds() override { return {2, 3}; }
  void Send(std::vector<Message> messages) override {
    absl::MutexLock lock(&mu_);
    for (auto& m : messages) sent_.push_back(std::move(m));
  }
  void Send(Message message) override { Send(std::vector<Message>{std::move(message)}); }

  // Removes and returns the first sent message of `type`, if any.
  std::optional<Message> Take(MessageType type) {
    absl::MutexLock lock(&mu_);
    for (auto it = sent_.begin(); it != sent_.end(); ++it) {
      if (it->type == type) {
        Message m = std::move(*it);
        sent_.erase(it);
        return m;
      }
    }
    return std::nullopt;
  }

 private:
  absl::Mutex mu_;
  std::vector<Message> sent_ ABSL_GUARDED_BY(mu_);
};

// What a Propose callback was answered with, filled on whichever thread
// answers it.
class Answer {
 public:
  RaftLoop::ProposeDone Callback() {
    return [this](absl::StatusOr<CommitResult> r) {
      absl::MutexLock lock(&mu_);
      result_ = std::move(r);
    };
  }
  bool has_value() {
    absl::MutexLock lock(&mu_);
    return result_.has_value();
  }
  absl::StatusOr<CommitResult> get() {
    absl::MutexLock lock(&mu_);
    return *result_;
  }

 private:
  absl::Mutex mu_;
  std::optional<absl::StatusOr<CommitResult>> result_ ABSL_GUARDED_BY(mu_);
};

std::string ReasonOf(const absl::Status& st) {
  auto info = ErrorInfoOf(st);
  return info ? info->reason() : "(none)";
}

class RaftLoopTest : public LedgerFixture {
 protected:
  void StartLoop(bool inject_bug) {
    CAIRN_CHECK_OK(db_->raft_log().Bootstrap(consensus::ConfState{{1, 2, 3}, {}}));
    RaftLoopOptions o;
    o.node_id = 1;
    o.own_thread = false;
    o.random_seed = 42;
    o.signature_interval_txs = 1'000'000;  // no signature gets in the way
    o.signature_interval_ms = 3'600'000;
    o.inject_stale_idempotency_join = inject_bug;
    signer_ = std::make_unique<NodeSigner>(
        SignerIdentity{1, pki_.service_cert->Fingerprint(), &*pki_.node_cert, &*pki_.node_key});
    raft_log_ = std::make_unique<StoredRaftLog>(&db_->raft_log());
    loop_ = std::make_unique<RaftLoop>(o, raft_log_.get(), applier_.get(), &peers_, &peers_,
                                       &governance_, signer_.get(), &metrics_, &applied_, &signed_);
    ASSERT_TRUE(loop_->Start().ok());
  }
  void TearDown() override {
    if (loop_) loop_->Stop();
  }

  // Ticks until the loop sends a message of `type`; returns it.
  Message TickUntilSent(MessageType type) {
    for (int i = 0; i < 1000; ++i) {
      if (auto m = peers_.Take(type)) return *m;
      Drive(/*tick=*/true);
    }
    ADD_FAILURE() << "the loop never sent message type " << static_cast<int>(type);
    return {};
  }
  void Drive(bool tick) { loop_->DriveOnce(tick, RaftLoop::Clock::now()); }
  // Drives (without ticks) until `done` holds. The apply stage and waiter
  // pump run inline here, so what is due happens within a few iterations.
  template <typename Pred>
  void DriveUntil(Pred done, const char* what) {
    for (int i = 0; i < 100 && !done(); ++i) Drive(/*tick=*/false);
    ASSERT_TRUE(done()) << "not reached after 100 iterations: " << what;
  }
  static Message Reply(MessageType type, const Message& to, consensus::Index index = 0) {
    Message r;
    r.type = type;
    r.from = to.to;
    r.to = 1;
    r.term = to.term;
    r.index = index;
    return r;
  }
  // Node 1 wins the election of term 1 with node 2's votes, and node 2
  // acknowledges its first entry, so index 1 commits and applies.
  void BecomeLeaderOfTerm1() {
    loop_->Step({Reply(MessageType::kPreVoteResponse, TickUntilSent(MessageType::kPreVote))});
    loop_->Step({Reply(MessageType::kVoteResponse, TickUntilSent(MessageType::kVote))});
    const Message append = TickUntilSent(MessageType::kAppend);
    ASSERT_EQ(append.term, 1u);
    ASSERT_EQ(loop_->status().node.role, consensus::Role::kLeader);
    loop_->Step({Reply(MessageType::kAppendResponse, append, 1)});
    DriveUntil([&] { return applier_->applied_index() == 1; }, "index 1 to apply");
  }
  std::string UserCommand(const std::string& contents) {
    return User(contents, "key-A");  // every attempt of append A carries key-A
  }
  AppendIdentity IdentityFor(const std::string& command) { return IdentityOfEntry(command); }
  RaftLoop::Clock::time_point Later() { return RaftLoop::Clock::now() + std::chrono::hours(1); }

  // The story of the safety issue, up to the answers of both attempts.
  void DeposedLeaderGetsTheRetry(Answer& first, Answer& retry) {
    BecomeLeaderOfTerm1();
    // Append A is proposed at 1.2 and sent, but no follower acknowledges it.
    const std::string a = UserCommand("A");
    loop_->Propose(a, IdentityFor(a), true, Later(), first.Callback());
    Drive(false);
    ASSERT_TRUE(peers_.Take(MessageType::kAppend).has_value());
    ASSERT_FALSE(first.has_value());
    // Node 2 won term 2 without node 1 and committed its empty entry at
    // index 2. Its append and the client's retry of A reach node 1 in the
    // same iteration (as after SIGCONT): the Step deposes node 1 and
    // replaces 1.2 by 2.2 before the retry runs.
    Message new_leader;
    new_leader.type = MessageType::kAppend;
    new_leader.from = 2;
    new_leader.to = 1;
    new_leader.term = 2;
    new_leader.index = 1;
    new_leader.log_term = 1;
    new_leader.entries.push_back(consensus::Entry{2, 2, "", std::nullopt});
    new_leader.commit = 2;
    loop_->Step({new_leader});
    const std::string a_retry = UserCommand("A");
    loop_->Propose(a_retry, IdentityFor(a_retry), true, Later(), retry.Callback());
    Drive(false);
    DriveUntil([&] { return first.has_value() && retry.has_value(); }, "both attempts' answers");
  }

  NodeMetrics metrics_;
  IndexWaiters applied_{1000};
  IndexWaiters signed_{1000};
  RecordingPeers peers_;
  std::unique_ptr<NodeSigner> signer_;
  std::unique_ptr<StoredRaftLog> raft_log_;
  std::unique_ptr<RaftLoop> loop_;
};

TEST_F(RaftLoopTest, RetryReachingADeposedLeaderIsNeverAnsweredWithTheNewLeadersEntry) {
  StartLoop(/*inject_bug=*/false);
  Answer first, retry;
  DeposedLeaderGetsTheRetry(first, retry);

  // The first attempt's entry was replaced: it was not written.
  ASSERT_FALSE(first.get().ok());
  EXPECT_EQ(ReasonOf(first.get().status()), "LOST_TO_LEADER_CHANGE");
  EXPECT_THAT(first.get().status().message(), HasSubstr("1.2"));
  // The retry is refused as "not written here": the client retries on the
  // leader. Never OK with txid 2.2, which holds nothing of A.
  ASSERT_FALSE(retry.get().ok()) << "answered " << retry.get()->txid.ToString();
  EXPECT_EQ(ReasonOf(retry.get().status()), "NOT_LEADER");
  auto entry = db_->ledger().Get(2);
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(entry->data.empty());
}

// The same story with the fix taken out by the test-only switch: the retry
// is answered OK, duplicate, with the new leader's empty entry. This is the
// acknowledged write that was lost; the test above fails the same way
// without the fix.
TEST_F(RaftLoopTest, InjectedStaleJoinAnswersTheRetryWithAnotherEntry) {
  StartLoop(/*inject_bug=*/true);
  Answer first, retry;
  DeposedLeaderGetsTheRetry(first, retry);
  ASSERT_TRUE(retry.get().ok());
  EXPECT_EQ(retry.get()->txid.ToString(), "2.2");
  EXPECT_TRUE(retry.get()->duplicate_of.has_value());
}

// A retry that reaches the leader while its first attempt is in flight
// joins it; one whose key is in flight for other contents is refused.
TEST_F(RaftLoopTest, RetryInFlightJoinsOnlyTheSameContents) {
  StartLoop(/*inject_bug=*/false);
  BecomeLeaderOfTerm1();
  Answer first, same, other;
  const std::string a = UserCommand("A");
  loop_->Propose(a, IdentityFor(a), true, Later(), first.Callback());
  const std::string b = UserCommand("B");
  loop_->Propose(b, IdentityFor(b), true, Later(), other.Callback());
  const std::string a2 = UserCommand("A");
  loop_->Propose(a2, IdentityFor(a2), true, Later(), same.Callback());
  Drive(false);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(ReasonOf(other.get().status()), "IDEMPOTENCY_KEY_REUSED");
  EXPECT_THAT(other.get().status().message(), HasSubstr("1.2"));
  const Message append = TickUntilSent(MessageType::kAppend);
  loop_->Step({Reply(MessageType::kAppendResponse, append, 2)});
  DriveUntil([&] { return first.has_value() && same.has_value(); }, "A to commit");
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(same.get().ok());
  EXPECT_EQ(first.get()->txid.ToString(), "1.2");
  EXPECT_EQ(same.get()->txid.ToString(), "1.2");
  EXPECT_TRUE(same.get()->duplicate_of.has_value());
  EXPECT_EQ(db_->raft_log().LastIndex(), 2u);  // A was written once
}

}  // namespace
}  // namespace cairn::node
