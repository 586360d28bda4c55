// cairnctl users / nodes / transfer-leader / snapshot / cluster: the
// AdminService through the SDK. Governance changes print the txid of the
// transaction that recorded them. The cluster status is also `nodes status`
// and plain `status` (cmd_data.cc).
#include <iostream>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cairn/base/hex.h"
#include "cairn/ledger/cosignature.h"
#include "cairn/ledger/identity.h"
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
                 {"signed_tree_size", s->signed_tree_size()},
                 {"ledger_type", s->ledger_type()},
                 {"ledger_secret_version", s->ledger_secret_version()},
                 {"nodes", nodes}});
      return kExitOk;
    }
    // The newest signature transaction and the entries it covers (those
    // with receipts), in the words a receipt error uses.
    const uint64_t signature = s->last_signed_index();
    std::cout << "service " << s->service_id().substr(0, 16) << "…  leader node " << s->leader_id()
              << "  term " << s->term() << "  "
              << (signature == 0
                      ? std::string("nothing signed yet")
                      : absl::StrCat("last signature at index ", signature,
                                     " (covers entries up to index ", s->signed_tree_size(), ")"))
              << (s->ledger_type() == "private" ? absl::StrCat("  private ledger, secret version ",
                                                               s->ledger_secret_version())
                                                : std::string())
              << "\n";
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

int RunDrStatus(const GlobalOptions& options) {
  return WithClient(options, [&](client::Client& c) {
    auto s = c.GetDrStatus();
    if (!s.ok()) return ReportFailure(s.status(), options);
    std::optional<ledger::Certificate> service;
    if (!options.credentials.service_cert_file.empty()) {
      auto cert = ledger::ReadCertificateFile(options.credentials.service_cert_file);
      if (cert.ok()) service = *std::move(cert);
    }
    nlohmann::ordered_json replicas = nlohmann::ordered_json::array();
    for (const v1::GeoReplicaStatus& g : s->geo_replicas()) {
      nlohmann::ordered_json j = {{"node_id", g.node_id()},
                                  {"region", g.region()},
                                  {"archive_url", g.archive_url()},
                                  {"lag_entries", g.lag_entries()},
                                  {"lag_seconds", g.lag_seconds()},
                                  {"upload_errors", g.upload_errors()},
                                  {"last_error", g.last_error()},
                                  {"last_error_unix_ms", g.last_error_unix_ms()},
                                  {"last_report_unix_ms", g.last_report_unix_ms()}};
      if (g.has_cosignature()) {
        const v1::ArchiveCosignature& cs = g.cosignature();
        std::string verified = "not checked (no service certificate)";
        if (service) {
          const absl::Status v = ledger::VerifyCosignature(cs, *service);
          verified = v.ok() ? "verified" : std::string(v.message());
        }
        j["archived"] = {{"signature_txid", cs.signature_txid()},
                         {"tree_size", cs.checkpoint().tree_size()},
                         {"root", base::HexEncode(cs.checkpoint().root_hash())},
                         {"checkpoint_unix_ms", cs.checkpoint().timestamp_unix_ms()},
                         {"cosigned_unix_ms", cs.timestamp_unix_ms()},
                         {"cosignature", verified}};
      }
      replicas.push_back(j);
    }
    const std::vector<std::string> allowed(s->allowed_regions().begin(),
                                           s->allowed_regions().end());
    if (options.json) {
      PrintJson({{"service_id", s->service_id()},
                 {"leader_id", s->leader_id()},
                 {"leader_region", s->leader_region()},
                 {"geo_durable_index", s->geo_durable_index()},
                 {"allowed_regions", allowed},
                 {"geo_durable_by_default", s->settings().geo_durable_by_default()},
                 {"geo_replicas", replicas}});
      return kExitOk;
    }
    std::cout << "primary: leader node " << s->leader_id() << " in region " << s->leader_region()
              << "; geo-durable up to log index " << s->geo_durable_index() << "\n";
    std::cout << "residency: "
              << (allowed.empty() ? "no restriction" : "only in " + absl::StrJoin(allowed, ", "))
              << "\n";
    std::cout << "appends that ask for COMMITTED wait for "
              << (s->settings().geo_durable_by_default() ? "GEO_DURABLE (geo-durable by default)"
                                                         : "COMMITTED")
              << "\n";
    if (replicas.empty()) {
      std::cout << "no geo-replica has reported: no copy of the ledger outside the primary's "
                   "nodes\n";
    }
    for (const auto& g : replicas) {
      std::cout << "geo-replica node " << g["node_id"].get<uint64_t>() << " in region "
                << g["region"].get<std::string>() << " -> " << g["archive_url"].get<std::string>()
                << "\n";
      if (g.contains("archived")) {
        const auto& a = g["archived"];
        std::cout << "  archived through " << a["signature_txid"].get<std::string>()
                  << " (tree size " << a["tree_size"].get<uint64_t>() << "), cosignature "
                  << a["cosignature"].get<std::string>() << "\n";
      } else {
        std::cout << "  nothing archived yet\n";
      }
      std::cout << "  lag " << g["lag_entries"].get<uint64_t>() << " entries, at most "
                << g["lag_seconds"].get<double>() << " s; upload errors "
                << g["upload_errors"].get<uint64_t>() << "\n";
      if (!g["last_error"].get<std::string>().empty()) {
        std::cout << "  last error: " << g["last_error"].get<std::string>() << "\n";
      }
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
  cmd->add_option("--region", *learner->node.mutable_region(),
                  "The region it runs in (shown by dr status; a geo-replica's paired region)");

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

  CLI::App* ledger_cmd =
      app.add_subcommand("ledger", "The ledger itself: a private ledger's secret");
  ledger_cmd->require_subcommand(1);
  Command(ledger_cmd, "rotate-secret",
          "A private ledger: seal new entries with a new version of the ledger secret (older "
          "entries stay readable); prints the txid",
          action, [&options] {
            return WithClient(options, [&](client::Client& c) {
              return PrintTxid(c.RotateLedgerSecret(), options);
            });
          });

  CLI::App* dr = FindOrAddSubcommand(app, "dr", "Disaster recovery: the paired region's archive");
  dr->require_subcommand(1);
  CLI::App* residency =
      app.add_subcommand("residency", "Data residency: where copies of the ledger may be");
  residency->require_subcommand(1);
  struct ResidencyArgs {
    std::vector<std::string> allowed;
    bool single = false;
  };
  auto res = std::make_shared<ResidencyArgs>();
  CLI::App* set = Command(
      residency, "set",
      "Set the regions where a node, learner, geo-replica or archive may be; prints the txid",
      action, [res, &options] {
        return WithClient(options, [&](client::Client& c) {
          // --allowed-regions "" lifts the policy: no regions at all.
          std::vector<std::string> allowed;
          for (const std::string& r : res->allowed) {
            if (!r.empty()) allowed.push_back(r);
          }
          return PrintTxid(c.SetResidency(allowed, res->single), options);
        });
      });
  auto* allowed = set->add_option("--allowed-regions", res->allowed,
                                  "Allowed regions, comma-separated (\"\" lifts the policy)")
                      ->delimiter(',');
  auto* single =
      set->add_flag("--single-region", res->single, "Only the leader's region: no copy leaves it");
  allowed->excludes(single);
  set->require_option(1);

  // dr geo-durable-default on|off: the service setting.
  auto geo_default = std::make_shared<std::string>();
  CLI::App* gd = Command(
      dr, "geo-durable-default",
      "Make every append that asks for COMMITTED wait for GEO_DURABLE (on) or not (off), for the "
      "whole service; prints the txid",
      action, [geo_default, &options] {
        return WithClient(options, [&](client::Client& c) {
          absl::StatusOr<v1::DrStatus> now = c.GetDrStatus();
          if (!now.ok()) return PrintTxid(now.status(), options);
          v1::ServiceSettings settings = now->settings();
          settings.set_geo_durable_by_default(*geo_default == "on");
          return PrintTxid(c.SetServiceSettings(settings), options);
        });
      });
  gd->add_option("value", *geo_default, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));

  Command(dr, "status",
          "Where copies of the ledger are: each geo-replica's region, archive, last archived and "
          "cosigned checkpoint (its cosignature checked), lag and last error",
          action, [&options] { return RunDrStatus(options); });
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, GlobalOptions& options, Action* action) {
  RegisterUsers(app, options, action);
  RegisterNodes(app, options, action);
  RegisterLeadershipAndSnapshot(app, options, action);
}

}  // namespace cairn::cli
