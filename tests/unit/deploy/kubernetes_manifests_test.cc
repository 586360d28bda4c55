// The Kubernetes manifests (deploy/kubernetes), checked without a cluster:
// each overlay renders with kustomize (the engine `kubectl kustomize`
// embeds; scripts/install-deps.sh builds it), and the rendered objects hold
// what a Cairn deployment needs: a StatefulSet of voters with a stable
// identity (headless service, volume claim template), probes on /healthz
// and /readyz, certificates from a Secret, a client service, a
// PodDisruptionBudget that selects the voters and keeps a majority, the
// region in every node's settings, and in the paired region the
// geo-replica's own StatefulSet. The checker is shown to catch planted
// faults in rendered objects.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/process.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<YAML::Node> Render(const std::string& overlay, std::string* error) {
  const char* kustomize = std::getenv("CAIRN_KUSTOMIZE");
  const char* source = std::getenv("CAIRN_SOURCE_DIR");
  if (kustomize == nullptr || source == nullptr || !std::filesystem::exists(kustomize)) {
    *error = "kustomize not found (CAIRN_KUSTOMIZE); scripts/install-deps.sh builds it";
    return {};
  }
  CommandResult r = RunCommand(
      {kustomize, "build", std::string(source) + "/deploy/kubernetes/overlays/" + overlay});
  if (r.exit_code != 0) {
    *error = "kustomize build " + overlay + ": " + r.err;
    return {};
  }
  return YAML::LoadAll(r.out);
}

const YAML::Node* Find(const std::vector<YAML::Node>& docs, const std::string& kind,
                       const std::string& name) {
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() == kind && d["metadata"]["name"].as<std::string>() == name) {
      return &d;
    }
  }
  return nullptr;
}

bool LabelsMatch(const YAML::Node& selector, const YAML::Node& labels) {
  for (const auto& kv : selector) {
    if (!labels[kv.first.as<std::string>()] ||
        labels[kv.first.as<std::string>()].as<std::string>() != kv.second.as<std::string>()) {
      return false;
    }
  }
  return true;
}

// The essentials of one node StatefulSet; problems appended to `out`.
void CheckNodeSet(const std::vector<YAML::Node>& docs, const YAML::Node& set,
                  std::vector<std::string>* out) {
  const std::string name = set["metadata"]["name"].as<std::string>();
  const YAML::Node spec = set["spec"];
  const YAML::Node pod = spec["template"]["spec"];
  const std::string service = spec["serviceName"] ? spec["serviceName"].as<std::string>() : "";
  const YAML::Node* headless = Find(docs, "Service", service);
  if (headless == nullptr || !(*headless)["spec"]["clusterIP"] ||
      (*headless)["spec"]["clusterIP"].as<std::string>() != "None") {
    out->push_back(name + ": serviceName '" + service + "' is not a headless service");
  } else if (!LabelsMatch((*headless)["spec"]["selector"],
                          spec["template"]["metadata"]["labels"])) {
    out->push_back(name + ": the headless service does not select its pods");
  }
  if (!LabelsMatch(spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"])) {
    out->push_back(name + ": the selector does not match the pod labels");
  }
  if (!spec["volumeClaimTemplates"] || spec["volumeClaimTemplates"].size() == 0) {
    out->push_back(name + ": no volumeClaimTemplates (no persistent volume per node)");
  }
  const YAML::Node c = pod["containers"][0];
  auto probe_path = [&](const char* probe) -> std::string {
    return c[probe] && c[probe]["httpGet"] ? c[probe]["httpGet"]["path"].as<std::string>() : "";
  };
  if (probe_path("livenessProbe") != "/healthz") out->push_back(name + ": liveness not /healthz");
  if (probe_path("readinessProbe") != "/readyz") out->push_back(name + ": readiness not /readyz");
  bool data_mounted = false, certs_mounted = false;
  for (const YAML::Node& m : c["volumeMounts"]) {
    if (m["mountPath"].as<std::string>() == "/var/lib/cairn") data_mounted = true;
    if (m["mountPath"].as<std::string>() == "/certs") certs_mounted = true;
  }
  if (!data_mounted) out->push_back(name + ": the data volume is not mounted");
  bool certs_from_secret = false;
  for (const YAML::Node& v : pod["volumes"]) {
    if (v["name"].as<std::string>() == "certs" && v["secret"]) certs_from_secret = true;
  }
  if (!certs_mounted || !certs_from_secret) {
    out->push_back(name + ": certificates are not mounted from a Secret");
  }
  if (!pod["terminationGracePeriodSeconds"] ||
      pod["terminationGracePeriodSeconds"].as<int>() < 10) {
    out->push_back(name + ": too short a grace period for a leader to hand off");
  }
}

// Every problem of a rendered overlay for `region`; empty when it is fine.
std::vector<std::string> CheckManifests(const std::vector<YAML::Node>& docs,
                                        const std::string& region) {
  std::vector<std::string> out;
  const YAML::Node* voters = Find(docs, "StatefulSet", "cairn");
  if (voters == nullptr) return {"no StatefulSet 'cairn' (the voters)"};
  CheckNodeSet(docs, *voters, &out);
  const YAML::Node* client = Find(docs, "Service", "cairn");
  if (client == nullptr || (*client)["spec"]["clusterIP"]) {
    out.push_back("no client Service 'cairn'");
  }
  const YAML::Node* pdb = Find(docs, "PodDisruptionBudget", "cairn");
  if (pdb == nullptr) {
    out.push_back("no PodDisruptionBudget");
  } else {
    if (!LabelsMatch((*pdb)["spec"]["selector"]["matchLabels"],
                     (*voters)["spec"]["template"]["metadata"]["labels"])) {
      out.push_back("the PodDisruptionBudget does not select the voters");
    }
    if (!(*pdb)["spec"]["maxUnavailable"] || (*pdb)["spec"]["maxUnavailable"].as<int>() != 1) {
      out.push_back("the PodDisruptionBudget allows more than one voter down");
    }
  }
  std::map<std::string, std::string> env;
  for (const YAML::Node& e : (*voters)["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (e["value"]) env[e["name"].as<std::string>()] = e["value"].as<std::string>();
  }
  if (env["REGION"] != region) out.push_back("the voters' region is '" + env["REGION"] + "'");
  const YAML::Node* geo = Find(docs, "StatefulSet", "cairn-geo");
  if (region == "paired") {
    if (geo == nullptr) {
      out.push_back("no geo-replica StatefulSet in the paired region");
    } else {
      CheckNodeSet(docs, *geo, &out);
      // Its settings: a geo-replica of region paired with an archive.
      bool settings = false;
      for (const YAML::Node& d : docs) {
        if (d["kind"].as<std::string>() != "ConfigMap" || !d["data"]["georeplica.yaml"]) continue;
        const YAML::Node s = YAML::Load(d["data"]["georeplica.yaml"].as<std::string>());
        settings = s["role"].as<std::string>() == "geo-replica" &&
                   s["region"].as<std::string>() == "paired" && s["archive_url"] && s["join"];
      }
      if (!settings) out.push_back("the geo-replica's settings lack role, region or archive");
    }
  } else if (geo != nullptr) {
    out.push_back("a geo-replica in the primary region");
  }
  // The members each node is told of are in this overlay's region.
  for (const YAML::Node& d : docs) {
    if (d["kind"].as<std::string>() != "ConfigMap" || !d["data"]["node.yaml"]) continue;
    const YAML::Node s = YAML::Load(d["data"]["node.yaml"].as<std::string>());
    for (const YAML::Node& m : s["initial_cluster"]) {
      const std::string member = m.as<std::string>();
      if (member.substr(member.rfind('/') + 1) != region) {
        out.push_back("member " + member + " is not in region " + region);
      }
    }
  }
  return out;
}

class KubernetesManifestsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(KubernetesManifestsTest, RenderAndHoldTheEssentials) {
  std::string error;
  const std::vector<YAML::Node> docs = Render(GetParam(), &error);
  ASSERT_FALSE(docs.empty()) << error;
  EXPECT_THAT(CheckManifests(docs, GetParam()), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(Overlays, KubernetesManifestsTest, ::testing::Values("primary", "paired"));

// The recovery overlay: a Job that runs `cairn-node recover` as node 21 in
// region paired into the volume the paired voters' StatefulSet gives
// cairn-0, so that the StatefulSet adopts it.
TEST(KubernetesManifestsTest, RecoveryJobWritesCairn0sVolume) {
  std::string error;
  const std::vector<YAML::Node> recover = Render("paired-recover", &error);
  ASSERT_FALSE(recover.empty()) << error;
  const std::vector<YAML::Node> paired = Render("paired", &error);
  ASSERT_FALSE(paired.empty()) << error;
  const YAML::Node* job = Find(recover, "Job", "cairn-recover");
  ASSERT_NE(job, nullptr);
  const YAML::Node c = (*job)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"][1].as<std::string>(), "recover");
  std::vector<std::string> args;
  for (const YAML::Node& a : c["args"]) args.push_back(a.as<std::string>());
  EXPECT_THAT(args, ::testing::Contains("--node-id=21"));
  EXPECT_THAT(args, ::testing::Contains("--region=paired"));
  EXPECT_THAT(args, ::testing::Contains(::testing::StartsWith("--archive-url=")));
  EXPECT_EQ((*job)["spec"]["backoffLimit"].as<int>(), 0);
  const YAML::Node* voters = Find(paired, "StatefulSet", "cairn");
  ASSERT_NE(voters, nullptr);
  const std::string claim =
      (*voters)["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as<std::string>() + "-" +
      (*voters)["metadata"]["name"].as<std::string>() + "-0";
  EXPECT_NE(Find(recover, "PersistentVolumeClaim", claim), nullptr) << claim;
  EXPECT_EQ((*job)["metadata"]["namespace"].as<std::string>(),
            (*voters)["metadata"]["namespace"].as<std::string>());
  // Node 21 is the paired voters' first node.
  std::map<std::string, std::string> env;
  for (const YAML::Node& e : (*voters)["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (e["value"]) env[e["name"].as<std::string>()] = e["value"].as<std::string>();
  }
  EXPECT_EQ(env["NODE_ID_BASE"], "21");
}

// The checker catches each planted fault in otherwise good objects.
TEST(KubernetesManifestsCheckerTest, CatchesPlantedFaults) {
  std::string error;
  const std::vector<YAML::Node> good = Render("paired", &error);
  ASSERT_FALSE(good.empty()) << error;
  auto planted = [&](const std::function<void(std::vector<YAML::Node>&)>& plant) {
    std::vector<YAML::Node> docs;
    for (const YAML::Node& d : good) docs.push_back(YAML::Clone(d));
    plant(docs);
    return CheckManifests(docs, "paired");
  };
  auto find = [](std::vector<YAML::Node>& docs, const std::string& kind,
                 const std::string& name) -> YAML::Node {
    for (YAML::Node& d : docs) {
      if (d["kind"].as<std::string>() == kind && d["metadata"]["name"].as<std::string>() == name) {
        return d;
      }
    }
    return YAML::Node();
  };
  EXPECT_THAT(planted([&](auto& d) {
                find(d, "StatefulSet", "cairn")["spec"]["template"]["spec"]["containers"][0]
                                               ["readinessProbe"]["httpGet"]["path"] = "/metrics";
              }),
              ::testing::Contains(HasSubstr("readiness not /readyz")));
  EXPECT_THAT(planted([&](auto& d) {
                find(d, "StatefulSet", "cairn")["spec"].remove("volumeClaimTemplates");
              }),
              ::testing::Contains(HasSubstr("no volumeClaimTemplates")));
  EXPECT_THAT(planted([&](auto& d) {
                find(d, "Service", "cairn-peers")["spec"]["clusterIP"] = "10.0.0.1";
              }),
              ::testing::Contains(HasSubstr("is not a headless service")));
  EXPECT_THAT(planted([&](auto& d) {
                find(d, "PodDisruptionBudget", "cairn")["spec"]["maxUnavailable"] = 2;
              }),
              ::testing::Contains(HasSubstr("more than one voter down")));
  EXPECT_THAT(planted([&](auto& d) {
                find(d, "PodDisruptionBudget",
                     "cairn")["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] =
                    "other";
              }),
              ::testing::Contains(HasSubstr("does not select the voters")));
  EXPECT_THAT(planted([&](auto& d) {
                std::erase_if(d, [](const YAML::Node& n) {
                  return n["kind"].as<std::string>() == "StatefulSet" &&
                         n["metadata"]["name"].as<std::string>() == "cairn-geo";
                });
              }),
              ::testing::Contains(HasSubstr("no geo-replica StatefulSet")));
  EXPECT_THAT(planted([&](auto& d) {
                YAML::Node set = find(d, "StatefulSet", "cairn-geo");
                set["spec"]["template"]["spec"]["volumes"][0].remove("secret");
              }),
              ::testing::Contains(HasSubstr("certificates are not mounted from a Secret")));
  // The primary region's objects checked as if they were the paired
  // region's: the region is wrong everywhere, and the geo-replica missing.
  const std::vector<YAML::Node> primary = Render("primary", &error);
  ASSERT_FALSE(primary.empty()) << error;
  EXPECT_THAT(CheckManifests(primary, "paired"),
              ::testing::Contains(HasSubstr("the voters' region is 'primary'")));
  EXPECT_THAT(CheckManifests(good, "primary"),
              ::testing::Contains(HasSubstr("a geo-replica in the primary region")));
}

}  // namespace
}  // namespace cairn::testing
