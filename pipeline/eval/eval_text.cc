// EvalReport's printers (eval.h): the JSON that scripts read and the table
// that people read.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "pipeline/eval/eval.h"
#include "pipeline/eval/json_text.h"

namespace recall {
namespace {

JsonObject MetricsJson(const RankingMetrics& m) {
  JsonObject out = {{"users", m.users}};
  const std::pair<const char*, const std::map<int, double>*> groups[] = {
      {"hr", &m.hr},
      {"recall", &m.recall},
      {"ndcg", &m.ndcg},
      {"coverage", &m.coverage}};
  for (const auto& [name, values] : groups) {
    for (const auto& [k, v] : *values) {
      out[absl::StrCat(name, "@", k)] = JsonNumber(v, 6);
    }
  }
  return out;
}

// The hit share section of ToText: one row per channel, most hits first.
std::string HitShareText(const EvalReport& report, int name_width) {
  const int max_k =
      report.merged.hr.empty() ? 0 : report.merged.hr.rbegin()->first;
  std::string out = absl::StrFormat(
      "\nmerged hits within the top %d by source channel: %d hits\n", max_k,
      report.merged_hits);
  std::vector<std::pair<std::string, HitShare>> rows(report.hit_share.begin(),
                                                     report.hit_share.end());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.hits > b.second.hits;
  });
  for (const auto& [name, share] : rows) {
    absl::StrAppendFormat(&out, "%-*s %8d %8.2f%%\n", name_width, name,
                          share.hits, share.share * 100);
  }
  return out;
}

}  // namespace

std::string EvalReport::ToJson() const {
  JsonObject channel_metrics = JsonObject::object();
  for (const auto& [name, m] : channels) channel_metrics[name] = MetricsJson(m);
  JsonObject shares = JsonObject::object();
  for (const auto& [name, share] : hit_share) {
    shares[name] = {{"hits", share.hits},
                    {"share", JsonNumber(share.share, 6)}};
  }
  const JsonObject report = {
      {"merged", MetricsJson(merged)},
      {"popularity", MetricsJson(popularity)},
      {"item_knn", MetricsJson(item_knn)},
      {"channels", std::move(channel_metrics)},
      {"latency",
       {{"p50_ms", JsonNumber(p50_ms, 3)}, {"p99_ms", JsonNumber(p99_ms, 3)}}},
      {"errors", errors},
      {"test_users", test_users},
      {"merged_hits", merged_hits},
      {"hit_share", std::move(shares)}};
  return report.dump();
}

std::string EvalReport::ToText() const {
  std::vector<std::pair<std::string, const RankingMetrics*>> rows;
  rows.emplace_back("merged", &merged);
  if (popularity.users > 0) rows.emplace_back("popularity", &popularity);
  if (item_knn.users > 0) rows.emplace_back("item-kNN", &item_knn);
  for (const auto& [name, m] : channels) {
    rows.emplace_back(absl::StrCat("channel ", name), &m);
  }
  size_t name_width = 10;
  for (const auto& row : rows)
    name_width = std::max(name_width, row.first.size());
  const int w = static_cast<int>(name_width);

  std::string out = absl::StrFormat("%-*s %8s", w, "", "users");
  for (const char* metric : {"HR", "Recall", "NDCG"}) {
    for (const auto& [k, v] : merged.hr) {
      absl::StrAppendFormat(&out, " %9s", absl::StrCat(metric, "@", k));
    }
  }
  out += "\n";
  for (const auto& [name, m] : rows) {
    absl::StrAppendFormat(&out, "%-*s %8d", w, name, m->users);
    for (const std::map<int, double>* values : {&m->hr, &m->recall, &m->ndcg}) {
      for (const auto& [k, v] : *values) {
        absl::StrAppendFormat(&out, " %9.4f", v);
      }
    }
    out += "\n";
  }
  absl::StrAppendFormat(&out, "\n%-*s", w, "coverage");
  for (const auto& [k, v] : merged.coverage) {
    absl::StrAppendFormat(&out, " %9s", absl::StrCat("@", k));
  }
  out += "\n";
  for (const auto& [name, m] : rows) {
    absl::StrAppendFormat(&out, "%-*s", w, name);
    for (const auto& [k, v] : m->coverage) {
      absl::StrAppendFormat(&out, " %9.4f", v);
    }
    out += "\n";
  }
  absl::StrAppendFormat(&out,
                        "\nmerged Recall latency ms: p50 %.3f  p99 %.3f\n"
                        "failed RPCs: %d\n",
                        p50_ms, p99_ms, errors);
  out += HitShareText(*this, w);
  return out;
}

}  // namespace recall
