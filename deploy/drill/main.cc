// cairn-drill: rehearses a failure end to end and says what it cost.
//
//   cairn-drill SCENARIO [--target local] [--duration-s N] [--json FILE]
//               [--svg FILE] [--rpo-max-entries N] [--rto-max-s N]
//
// Scenarios: leader-loss, minority-loss, partition, pause, rolling-restart,
// store-outage, region-loss (drill.h says what each does). The table goes to
// stdout; --json writes the report (docs/operations.md, "Drills"), --svg
// the timeline. Exit codes: 0 every check passed and the bounds held; 1 a
// check failed or a bound was missed; 2 usage error or the drill could not
// run (a deployment that did not start, a recovery that failed).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "drill/compose_deployment.h"
#include "drill/drill.h"
#include "drill/local_deployment.h"
#include "drill/report.h"

namespace cairn::drill {
namespace {

namespace fs = std::filesystem;

// The drill starts cairn-node and runs cairnctl: CAIRN_BIN_DIR names the
// build tree they are in (CTest sets it); otherwise they are looked for
// beside this program, as installed (bin/cairn-drill, bin/cairn-node,
// bin/cairnctl), or in the build tree this program was built in.
bool LocateBinaries(const std::string& work_dir, std::string* error) {
  if (const char* dir = std::getenv("CAIRN_BIN_DIR"); dir != nullptr && *dir) return true;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    *error = "cannot find this program's path: " + ec.message();
    return false;
  }
  const fs::path build_root = self.parent_path().parent_path().parent_path();
  if (fs::exists(build_root / "node/cairn-node") && fs::exists(build_root / "client/cairnctl")) {
    setenv("CAIRN_BIN_DIR", build_root.c_str(), 1);
    return true;
  }
  const fs::path bin = self.parent_path();
  if (fs::exists(bin / "cairn-node") && fs::exists(bin / "cairnctl")) {
    // The drill's helpers expect the build tree's layout: link it.
    const fs::path tree = fs::path(work_dir) / "bin";
    fs::create_directories(tree / "node");
    fs::create_directories(tree / "client");
    fs::create_symlink(bin / "cairn-node", tree / "node/cairn-node", ec);
    fs::create_symlink(bin / "cairnctl", tree / "client/cairnctl", ec);
    setenv("CAIRN_BIN_DIR", tree.c_str(), 1);
    return true;
  }
  *error = absl::StrCat("cairn-node and cairnctl are neither beside ", self.string(),
                        " nor in its build tree; set CAIRN_BIN_DIR to the build directory");
  return false;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

int Main(int argc, char** argv) {
  CLI::App app{"cairn-drill: rehearse a failure of a Cairn service and measure RPO and RTO"};
  std::string scenario_name, target = "local", json_path, svg_path, work_dir;
  DrillOptions o;
  uint64_t rpo_max = 0;
  double rto_max = 0;
  bool keep = false;
  app.add_option("scenario", scenario_name,
                 "leader-loss, minority-loss, partition, pause, rolling-restart, store-outage or "
                 "region-loss")
      ->required();
  std::string compose_file = "deploy/compose/two-region.yml";
  app.add_option("--target", target,
                 "Where the drill runs: local (processes on loopback) or compose (containers of "
                 "--compose-file, on this machine's Docker engine)")
      ->check(CLI::IsMember({"local", "compose"}));
  app.add_option("--compose-file", compose_file,
                 "The two-region compose file (--target compose); its image must be built or "
                 "buildable (CAIRN_IMAGE, default cairn:local)");
  app.add_option("--duration-s", o.duration_s,
                 "Length of the drill: a third before the fault, a third held, a third after")
      ->check(CLI::Range(9, 86400));
  app.add_option("--json", json_path, "Write the report as JSON to this file");
  app.add_option("--svg", svg_path, "Write the timeline as an SVG picture to this file");
  auto* rpo_opt = app.add_option("--rpo-max-entries", rpo_max,
                                 "Fail unless at most this many committed entries were lost");
  auto* rto_opt = app.add_option(
      "--rto-max-s", rto_max,
      "Fail unless the first write and the first verified read came within this many seconds");
  app.add_option("--clients", o.clients, "Concurrent SDK clients")->check(CLI::Range(1, 64));
  app.add_option("--seed", o.seed, "Seed of the workload's choices");
  app.add_option("--work-dir", work_dir,
                 "Where the deployment keeps its data and logs (default: a new temporary dir)");
  app.add_flag("--keep", keep, "Keep the work dir after a passing drill (a failing one is kept)");
  app.add_flag("--test-drop-last-archived-segment", o.test_drop_last_archived_segment,
               "Test only (region-loss): drop the archive's last segment before recovering, to "
               "show the drill reports the writes it held as lost");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every usage error exits 2, CLI11's message on stderr.
    return app.exit(e) == 0 ? 0 : 2;
  }

  absl::StatusOr<Scenario> scenario = ParseScenario(scenario_name);
  if (!scenario.ok()) {
    std::cerr << "cairn-drill: " << scenario.status().message() << "\n";
    return 2;
  }
  if (o.test_drop_last_archived_segment && *scenario != Scenario::kRegionLoss) {
    std::cerr << "cairn-drill: --test-drop-last-archived-segment applies to region-loss only\n";
    return 2;
  }
  o.scenario = *scenario;
  if (*rpo_opt) o.rpo_max_entries = rpo_max;
  if (*rto_opt) o.rto_max_s = rto_max;
  if (work_dir.empty()) {
    work_dir = absl::StrCat(fs::temp_directory_path().string(), "/cairn-drill-", scenario_name, "-",
                            getpid());
  }
  std::error_code ec;
  if (fs::exists(work_dir) && !fs::is_empty(work_dir, ec)) {
    std::cerr << "cairn-drill: the work dir " << work_dir << " is not empty\n";
    return 2;
  }
  o.work_dir = fs::absolute(work_dir).string();
  // A compose target is checked (an engine answers, the file exists)
  // before anything is written.
  std::unique_ptr<Deployment> deployment;
  if (target == "compose") {
    absl::StatusOr<std::unique_ptr<ComposeDeployment>> compose =
        ComposeDeployment::Create(o.work_dir, compose_file, keep);
    if (!compose.ok()) {
      std::cerr << "cairn-drill: " << compose.status().message() << "\n";
      return 2;
    }
    deployment = *std::move(compose);
  }
  fs::create_directories(o.work_dir, ec);
  if (ec) {
    std::cerr << "cairn-drill: cannot create " << o.work_dir << ": " << ec.message() << "\n";
    return 2;
  }
  std::string error;
  if (!LocateBinaries(o.work_dir, &error)) {
    std::cerr << "cairn-drill: " << error << "\n";
    return 2;
  }
  if (target == "local") deployment = std::make_unique<LocalDeployment>(o.work_dir);
  const DrillReport report = RunDrill(o, deployment.get());
  deployment.reset();  // stops what it started (compose: unless --keep)
  std::cout << ReportTable(report) << std::flush;
  if (!json_path.empty() && !WriteFile(json_path, ReportJson(report))) {
    std::cerr << "cairn-drill: cannot write " << json_path << "\n";
    return 2;
  }
  if (!svg_path.empty() && !WriteFile(svg_path, TimelineSvg(report))) {
    std::cerr << "cairn-drill: cannot write " << svg_path << "\n";
    return 2;
  }
  if (!report.error.empty()) {
    std::cerr << "cairn-drill: the drill could not run to its end: " << report.error << "\n";
    return 2;
  }
  if (report.passed && !keep) fs::remove_all(o.work_dir, ec);
  return report.passed ? 0 : 1;
}

}  // namespace
}  // namespace cairn::drill

int main(int argc, char** argv) { return cairn::drill::Main(argc, argv); }
