// The deployment of `cairn-drill --target compose` (deployment.h): the
// containers of deploy/compose/two-region.yml on this machine's Docker
// engine, under a project name of the drill's own, with free 127.0.0.1
// ports, driven through the docker and docker-compose (or `docker compose`)
// commands as an operator would:
//
//   kill     docker kill -s KILL        pause   docker pause / unpause
//   stop     docker stop (SIGTERM)      start   docker start
//   cut off  docker network disconnect from the node's networks (its
//            published ports go with them: clients lose it too)
//   store    docker stop / start of the archive server
//   recover  docker-compose --profile recovery up spare5 (which runs
//            `cairn-node recover` into its empty volume, then serves)
//
// Clients (the drill's workload, probe and cairnctl) run on this machine
// against the published ports. Destroying it runs `down -v` (unless kept):
// containers, networks and volumes go; the image stays.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "drill/deployment.h"
#include "testing/process.h"

namespace cairn::drill {

class ComposeDeployment : public Deployment {
 public:
  // FailedPrecondition, saying so, when no Docker engine with compose
  // answers or `compose_file` is missing.
  static absl::StatusOr<std::unique_ptr<ComposeDeployment>> Create(std::string work_dir,
                                                                   std::string compose_file,
                                                                   bool keep);
  ~ComposeDeployment() override;

  std::string target() const override { return "compose"; }
  absl::Status Start() override;
  const std::string& work_dir() const override { return work_dir_; }
  std::string ServiceCertFile() override { return certs_dir() + "/service.pem"; }
  std::string ClientAddress(uint64_t id) override;

  client::ClientOptions ClientOptionsFor(const std::vector<uint64_t>& nodes) override;
  double Metric(uint64_t id, const std::string& name) override;
  std::string NodeLog(uint64_t id) override;
  bool Running(uint64_t id) override;

  void Kill(uint64_t id) override;
  absl::Status Restart(uint64_t id) override;
  void Pause(uint64_t id) override;
  void Resume(uint64_t id) override;
  absl::Status Stop(uint64_t id) override;
  absl::Status Isolate(uint64_t id) override;
  absl::Status HealLinks() override;
  std::string IsolationNote() const override {
    return "its published ports go with its networks, so clients lose it too";
  }
  absl::Status StoreDown() override;
  absl::Status StoreUp() override;
  void LoseRegion() override;
  absl::StatusOr<Recovery> RecoverInPairedRegion() override;

 protected:
  absl::StatusOr<std::string> Cairnctl(const std::vector<std::string>& args) override;
  absl::StatusOr<std::unique_ptr<storage::ArchiveStore>> OpenArchive() override;
  std::vector<std::string> ArchiveFlags() override;
  absl::Status RemoveArchiveObject(const std::string& name) override;
  absl::Status StartJoiner(uint64_t id) override;
  std::pair<std::string, std::string> MemberAddresses(uint64_t id) override;
  std::string NodeCertFile(uint64_t id) override;

 private:
  ComposeDeployment(std::string work_dir, std::string compose_file, bool keep,
                    std::vector<std::string> compose);
  // Runs `compose -p PROJECT -f FILE args...` with the ports in its
  // environment; InternalError with its output when it fails.
  absl::StatusOr<std::string> Compose(const std::vector<std::string>& args,
                                      std::chrono::seconds timeout = std::chrono::seconds(300));
  absl::StatusOr<std::string> Docker(const std::vector<std::string>& args);
  static std::string Service(uint64_t id);
  // The container of node `id` (looked up once it exists).
  std::string Container(uint64_t id);
  std::vector<std::string> Networks(uint64_t id) const;
  // Polls until node `id` answers clients.
  absl::Status WaitServes(uint64_t id, std::chrono::seconds timeout);
  std::string certs_dir() const { return work_dir_ + "/certs"; }

  const std::string work_dir_;
  const std::string compose_file_;
  const bool keep_;
  const std::vector<std::string> compose_;  // {"docker-compose"} or {"docker", "compose"}
  const std::string project_;
  // Published ports: node id -> client and HTTP port; the archive's S3 port.
  std::map<uint64_t, std::pair<int, int>> ports_;
  int archive_port_ = 0;
  std::map<std::string, std::string> containers_;  // service -> container id
  std::vector<uint64_t> isolated_;
  bool started_ = false;
};

}  // namespace cairn::drill
