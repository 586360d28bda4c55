// cairnctl users / nodes / transfer-leader / snapshot / cluster: the
// AdminService through the SDK. Governance changes print the txid of the
// transaction that recorded them. The cluster status is also `nodes status`
// and plain `status` (cmd_data.cc).
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli_util.h"
#include "data_commands.h"

namespace cairn::cli {
namespace {

std::string RoleName(v1::Role role) {
  return absl::AsciiStrToLower(v1::Role_Name(role).substr(5));  // ROLE_READER -> reader
}

// Prints the txid of a governance change.
int PrintTxid(const absl::StatusOr<std::string>& txid, const GlobalOptions& options) {
  if (!txid.ok()) return ReportFailure(txid.status(), options);
  if (options.json) {
    PrintJson({{"txid", *txid}});
  } else {
    std::cout << *txid << "\n";
  }
  return kExitOk;
}

// Registers `name` under `parent`; `run` becomes the action when parsed.
CLI::App* Command(CLI::App* parent, const std::string& name, const std::string& description,
                  Action* action, std::function<int()> run) {
  CLI::App* cmd = parent->add_subcommand(name, description);
  cmd->callback([action, run = std::move(run)] { *action = run; });
  return cmd;
}

nlohmann::ordered_json UserJson(const v1::User& u) {
  return {{"user_id", u.user_id()}, {"role", RoleName(u.role())}, {"description", u.description()}};
}

struct PutUserArgs {
  std::string user_id;
  std::string cert_file;
  std::string role;
  std::string description;
};

int RunPutUser(const PutUserArgs& args, const GlobalOptions& options) {
  if (args.user_id.empty() == args.cert_file.empty()) {
    std::cerr << "cairnctl: give --user-id or --cert-file (one of them)\n";
    return kExitUsage;
  }
  std::string pem;
  if (!args.cert_file.empty()) {
    absl::StatusOr<std::string> read = ReadInput(args.cert_file);
    if (!read.ok()) {
      std::cerr << "cairnctl: --cert-file: " << read.status().message() << "\n";
      return kExitUsage;
    }
    pem = *std::move(read);
  }
  v1::User user;
  user.set_user_id(args.user_id);
  v1::Role role = v1::ROLE_UNSPECIFIED;
  v1::Role_Parse("ROLE_" + absl::AsciiStrToUpper(args.role), &role);
  user.set_role(role);
  user.set_description(args.description);
  return WithClient(options,
                    [&](client::Client& c) { return PrintTxid(c.PutUser(user, pem), options); });
}

void RegisterUsers(CLI::App& app, GlobalOptions& options, Action* action) {
  CLI::App* users = app.add_subcommand("users", "Users and their roles (Administrator)");
  users->require_subcommand(1);

  auto put = std::make_shared<PutUserArgs>();
  CLI::App* cmd = Command(users, "put", "Add a user or change its role; prints the txid", action,
                          [put, &options] { return RunPutUser(*put, options); });
  cmd->add_option("--user-id", put->user_id, "The user's id (certificate fingerprint, hex)");
  cmd->add_option("--cert-file", put->cert_file, "The user's certificate (PEM); id computed");
  cmd->add_option("--role", put->role, "reader, contributor or administrator")
      ->required()
      ->transform(CLI::IsMember({"reader", "contributor", "administrator"}, CLI::ignore_case));
  cmd->add_option("--description", put->description, "Free text shown in listings");

  auto id = std::make_shared<std::string>();
  cmd = Command(users, "remove", "Remove a user; prints the txid", action, [id, &options] {
    return WithClient(options,
                      [&](client::Client& c) { return PrintTxid(c.RemoveUser(*id), options); });
  });
  cmd->add_option("user_id", *id, "The user's id")->required();

  auto get_id = std::make_shared<std::string>();
  cmd = Command(users, "get", "Print one user", action, [get_id, &options] {
    return WithClient(options, [&](client::Client& c) {
      auto u = c.GetUser(*get_id);
      if (!u.ok()) return ReportFailure(u.status(), options);
      if (options.json) {
        PrintJson(UserJson(*u));
      } else {
        std::cout << u->user_id() << "\t" << RoleName(u->role()) << "\t" << u->description()
                  << "\n";
      }
      return kExitOk;
    });
  });
  cmd->add_option("user_id", *get_id, "The user's id")->required();

  Command(users, "list", "List users by id", action, [&options] {
    return WithClient(options, [&](client::Client& c) {
      auto list = c.ListUsers();
      if (!list.ok()) return ReportFailure(list.status(), options);
      nlohmann::ordered_json all = nlohmann::ordered_json::array();
      for (const v1::User& u : *list) {
        all.push_back(UserJson(u));
        if (!options.json) {
          std::cout << u.user_id() << "\t" << RoleName(u.role()) << "\t" << u.description() << "\n";
        }
      }
      if (options.json) PrintJson({{"users", all}});
      return kExitOk;
    });
  });
}

}  // namespace

int RunClusterStatus(const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    auto s = c.GetClusterStatus();
    if (!s.ok()) return ReportFailure(s.status(), options);
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const v1::NodeStatus& n : s->nodes()) {
      nodes.push_back({{"node_id", n.node().node_id()},
                       {"client_address", n.node().client_address()},
                       {"peer_address", n.node().peer_address()},
                       {"membership", v1::Membership_Name(n.node().membership()).substr(11)},
                       {"role", v1::RaftRole_Name(n.role()).substr(10)},
                       {"term", n.term()},
                       {"commit_index", n.commit_index()},
                       {"applied_index", n.applied_index()},
                       {"last_log_index", n.last_log_index()},
                       {"match_index", n.match_index()},
                       {"lag_entries", n.lag_entries()},
                       {"reachable", n.reachable()}});
    }
    if (options.json) {
      PrintJson({{"service_id", s->service_id()},
                 {"leader_id", s->leader_id()},
                 {"term", s->term()},
                 {"last_signed_index", s->last_signed_index()},
                 {"nodes", nodes}});
      return kExitOk;
    }
    std::cout << "service " << s->service_id().substr(0, 16) << "…  leader node " << s->leader_id()
              << "  term " << s->term() << "  last signed index " << s->last_signed_index() << "\n";
    for (const auto& n : nodes) {
      std::cout << "node " << n["node_id"].get<uint64_t>() << "\t" << n["role"].get<std::string>()
                << "\t" << n["membership"].get<std::string>() << "\t"
                << n["client_address"].get<std::string>() << "\tcommit "
                << n["commit_index"].get<uint64_t>() << "\tlag " << n["lag_entries"].get<uint64_t>()
                << (n["reachable"].get<bool>() ? "" : "\t(unreachable)") << "\n";
    }
    return kExitOk;
  });
}

namespace {

struct LearnerArgs {
  v1::NodeInfo node;
  uint64_t node_id = 0;
  std::string cert_file;
};

void RegisterNodes(CLI::App& app, GlobalOptions& options, Action* action) {
  CLI::App* nodes = app.add_subcommand("nodes", "Cluster membership (Administrator)");
  nodes->require_subcommand(1);

  auto learner = std::make_shared<LearnerArgs>();
  CLI::App* cmd = Command(
      nodes, "add-learner", "Add a non-voting member (start it with --join); prints the txid",
      action, [learner, &options] {
        absl::StatusOr<std::string> pem = ReadInput(learner->cert_file);
        if (!pem.ok()) {
          std::cerr << "cairnctl: --cert-file: " << pem.status().message() << "\n";
          return kExitUsage;
        }
        v1::NodeInfo node = learner->node;
        node.set_node_id(learner->node_id);
        node.set_certificate_pem(*pem);
        return WithClient(
            options, [&](client::Client& c) { return PrintTxid(c.AddLearner(node), options); });
      });
  cmd->add_option("--node-id", learner->node_id, "New node's id (never reused)")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--peer-address", *learner->node.mutable_peer_address(), "Its peer host:port")
      ->required();
  cmd->add_option("--client-address", *learner->node.mutable_client_address(),
                  "Its client host:port")
      ->required();
  cmd->add_option("--cert-file", learner->cert_file, "Its node certificate (PEM)")->required();

  auto promote = std::make_shared<uint64_t>(0);
  cmd = Command(nodes, "promote", "Make a caught-up learner a voter; prints the txid", action,
                [promote, &options] {
                  return WithClient(options, [&](client::Client& c) {
                    return PrintTxid(c.PromoteLearner(*promote), options);
                  });
                });
  cmd->add_option("node_id,--node-id", *promote, "The learner's id")
      ->required()
      ->check(CLI::PositiveNumber);

  auto remove = std::make_shared<uint64_t>(0);
  cmd = Command(
      nodes, "remove", "Remove a voter or learner; prints the txid", action, [remove, &options] {
        return WithClient(
            options, [&](client::Client& c) { return PrintTxid(c.RemoveNode(*remove), options); });
      });
  cmd->add_option("node_id,--node-id", *remove, "The node's id")
      ->required()
      ->check(CLI::PositiveNumber);

  Command(nodes, "status", "Same as 'cluster status'", action,
          [&options] { return RunClusterStatus(options); });
}

void RegisterLeadershipAndSnapshot(CLI::App& app, GlobalOptions& options, Action* action) {
  auto target = std::make_shared<uint64_t>(0);
  CLI::App* transfer = Command(
      &app, "transfer-leader", "Hand leadership to another voter and wait until it leads", action,
      [target, &options] {
        return WithClient(options, [&](client::Client& c) {
          auto r = c.TransferLeadership(*target);
          if (!r.ok()) return ReportFailure(r.status(), options);
          if (options.json) {
            PrintJson({{"new_leader_id", r->new_leader_id()}, {"term", r->term()}});
          } else {
            std::cout << "node " << r->new_leader_id() << " leads in term " << r->term() << "\n";
          }
          return kExitOk;
        });
      });
  transfer->add_option("--to", *target, "Target node id (default: the most caught-up voter)");

  auto node = std::make_shared<std::string>();
  CLI::App* snapshot = Command(&app, "snapshot", "Take a snapshot on one node and compact its log",
                               action, [node, &options] {
                                 return WithClient(options, [&](client::Client& c) {
                                   auto r = c.TriggerSnapshot(*node);
                                   if (!r.ok()) return ReportFailure(r.status(), options);
                                   if (options.json) {
                                     PrintJson({{"snapshot_index", r->snapshot_index()}});
                                   } else {
                                     std::cout << "snapshot at index " << r->snapshot_index()
                                               << "\n";
                                   }
                                   return kExitOk;
                                 });
                               });
  snapshot->add_option("--node", *node,
                       "Client address of the node to snapshot (default: the first --endpoint)");

  CLI::App* cluster = app.add_subcommand("cluster", "The cluster as the leader sees it");
  cluster->require_subcommand(1);
  Command(cluster, "status", "Role, term, indexes and lag of every member", action,
          [&options] { return RunClusterStatus(options); });
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, GlobalOptions& options, Action* action) {
  RegisterUsers(app, options, action);
  RegisterNodes(app, options, action);
  RegisterLeadershipAndSnapshot(app, options, action);
}

}  // namespace cairn::cli
