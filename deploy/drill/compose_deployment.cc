// The compose deployment of a drill (see compose_deployment.h).
#include "drill/compose_deployment.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "testing/node_process.h"

namespace cairn::drill {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::PollUntil;
using testing::RunCommand;

namespace {

constexpr char kArchiveUrl[] = "s3://cairn-archive/ledger";

// The absolute path of `name` on PATH ("" if none).
std::string Which(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<ComposeDeployment>> ComposeDeployment::Create(
    std::string work_dir, std::string compose_file, bool keep) {
  const std::string docker = Which("docker");
  if (docker.empty()) return absl::FailedPreconditionError("docker is not installed");
  if (RunCommand({docker, "info"}, "", std::chrono::seconds(30)).exit_code != 0) {
    return absl::FailedPreconditionError("no Docker engine answers (docker info failed)");
  }
  std::vector<std::string> compose;
  if (RunCommand({docker, "compose", "version"}).exit_code == 0) {
    compose = {docker, "compose"};
  } else if (const std::string v1 = Which("docker-compose"); !v1.empty()) {
    compose = {v1};
  } else {
    return absl::FailedPreconditionError(
        "neither 'docker compose' nor docker-compose is installed");
  }
  if (!fs::exists(compose_file)) {
    return absl::FailedPreconditionError(
        absl::StrCat("no compose file ", compose_file,
                     " (--compose-file; run from the repository root for the default)"));
  }
  return std::unique_ptr<ComposeDeployment>(new ComposeDeployment(
      std::move(work_dir), fs::absolute(compose_file).string(), keep, std::move(compose)));
}

ComposeDeployment::ComposeDeployment(std::string work_dir, std::string compose_file, bool keep,
                                     std::vector<std::string> compose)
    : work_dir_(std::move(work_dir)),
      compose_file_(std::move(compose_file)),
      keep_(keep),
      compose_(std::move(compose)),
      project_(absl::StrCat("cairndrill", getpid())) {
  for (uint64_t id = 1; id <= 7; ++id) {
    ports_[id] = {testing::PickFreePort(), testing::PickFreePort()};
  }
  archive_port_ = testing::PickFreePort();
}

ComposeDeployment::~ComposeDeployment() {
  if (!started_) return;
  if (keep_) {
    std::fprintf(stderr, "cairn-drill: left running: %s -p %s -f %s --profile recovery down -v\n",
                 absl::StrJoin(compose_, " ").c_str(), project_.c_str(), compose_file_.c_str());
    return;
  }
  (void)Compose({"--profile", "recovery", "down", "-v", "--remove-orphans"},
                std::chrono::seconds(300));
}

absl::StatusOr<std::string> ComposeDeployment::Compose(const std::vector<std::string>& args,
                                                       std::chrono::seconds timeout) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  for (const auto& [id, ports] : ports_) {
    argv.push_back(absl::StrCat("CAIRN_NODE", id, "_CLIENT_PORT=", ports.first));
    argv.push_back(absl::StrCat("CAIRN_NODE", id, "_HTTP_PORT=", ports.second));
  }
  argv.push_back(absl::StrCat("CAIRN_ARCHIVE_PORT=", archive_port_));
  argv.insert(argv.end(), compose_.begin(), compose_.end());
  argv.insert(argv.end(), {"-p", project_, "-f", compose_file_});
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, "", timeout);
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("compose ", absl::StrJoin(args, " "), " exited with ",
                                            r.exit_code, ": ", r.err, r.out));
  }
  return r.out;
}

absl::StatusOr<std::string> ComposeDeployment::Docker(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Which("docker")};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, "", std::chrono::seconds(120));
  if (r.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("docker ", absl::StrJoin(args, " "), ": ", r.err, r.out));
  }
  return r.out;
}

std::string ComposeDeployment::Service(uint64_t id) {
  if (id <= kVoters) return absl::StrCat("node", id);
  if (id == kGeoReplica) return "geo4";
  return absl::StrCat("spare", id);
}

std::string ComposeDeployment::Container(uint64_t id) {
  const std::string service = Service(id);
  if (auto it = containers_.find(service); it != containers_.end()) return it->second;
  absl::StatusOr<std::string> out = Compose({"ps", "-q", service});
  if (!out.ok()) return "";
  const std::string container(absl::StripAsciiWhitespace(*out));
  if (!container.empty()) containers_[service] = container;
  return container;
}

std::vector<std::string> ComposeDeployment::Networks(uint64_t id) const {
  if (id <= kVoters) return {project_ + "_primary", project_ + "_wan"};
  if (id == kGeoReplica) return {project_ + "_paired", project_ + "_wan"};
  return {project_ + "_paired"};
}

absl::Status ComposeDeployment::Start() {
  started_ = true;
  // Builds the image first if it is missing (deploy/Dockerfile).
  absl::StatusOr<std::string> up = Compose({"up", "-d"}, std::chrono::seconds(3600));
  if (!up.ok()) return up.status();
  if (absl::StatusOr<std::string> cp = Docker({"cp", Container(1) + ":/certs", certs_dir()});
      !cp.ok()) {
    return cp.status();
  }
  for (uint64_t id = 1; id <= kVoters; ++id) {
    if (absl::Status st = WaitServes(id, std::chrono::seconds(120)); !st.ok()) return st;
  }
  if (absl::Status st = WaitForLeader().status(); !st.ok()) return st;
  geo_running_ = true;
  if (absl::Status st = WaitServes(kGeoReplica, std::chrono::seconds(120)); !st.ok()) return st;
  return PollUntil([&] { return ArchivedIndex() > 0; }, std::chrono::seconds(120),
                   "the geo-replica to archive the genesis");
}

std::string ComposeDeployment::ClientAddress(uint64_t id) {
  return absl::StrCat("127.0.0.1:", ports_.at(id).first);
}

std::pair<std::string, std::string> ComposeDeployment::MemberAddresses(uint64_t id) {
  const std::string host = Service(id);
  return {host + ":7201", host + ":7101"};
}

std::string ComposeDeployment::NodeCertFile(uint64_t id) {
  return absl::StrCat(certs_dir(), "/node-", id, ".pem");
}

client::ClientOptions ComposeDeployment::ClientOptionsFor(const std::vector<uint64_t>& nodes) {
  client::ClientOptions o;
  for (uint64_t id : nodes) o.endpoints.push_back(ClientAddress(id));
  o.credentials.cert_file = certs_dir() + "/admin.pem";
  o.credentials.key_file = certs_dir() + "/admin.key";
  o.credentials.service_cert_file = certs_dir() + "/service.pem";
  o.verified_state.enabled = false;
  return o;
}

double ComposeDeployment::Metric(uint64_t id, const std::string& name) {
  return testing::ReadMetric(absl::StrCat("127.0.0.1:", ports_.at(id).second), name);
}

std::string ComposeDeployment::NodeLog(uint64_t id) {
  const std::string container = Container(id);
  if (container.empty()) return "";
  CommandResult r = RunCommand({Which("docker"), "logs", container}, "", std::chrono::seconds(60));
  return r.out + r.err;
}

bool ComposeDeployment::Running(uint64_t id) {
  const std::string container = Container(id);
  if (container.empty()) return false;
  absl::StatusOr<std::string> out = Docker({"inspect", "-f", "{{.State.Running}}", container});
  return out.ok() && absl::StripAsciiWhitespace(*out) == "true";
}

absl::StatusOr<std::string> ComposeDeployment::Cairnctl(const std::vector<std::string>& args) {
  std::vector<std::string> endpoints;
  for (uint64_t id : serving_) endpoints.push_back(ClientAddress(id));
  std::vector<std::string> argv = {testing::BinaryPath("client/cairnctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(
      argv.end(),
      {"--endpoint=" + absl::StrJoin(endpoints, ","), "--cert=" + certs_dir() + "/admin.pem",
       "--key=" + certs_dir() + "/admin.key", "--service-cert=" + certs_dir() + "/service.pem"});
  CommandResult r = RunCommand(argv);
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("cairnctl ", absl::StrJoin(args, " "), ": ", r.err));
  }
  return r.out;
}

absl::Status ComposeDeployment::WaitServes(uint64_t id, std::chrono::seconds timeout) {
  return PollUntil(
      [&] {
        // Any answer but UNAVAILABLE (exit code 3) means the node serves.
        CommandResult r =
            RunCommand({testing::BinaryPath("client/cairnctl"), "get", "1.1", "--timeout-ms=500",
                        "--endpoint=" + ClientAddress(id), "--cert=" + certs_dir() + "/admin.pem",
                        "--key=" + certs_dir() + "/admin.key",
                        "--service-cert=" + certs_dir() + "/service.pem"});
        return r.exit_code == 0 || r.exit_code == 1;
      },
      timeout, absl::StrCat(Service(id), " to serve on ", ClientAddress(id)));
}

void ComposeDeployment::Kill(uint64_t id) {
  (void)Docker({"kill", "-s", "KILL", Container(id)});
  // docker kill returns once the signal is sent; the fault is in effect
  // once the container has stopped.
  (void)PollUntil([&] { return !Running(id); }, std::chrono::seconds(30), Service(id) + " to stop");
}

absl::Status ComposeDeployment::Restart(uint64_t id) {
  if (absl::StatusOr<std::string> r = Docker({"start", Container(id)}); !r.ok()) return r.status();
  if (id == kGeoReplica) geo_running_ = true;
  return WaitServes(id, std::chrono::seconds(120));
}

void ComposeDeployment::Pause(uint64_t id) { (void)Docker({"pause", Container(id)}); }
void ComposeDeployment::Resume(uint64_t id) { (void)Docker({"unpause", Container(id)}); }

absl::Status ComposeDeployment::Stop(uint64_t id) {
  if (absl::StatusOr<std::string> r = Docker({"stop", "-t", "30", Container(id)}); !r.ok()) {
    return r.status();
  }
  absl::StatusOr<std::string> code =
      Docker({"inspect", "-f", "{{.State.ExitCode}}", Container(id)});
  if (!code.ok()) return code.status();
  if (absl::StripAsciiWhitespace(*code) != "0") {
    return absl::InternalError(absl::StrCat(Service(id), " exited with ",
                                            absl::StripAsciiWhitespace(*code), " on SIGTERM"));
  }
  return absl::OkStatus();
}

absl::Status ComposeDeployment::Isolate(uint64_t id) {
  for (const std::string& network : Networks(id)) {
    if (absl::StatusOr<std::string> r = Docker({"network", "disconnect", network, Container(id)});
        !r.ok()) {
      return r.status();
    }
  }
  isolated_.push_back(id);
  return absl::OkStatus();
}

absl::Status ComposeDeployment::HealLinks() {
  for (uint64_t id : isolated_) {
    for (const std::string& network : Networks(id)) {
      if (absl::StatusOr<std::string> r =
              Docker({"network", "connect", "--alias", Service(id), network, Container(id)});
          !r.ok()) {
        return r.status();
      }
    }
  }
  isolated_.clear();
  return absl::OkStatus();
}

absl::Status ComposeDeployment::StoreDown() {
  return Compose({"stop", "-t", "5", "archive"}).status();
}

absl::Status ComposeDeployment::StoreUp() { return Compose({"start", "archive"}).status(); }

absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> ComposeDeployment::OpenArchive() {
  storage::S3StoreOptions s3;
  s3.endpoint = absl::StrCat("http://127.0.0.1:", archive_port_);
  s3.path_style = true;
  s3.credentials_file = certs_dir() + "/archive-credentials";
  return storage::OpenArchiveStore(kArchiveUrl, s3);
}

std::vector<std::string> ComposeDeployment::ArchiveFlags() {
  return {"--archive-url",
          kArchiveUrl,
          "--s3-endpoint",
          absl::StrCat("http://127.0.0.1:", archive_port_),
          "--s3-path-style",
          "--credentials-file",
          certs_dir() + "/archive-credentials"};
}

absl::Status ComposeDeployment::RemoveArchiveObject(const std::string& name) {
  // versitygw's posix backend keeps object KEY of BUCKET at ROOT/BUCKET/KEY.
  absl::StatusOr<std::string> archive = Compose({"ps", "-q", "archive"});
  if (!archive.ok()) return archive.status();
  return Docker({"exec", std::string(absl::StripAsciiWhitespace(*archive)), "rm", "-f",
                 "/data/cairn-archive/ledger/" + name})
      .status();
}

void ComposeDeployment::LoseRegion() {
  std::vector<std::string> args = {"kill", "-s", "KILL"};
  for (uint64_t id = 1; id <= kGeoReplica; ++id) args.push_back(Container(id));
  (void)Docker(args);
  (void)PollUntil(
      [&] {
        for (uint64_t id = 1; id <= kGeoReplica; ++id) {
          if (Running(id)) return false;
        }
        return true;
      },
      std::chrono::seconds(30), "the primary region's containers to stop");
  geo_running_ = false;
}

absl::StatusOr<Recovery> ComposeDeployment::RecoverInPairedRegion() {
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> up =
      Compose({"--profile", "recovery", "up", "-d", "--no-deps", Service(kSpare)});
  if (!up.ok()) return up.status();
  serving_ = {kSpare};
  Recovery recovery;
  absl::Status serves = WaitServes(kSpare, std::chrono::seconds(600));
  recovery.output = NodeLog(kSpare);
  if (!serves.ok()) {
    return absl::InternalError(
        absl::StrCat("spare5 did not serve: ", serves.message(), "; its log:\n", recovery.output));
  }
  recovery.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::smatch m;
  if (!std::regex_search(recovery.output, m, std::regex(R"(last txid (\d+)\.(\d+))"))) {
    return absl::InternalError("cairn-node recover printed no last txid: " + recovery.output);
  }
  recovery.last_txid = m[1].str() + "." + m[2].str();
  recovery.last_index = std::stoull(m[2].str());
  return recovery;
}

absl::Status ComposeDeployment::StartJoiner(uint64_t id) {
  absl::StatusOr<std::string> up =
      Compose({"--profile", "recovery", "up", "-d", "--no-deps", Service(id)});
  if (!up.ok()) return up.status();
  return WaitServes(id, std::chrono::seconds(120));
}

}  // namespace cairn::drill
