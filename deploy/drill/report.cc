// Drill reports as JSON, a table and an SVG timeline (see report.h).
#include "drill/report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cairn::drill {

namespace {

std::string Seconds(double s) { return s < 0 ? "never" : absl::StrFormat("%.2f s", s); }

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string ReportJson(const DrillReport& r) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["target"] = r.target;
  j["passed"] = r.passed;
  if (!r.error.empty()) j["error"] = r.error;
  j["acked_writes"] = r.acked_writes;
  j["acked_geo_durable_writes"] = r.acked_geo_durable_writes;
  j["lost_acked_writes"] = r.lost_acked_writes;
  j["lost_geo_durable_writes"] = r.lost_geo_durable_writes;
  j["rpo_entries"] = r.rpo_entries;
  j["rpo_s"] = r.rpo_s;
  j["rto_first_write_s"] = r.rto_first_write_s;
  j["rto_first_verified_read_s"] = r.rto_first_verified_read_s;
  if (r.scenario == "region-loss") {
    j["recovered_last_index"] = r.recovered_last_index;
    j["recover_s"] = r.recover_s;
  }
  if (r.test_dropped_segment) {
    j["test_dropped_segment"] = {{"first_index", r.test_dropped_segment->first},
                                 {"last_index", r.test_dropped_segment->second}};
  }
  j["receipts_kept"] = r.receipts_kept;
  j["receipts_reverified"] = r.receipts_reverified;
  j["checks"] = nlohmann::json::array();
  for (const DrillCheck& c : r.checks) {
    j["checks"].push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  }
  j["lost_writes"] = nlohmann::json::array();
  for (const LostWrite& w : r.lost_writes) {
    j["lost_writes"].push_back({{"txid", w.txid},
                                {"collection", w.collection},
                                {"geo_durable", w.geo_durable},
                                {"acked_at_s", w.acked_at_s}});
  }
  j["events"] = r.events;
  j["fault_at_s"] = r.fault_at_s;
  j["recovered_at_s"] = r.recovered_at_s;
  j["duration_s"] = r.duration_s;
  j["timeline"] = nlohmann::json::array();
  for (const TimelineSecond& s : r.timeline) {
    j["timeline"].push_back({{"appends_ok", s.appends_ok},
                             {"appends_failed", s.appends_failed},
                             {"reads_ok", s.reads_ok},
                             {"reads_failed", s.reads_failed},
                             {"archive_lag", s.archive_lag}});
  }
  j["work_dir"] = r.work_dir;
  return j.dump(2) + "\n";
}

std::string ReportTable(const DrillReport& r) {
  std::string out = absl::StrCat("drill ", r.scenario, " (", r.target,
                                 "): ", r.passed ? "PASSED" : "FAILED", "\n");
  if (!r.error.empty()) absl::StrAppend(&out, "  error: ", r.error, "\n");
  for (const std::string& e : r.events) absl::StrAppend(&out, "  ", e, "\n");
  absl::StrAppend(&out, "\n");
  auto row = [&](const std::string& name, const std::string& value) {
    absl::StrAppend(&out, absl::StrFormat("  %-28s %s\n", name, value));
  };
  row("acked writes",
      absl::StrCat(r.acked_writes, " (", r.acked_geo_durable_writes, " GEO_DURABLE)"));
  row("lost acked writes",
      absl::StrCat(r.lost_acked_writes, " (", r.lost_geo_durable_writes, " GEO_DURABLE)"));
  row("RPO", absl::StrCat(r.rpo_entries, " entries, ", Seconds(r.rpo_s)));
  row("RTO to first write", Seconds(r.rto_first_write_s));
  row("RTO to first verified read", Seconds(r.rto_first_verified_read_s));
  row("receipts re-verified", absl::StrCat(r.receipts_reverified, " of ", r.receipts_kept));
  absl::StrAppend(&out, "\n");
  for (const DrillCheck& c : r.checks) {
    absl::StrAppend(
        &out, absl::StrFormat("  %-4s %-26s %s\n", c.passed ? "ok" : "FAIL", c.name, c.detail));
  }
  // GEO_DURABLE losses first (each one is a broken promise), then the
  // first of the others.
  std::vector<const LostWrite*> shown;
  for (const LostWrite& w : r.lost_writes) {
    if (w.geo_durable) shown.push_back(&w);
  }
  for (const LostWrite& w : r.lost_writes) {
    if (!w.geo_durable && shown.size() < 20) shown.push_back(&w);
  }
  if (!shown.empty()) {
    absl::StrAppend(
        &out, "\n  lost writes",
        shown.size() < r.lost_writes.size() ? " (GEO_DURABLE ones, then the first)" : "", ":\n");
    for (const LostWrite* lost : shown) {
      const LostWrite& w = *lost;
      absl::StrAppend(
          &out, absl::StrFormat("    %s in %s%s, acknowledged at %.2f s\n", w.txid, w.collection,
                                w.geo_durable ? " (GEO_DURABLE)" : "", w.acked_at_s));
    }
  }
  absl::StrAppend(&out, "\n  data and logs: ", r.work_dir, "\n");
  return out;
}

std::string TimelineSvg(const DrillReport& r) {
  const double width = 800, height = 300, left = 60, right = 60, top = 40, bottom = 40;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const size_t n = std::max<size_t>(r.timeline.size(), 1);
  double rate_max = 1, lag_max = 1;
  for (const TimelineSecond& s : r.timeline) {
    rate_max = std::max<double>(rate_max, static_cast<double>(s.appends_ok));
    rate_max = std::max<double>(rate_max, static_cast<double>(s.appends_failed + s.reads_failed));
    lag_max = std::max(lag_max, s.archive_lag);
  }
  auto x = [&](double second) { return left + plot_w * second / static_cast<double>(n); };
  auto y = [&](double v, double max) { return top + plot_h * (1 - v / max); };
  auto polyline = [&](const std::string& color, auto value, double max) {
    std::string points;
    for (size_t i = 0; i < r.timeline.size(); ++i) {
      const double v = value(r.timeline[i]);
      if (v < 0) continue;
      absl::StrAppend(&points,
                      absl::StrFormat("%.1f,%.1f ", x(static_cast<double>(i) + 0.5), y(v, max)));
    }
    return absl::StrFormat(
        "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", color,
        points);
  };
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
      "<text x=\"%.0f\" y=\"20\" font-size=\"14\">cairn-drill %s (%s): %s</text>\n",
      width, height, left, XmlEscape(r.scenario), XmlEscape(r.target),
      r.passed ? "passed" : "FAILED");
  absl::StrAppend(&svg,
                  absl::StrFormat("<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
                                  "fill=\"none\" stroke=\"#888\"/>\n",
                                  left, top, plot_w, plot_h));
  // A tick every 5 s.
  for (size_t t = 5; t < n; t += 5) {
    absl::StrAppend(&svg,
                    absl::StrFormat("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" "
                                    "y2=\"%.0f\" stroke=\"#ddd\"/>\n"
                                    "<text x=\"%.1f\" y=\"%.0f\" fill=\"#888\" "
                                    "text-anchor=\"middle\">%zu s</text>\n",
                                    x(static_cast<double>(t)), top, x(static_cast<double>(t)),
                                    top + plot_h, x(static_cast<double>(t)), top + plot_h + 14, t));
  }
  // The fault, and the recovery, as a shaded band.
  absl::StrAppend(&svg,
                  absl::StrFormat("<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" "
                                  "fill=\"#f4cccc\" opacity=\"0.6\"/>\n",
                                  x(r.fault_at_s), top,
                                  std::max(1.0, x(r.recovered_at_s) - x(r.fault_at_s)), plot_h));
  absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%.0f\" fill=\"#a00\">fault</text>\n",
                                        x(r.fault_at_s) + 3, top + 14));
  absl::StrAppend(
      &svg, polyline(
                "#2a7", [](const TimelineSecond& s) { return double(s.appends_ok); }, rate_max));
  absl::StrAppend(
      &svg,
      polyline(
          "#c22", [](const TimelineSecond& s) { return double(s.appends_failed + s.reads_failed); },
          rate_max));
  absl::StrAppend(&svg,
                  polyline(
                      "#36c", [](const TimelineSecond& s) { return s.archive_lag; }, lag_max));
  absl::StrAppend(
      &svg,
      absl::StrFormat("<text x=\"5\" y=\"%.0f\">%.0f/s</text>\n<text x=\"5\" y=\"%.0f\">0</text>\n"
                      "<text x=\"%.0f\" y=\"%.0f\" fill=\"#36c\">%.0f</text>\n"
                      "<text x=\"%.0f\" y=\"%.0f\">%zu s</text>\n",
                      top + 4, rate_max, top + plot_h, width - right + 5, top + 4, lag_max,
                      width - right - 20, height - bottom + 16, n));
  absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.0f\" y=\"%.0f\"><tspan fill=\"#2a7\">appends "
                                        "ok/s</tspan>  <tspan fill=\"#c22\">failed calls/s</tspan>"
                                        "  <tspan fill=\"#36c\">archive lag, entries (right "
                                        "axis)</tspan></text>\n",
                                        left, height - 10));
  absl::StrAppend(&svg, "</svg>\n");
  return svg;
}

}  // namespace cairn::drill
