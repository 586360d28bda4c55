// Scenario tests: story-like scripts in testdata/*.txt, each mapped to
// sections of the Raft paper and thesis, run against a controlled cluster.
//
// A script is one command per line ('#' starts a comment). Nodes are numbers;
// a message filter is FROM->TO with '*' for any, optionally followed by a
// message type (append, append-resp, heartbeat, heartbeat-resp, vote,
// vote-resp, prevote, prevote-resp, snapshot, timeout-now, read-index,
// read-index-resp, transfer-leader). Commands:
//
//   cluster voters=1,2,3 [learners=4] [spares=5,6] [pre_vote=B] [check_quorum=B]
//           [election=N] [heartbeat=N] [inflight=N] [msg_bytes=N] [uncommitted_bytes=N]
//           [read_pending=N]
//   campaign N | tick N [COUNT] | timeout N | run COUNT | deliver [FILTER] | deliver-one FILTER
//   hold N (its Readies wait: a stalled disk) | release N
//   drop [FILTER]
//   partition 1 2 | 3 | isolate N | cut A->B | heal | crash N | restart N | compact N
//   propose N DATA... | add-learner N ID | promote N ID | remove N ID | transfer N ID
//   read-index N CTX | report-unreachable N ID       (any of these may end in "-> CODE")
//   expect leader N [term T] | role N ROLE | term N T | lead N L | vote N V
//   expect commit N I | applied N I | last-index N I | first-index N I | terms N T...
//   expect applied-data N D... | voters N IDS | learners N IDS
//   expect progress N ID STATE [match=I] [inflight=K] | queued FILTER COUNT
//   expect read-state N CTX I | no-read-state N [CTX] | uncommitted-bytes N B | transferee N T
//   expect entries-per-append FILTER MAX | dump
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cluster.h"

namespace cairn::consensus::testing {
namespace {

const std::map<std::string, MessageType>& MessageTypes() {
  static const auto* types = new std::map<std::string, MessageType>{
      {"append", MessageType::kAppend},
      {"append-resp", MessageType::kAppendResponse},
      {"heartbeat", MessageType::kHeartbeat},
      {"heartbeat-resp", MessageType::kHeartbeatResponse},
      {"vote", MessageType::kVote},
      {"vote-resp", MessageType::kVoteResponse},
      {"prevote", MessageType::kPreVote},
      {"prevote-resp", MessageType::kPreVoteResponse},
      {"snapshot", MessageType::kSnapshot},
      {"timeout-now", MessageType::kTimeoutNow},
      {"read-index", MessageType::kReadIndex},
      {"read-index-resp", MessageType::kReadIndexResponse},
      {"transfer-leader", MessageType::kTransferLeader},
  };
  return *types;
}

std::string TypeName(MessageType t) {
  for (const auto& [name, type] : MessageTypes()) {
    if (type == t) return name;
  }
  return "?";
}

absl::string_view StateName(FollowerProgress::State s) {
  switch (s) {
    case FollowerProgress::State::kProbe:
      return "probe";
    case FollowerProgress::State::kReplicate:
      return "replicate";
    case FollowerProgress::State::kSnapshot:
      return "snapshot";
  }
  return "?";
}

// Thrown only inside this test driver to abort a script with a message.
struct ScriptError {
  std::string message;
};

class Interpreter {
 public:
  void Run(const std::string& path) {
    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << "cannot open " << path;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      line = line.substr(0, line.find('#'));
      std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
      if (words.empty()) continue;
      try {
        Execute(words);
      } catch (const ScriptError& e) {
        ADD_FAILURE() << path << ":" << number << ": " << line << "\n  " << e.message << "\n"
                      << Dump();
        return;
      }
    }
  }

 private:
  static uint64_t Num(const std::string& s) {
    uint64_t v = 0;
    if (!absl::SimpleAtoi(s, &v)) throw ScriptError{absl::StrCat("not a number: ", s)};
    return v;
  }

  static std::vector<NodeId> Ids(const std::string& s) {
    std::vector<NodeId> out;
    for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
      out.push_back(Num(std::string(part)));
    }
    return out;
  }

  static void Need(const std::vector<std::string>& w, size_t n) {
    if (w.size() < n) throw ScriptError{absl::StrCat("expected at least ", n - 1, " arguments")};
  }

  Cluster& cluster() {
    if (!cluster_) throw ScriptError{"no cluster yet"};
    return *cluster_;
  }

  // FROM->TO [type]: consumes words from `at`.
  std::function<bool(const Message&)> Filter(const std::vector<std::string>& w, size_t at) {
    if (at >= w.size()) return [](const Message&) { return true; };
    std::vector<std::string> ends = absl::StrSplit(w[at], "->");
    if (ends.size() != 2) throw ScriptError{absl::StrCat("bad filter ", w[at])};
    std::optional<NodeId> from, to;
    if (ends[0] != "*") from = Num(ends[0]);
    if (ends[1] != "*") to = Num(ends[1]);
    std::optional<MessageType> type;
    if (at + 1 < w.size() && MessageTypes().count(w[at + 1])) type = MessageTypes().at(w[at + 1]);
    return [=](const Message& m) {
      return (!from || m.from == *from) && (!to || m.to == *to) && (!type || m.type == *type);
    };
  }

  void CheckStatus(const absl::Status& s, const std::vector<std::string>& w) {
    auto arrow = std::find(w.begin(), w.end(), "->");
    std::string want = arrow != w.end() && arrow + 1 != w.end() ? *(arrow + 1) : "OK";
    std::string got = absl::StatusCodeToString(s.code());
    if (got != want) throw ScriptError{absl::StrCat("want ", want, ", got ", s.ToString())};
  }

  // Words before "->".
  static std::vector<std::string> Args(const std::vector<std::string>& w) {
    return std::vector<std::string>(w.begin(), std::find(w.begin(), w.end(), "->"));
  }

  void MakeCluster(const std::vector<std::string>& w) {
    Config c;
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    std::vector<NodeId> voters, learners, spares;
    for (size_t k = 1; k < w.size(); ++k) {
      std::vector<std::string> kv = absl::StrSplit(w[k], '=');
      if (kv.size() != 2) throw ScriptError{absl::StrCat("bad option ", w[k])};
      const std::string& key = kv[0];
      const std::string& v = kv[1];
      if (key == "voters")
        voters = Ids(v);
      else if (key == "learners")
        learners = Ids(v);
      else if (key == "spares")
        spares = Ids(v);
      else if (key == "pre_vote")
        c.pre_vote = v == "true";
      else if (key == "check_quorum")
        c.check_quorum = v == "true";
      else if (key == "election")
        c.election_tick = Num(v);
      else if (key == "heartbeat")
        c.heartbeat_tick = Num(v);
      else if (key == "inflight")
        c.inflight_messages_max = Num(v);
      else if (key == "msg_bytes")
        c.message_bytes_max = Num(v);
      else if (key == "uncommitted_bytes")
        c.uncommitted_bytes_max = Num(v);
      else if (key == "read_pending")
        c.read_index_pending_max = Num(v);
      else
        throw ScriptError{absl::StrCat("unknown option ", key)};
    }
    config_ = c;
    cluster_.emplace(c, voters, learners, spares);
  }

  void Execute(const std::vector<std::string>& w);
  bool ExecuteTime(const std::vector<std::string>& w);
  bool ExecuteNetwork(const std::vector<std::string>& w);
  bool ExecuteClient(const std::vector<std::string>& w);
  void Timeout(NodeId id);
  void Expect(const std::vector<std::string>& w);
  bool ExpectStatus(const std::vector<std::string>& w);
  bool ExpectContents(const std::vector<std::string>& w);
  void ExpectProgress(const std::vector<std::string>& w);

  std::string Dump() {
    if (!cluster_) return "";
    std::string out;
    for (NodeId id : cluster_->ids()) {
      if (!cluster_->alive(id)) {
        absl::StrAppend(&out, "  node ", id, ": crashed\n");
        continue;
      }
      NodeStatus s = cluster_->raw(id).Status();
      absl::StrAppend(&out, "  node ", id, ": ", RoleName(s.role), " term ", s.term, " vote ",
                      s.vote, " lead ", s.leader, " commit ", s.commit, " applied ", s.applied,
                      " log [", s.first_index, ",", s.last_index, "] voters ",
                      absl::StrJoin(s.conf_state.voters, ","), " learners ",
                      absl::StrJoin(s.conf_state.learners, ","), "\n");
    }
    for (const Message& m : cluster_->queue()) {
      absl::StrAppend(&out, "  queued ", m.from, "->", m.to, " ", TypeName(m.type), " term ",
                      m.term, " index ", m.index, " entries ", m.entries.size(), "\n");
    }
    return out;
  }

  std::optional<Cluster> cluster_;
  Config config_;
};

void Interpreter::Execute(const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  if (cmd == "cluster") return MakeCluster(w);
  if (cmd == "expect") return Expect(w);
  if (cmd == "dump") {
    std::cout << Dump();
    return;
  }
  if (ExecuteTime(w) || ExecuteNetwork(w) || ExecuteClient(w)) return;
  throw ScriptError{absl::StrCat("unknown command ", cmd)};
}

// campaign, tick, timeout, run, crash, restart, compact, hold, release.
bool Interpreter::ExecuteTime(const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  const std::vector<std::string> a = Args(w);
  Cluster& c = cluster();
  if (cmd == "campaign") {
    Need(a, 2);
    CheckStatus(c.raw(Num(a[1])).Campaign(), w);
    c.Process(Num(a[1]));
  } else if (cmd == "tick") {
    Need(a, 2);
    const uint64_t count = a.size() > 2 ? Num(a[2]) : 1;
    for (uint64_t k = 0; k < count; ++k) c.Tick(Num(a[1]));
  } else if (cmd == "timeout") {
    Need(a, 2);
    Timeout(Num(a[1]));
  } else if (cmd == "run") {
    Need(a, 2);
    for (uint64_t k = 0; k < Num(a[1]); ++k) {
      for (NodeId id : c.ids()) c.Tick(id);
      c.DeliverAll();
    }
  } else if (cmd == "crash") {
    c.Crash(Num(a.at(1)));
  } else if (cmd == "restart") {
    c.Restart(Num(a.at(1)));
    c.Process(Num(a[1]));
  } else if (cmd == "compact") {
    c.Compact(Num(a.at(1)), c.raw(Num(a[1])).Status().applied);
  } else if (cmd == "hold") {
    c.Hold(Num(a.at(1)));
  } else if (cmd == "release") {
    c.Release(Num(a.at(1)));
  } else {
    return false;
  }
  return true;
}

// Ticks a node until its election timer fires (at most two timeouts): its
// role or term changes, or it sends new (pre-)vote requests.
void Interpreter::Timeout(NodeId id) {
  Cluster& c = cluster();
  auto campaigns = [&] {
    return std::count_if(c.queue().begin(), c.queue().end(), [&](const Message& m) {
      return m.from == id && (m.type == MessageType::kVote || m.type == MessageType::kPreVote);
    });
  };
  const NodeStatus before = c.raw(id).Status();
  const auto sent = campaigns();
  for (int k = 0; k < 2 * config_.election_tick; ++k) {
    c.Tick(id);
    const NodeStatus now = c.raw(id).Status();
    if (now.role != before.role || now.term != before.term || campaigns() > sent) return;
  }
  throw ScriptError{"the election timer did not fire"};
}

// deliver, deliver-one, drop, partition, isolate, cut, heal.
bool Interpreter::ExecuteNetwork(const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  const std::vector<std::string> a = Args(w);
  Cluster& c = cluster();
  if (cmd == "deliver") {
    c.Deliver(Filter(a, 1));
  } else if (cmd == "deliver-one") {
    if (c.Deliver(Filter(a, 1), 1) != 1) throw ScriptError{"no such message queued"};
  } else if (cmd == "drop") {
    c.Drop(Filter(a, 1));
  } else if (cmd == "partition") {
    std::vector<std::vector<NodeId>> groups(1);
    for (size_t k = 1; k < a.size(); ++k) {
      if (a[k] == "|") {
        groups.emplace_back();
      } else {
        groups.back().push_back(Num(a[k]));
      }
    }
    c.Partition(groups);
  } else if (cmd == "isolate") {
    Need(a, 2);
    std::vector<NodeId> rest;
    for (NodeId id : c.ids()) {
      if (id != Num(a[1])) rest.push_back(id);
    }
    c.Partition({{Num(a[1])}, rest});
  } else if (cmd == "cut") {
    Need(a, 2);
    std::vector<std::string> ends = absl::StrSplit(a[1], "->");
    c.Cut(Num(ends.at(0)), Num(ends.at(1)));
  } else if (cmd == "heal") {
    c.Heal();
  } else {
    return false;
  }
  return true;
}

// propose, add-learner, promote, remove, transfer, read-index,
// report-unreachable: calls on one node, optionally expecting a status code.
bool Interpreter::ExecuteClient(const std::vector<std::string>& w) {
  const std::string& cmd = w[0];
  const std::vector<std::string> a = Args(w);
  Cluster& c = cluster();
  Need(a, 3);
  RawNode& node = c.raw(Num(a[1]));
  if (cmd == "propose") {
    std::vector<std::string> data(a.begin() + 2, a.end());
    CheckStatus(node.Propose(std::move(data)).status(), w);
  } else if (cmd == "add-learner" || cmd == "promote" || cmd == "remove") {
    ConfChange cc;
    cc.kind = cmd == "add-learner" ? ConfChange::Kind::kAddLearner
              : cmd == "promote"   ? ConfChange::Kind::kPromoteLearner
                                   : ConfChange::Kind::kRemoveNode;
    cc.node_id = Num(a[2]);
    CheckStatus(node.ProposeConfChange(cc, cmd + "-" + a[2]).status(), w);
  } else if (cmd == "transfer") {
    CheckStatus(node.TransferLeadership(Num(a[2])), w);
  } else if (cmd == "read-index") {
    CheckStatus(node.ReadIndex(a[2]), w);
  } else if (cmd == "report-unreachable") {
    node.ReportUnreachable(Num(a[2]));
  } else {
    return false;
  }
  c.Process(Num(a[1]));
  return true;
}

void Interpreter::Expect(const std::vector<std::string>& w) {
  Need(w, 3);
  const std::string& what = w[1];
  Cluster& c = cluster();
  if (what == "queued") {
    const auto filter = Filter(w, 2);
    const size_t want = Num(w.back());
    const size_t got = std::count_if(c.queue().begin(), c.queue().end(), filter);
    if (got != want) throw ScriptError{absl::StrCat("queued: want ", want, ", got ", got)};
    return;
  }
  if (what == "entries-per-append") {
    const auto filter = Filter(w, 2);
    const size_t max = Num(w.back());
    for (const Message& m : c.queue()) {
      if (filter(m) && m.type == MessageType::kAppend && m.entries.size() > max) {
        throw ScriptError{absl::StrCat("an append carries ", m.entries.size(), " entries")};
      }
    }
    return;
  }
  if (what == "progress") return ExpectProgress(w);
  if (what == "crashed") {
    if (c.alive(Num(w[2]))) throw ScriptError{"node is alive"};
    return;
  }
  if (ExpectStatus(w) || ExpectContents(w)) return;
  throw ScriptError{absl::StrCat("unknown expectation ", what)};
}

namespace {
void Equal(const std::string& name, uint64_t want, uint64_t got) {
  if (want != got) throw ScriptError{absl::StrCat(name, ": want ", want, ", got ", got)};
}
}  // namespace

// leader, role, and the numbers of NodeStatus.
bool Interpreter::ExpectStatus(const std::vector<std::string>& w) {
  const std::string& what = w[1];
  const NodeId id = Num(w[2]);
  const NodeStatus s = cluster().raw(id).Status();
  if (what == "leader") {
    if (s.role != Role::kLeader) {
      throw ScriptError{absl::StrCat("node ", id, " is ", RoleName(s.role))};
    }
    if (w.size() >= 5 && w[3] == "term") Equal("term", Num(w[4]), s.term);
    return true;
  }
  if (what == "role") {
    Need(w, 4);
    if (RoleName(s.role) != w[3]) throw ScriptError{absl::StrCat("role is ", RoleName(s.role))};
    return true;
  }
  const std::map<std::string, uint64_t> numbers = {
      {"term", s.term},
      {"lead", s.leader},
      {"vote", s.vote},
      {"commit", s.commit},
      {"applied", s.applied},
      {"last-index", s.last_index},
      {"first-index", s.first_index},
      {"uncommitted-bytes", s.uncommitted_bytes},
      {"transferee", s.lead_transferee},
  };
  auto it = numbers.find(what);
  if (it == numbers.end()) return false;
  Equal(what, Num(w.at(3)), it->second);
  return true;
}

// terms, applied-data, voters, learners, read-state, no-read-state.
bool Interpreter::ExpectContents(const std::vector<std::string>& w) {
  const std::string& what = w[1];
  const NodeId id = Num(w[2]);
  Cluster& c = cluster();
  const std::vector<std::string> want(w.begin() + 3, w.end());
  std::vector<std::string> got;
  if (what == "terms") {
    const NodeStatus s = c.raw(id).Status();
    for (Index i = s.first_index; i <= s.last_index; ++i) {
      got.push_back(absl::StrCat(*c.raw(id).TermAt(i)));
    }
  } else if (what == "applied-data") {
    for (const Entry& e : c.node(id).applied) {
      if (!e.data.empty()) got.push_back(e.data);
    }
  } else if (what == "voters" || what == "learners") {
    const ConfState conf = c.raw(id).Status().conf_state;
    const auto& ids = what == "voters" ? conf.voters : conf.learners;
    if (!ids.empty()) got.push_back(absl::StrJoin(ids, ","));
  } else if (what == "read-state" || what == "no-read-state") {
    // The read states of node `id` whose context is w[3] (or all).
    for (const ReadState& r : c.node(id).read_states) {
      if (w.size() < 4 || r.context == w[3]) got.push_back(absl::StrCat(r.context, " ", r.index));
    }
    if (what == "no-read-state") {
      if (!got.empty()) throw ScriptError{absl::StrCat("read state ", got[0])};
      return true;
    }
    Need(w, 5);
    if (got.empty()) throw ScriptError{absl::StrCat("no read state ", w[3])};
    got = {got.back()};
    return got[0] == absl::StrCat(w[3], " ", w[4])
               ? true
               : throw ScriptError{absl::StrCat("read state ", got[0])};
  } else {
    return false;
  }
  if (got != want) throw ScriptError{absl::StrCat(what, ": ", absl::StrJoin(got, " "))};
  return true;
}

void Interpreter::ExpectProgress(const std::vector<std::string>& w) {
  Need(w, 5);
  const NodeId leader = Num(w[2]), follower = Num(w[3]);
  for (const FollowerProgress& p : cluster().raw(leader).Progress()) {
    if (p.id != follower) continue;
    if (StateName(p.state) != w[4]) {
      throw ScriptError{absl::StrCat("state is ", StateName(p.state))};
    }
    for (size_t k = 5; k < w.size(); ++k) {
      std::vector<std::string> kv = absl::StrSplit(w[k], '=');
      const uint64_t want = Num(kv.at(1));
      const uint64_t got = kv[0] == "match"      ? p.match
                           : kv[0] == "next"     ? p.next
                           : kv[0] == "inflight" ? p.inflight_messages
                                                 : throw ScriptError{"unknown field"};
      if (want != got) throw ScriptError{absl::StrCat(kv[0], ": want ", want, ", got ", got)};
    }
    return;
  }
  throw ScriptError{absl::StrCat("leader ", leader, " has no progress for ", follower)};
}

std::vector<std::string> ScriptFiles() {
  std::vector<std::string> files;
  DIR* dir = opendir(CAIRN_CONSENSUS_TESTDATA);
  if (dir == nullptr) return files;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name.size() > 4 && name.substr(name.size() - 4) == ".txt") files.push_back(name);
  }
  closedir(dir);
  std::sort(files.begin(), files.end());
  return files;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, Runs) {
  Interpreter interpreter;
  interpreter.Run(absl::StrCat(CAIRN_CONSENSUS_TESTDATA, "/", GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Scripts, ScenarioTest, ::testing::ValuesIn(ScriptFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(ScenarioFiles, Exist) { EXPECT_GE(ScriptFiles().size(), 10u); }

}  // namespace
}  // namespace cairn::consensus::testing
