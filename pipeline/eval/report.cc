#include "pipeline/eval/report.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "util/status_macros.h"

extern char** environ;

namespace recall {
namespace {

using MetricMap = std::map<int, double> RankingMetrics::*;

// One line of a chart and one row of the metrics table.
struct System {
  std::string name;
  const RankingMetrics* metrics;
  // The gnuplot style of its line.
  std::string style;
};

// One bar of the hit share chart.
struct ShareRow {
  std::string channel;
  HitShare share;
};

// The line charts: file stem, title, y axis label and the metric drawn.
struct Chart {
  const char* stem;
  const char* title;
  const char* ylabel;
  MetricMap metric;
};

constexpr Chart kCharts[] = {
    {"recall_at_k", "Recall@K: held-out items found in the top K", "Recall@K",
     &RankingMetrics::recall},
    {"hr_at_k", "HR@K: users with a held-out item in the top K", "HR@K",
     &RankingMetrics::hr},
    {"coverage", "coverage@K: share of the catalogue in some user's top K",
     "coverage@K", &RankingMetrics::coverage},
};

constexpr char kScript[] = "plots.gp";
constexpr char kLog[] = "gnuplot.log";

// The charts' size in pixels: two side by side on a 1280-pixel screen.
constexpr int kChartWidth = 580;
constexpr int kChartHeight = 480;

// The channels' line colours, distinct on white; past the last, they repeat
// dashed.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                    "#bcbd22", "#393b79"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

// Merged, each channel that scored users, then the baselines when computed.
std::vector<System> Systems(const EvalReport& report) {
  std::vector<System> systems = {
      {"merged", &report.merged, "lw 3 lc rgb '#000000' pt 7"}};
  int i = 0;
  for (const auto& [name, m] : report.channels) {
    if (m.users == 0) continue;
    ++i;
    systems.push_back(
        {name, &m,
         absl::StrCat("lw 1.5 lc rgb '", kPalette[(i - 1) % kPaletteSize],
                      "' dt ", (i - 1) / kPaletteSize % 2 == 0 ? 1 : 4, " pt ",
                      i)});
  }
  if (report.popularity.users > 0) {
    systems.push_back(
        {"popularity", &report.popularity, "lw 2 dt 2 lc rgb '#7f7f7f' pt 4"});
  }
  if (report.item_knn.users > 0) {
    systems.push_back(
        {"item-kNN", &report.item_knn, "lw 2 dt 3 lc rgb '#404040' pt 6"});
  }
  return systems;
}

// The channels of report.hit_share, most hits first (ties by name).
std::vector<ShareRow> ShareRows(const EvalReport& report) {
  std::vector<ShareRow> rows;
  for (const auto& [name, share] : report.hit_share) {
    rows.push_back({name, share});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.share.hits > b.share.hits;
  });
  return rows;
}

// The cut-offs of the run.
std::vector<int> Cutoffs(const EvalReport& report) {
  std::vector<int> ks;
  for (const auto& [k, v] : report.merged.hr) ks.push_back(k);
  return ks;
}

// values[k], 0 when the run has no such K.
double At(const std::map<int, double>& values, int k) {
  const auto it = values.find(k);
  return it != values.end() ? it->second : 0;
}

// A name as one TSV field: tabs and line breaks as spaces.
std::string TsvField(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

// A line chart's data: "# K NAME..." then one row per K, one column per
// system.
std::string MetricTsv(const std::vector<System>& systems,
                      const std::vector<int>& ks, MetricMap metric) {
  std::string out = "# K";
  for (const System& s : systems) absl::StrAppend(&out, "\t", TsvField(s.name));
  out += "\n";
  for (int k : ks) {
    absl::StrAppend(&out, k);
    for (const System& s : systems) {
      absl::StrAppendFormat(&out, "\t%.6f", At(s.metrics->*metric, k));
    }
    out += "\n";
  }
  return out;
}

// The hit share chart's data: index, hits, share in percent, channel. No row
// when there is no channel (the script then draws no bars).
std::string ShareTsv(const std::vector<ShareRow>& rows) {
  std::string out = "# index\thits\tshare_percent\tchannel\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StrAppendFormat(&out, "%d\t%d\t%.4f\t%s\n", i, rows[i].share.hits,
                          rows[i].share.share * 100, TsvField(rows[i].channel));
  }
  return out;
}

// The commands that draw one line chart into STEM.png from STEM.tsv.
std::string LineChartScript(const Chart& chart,
                            const std::vector<System>& systems) {
  std::string out = absl::StrFormat(
      "set output '%s.png'\nset title %s\nset ylabel %s\nplot \\\n", chart.stem,
      GnuplotString(chart.title), GnuplotString(chart.ylabel));
  for (size_t i = 0; i < systems.size(); ++i) {
    absl::StrAppendFormat(
        &out, "  '%s.tsv' using 1:%d with linespoints %s title %s%s\n",
        chart.stem, i + 2, systems[i].style, GnuplotString(systems[i].name),
        i + 1 < systems.size() ? ", \\" : "");
  }
  return out;
}

// The bar chart of the channels' hit shares.
std::string ShareChartScript(const std::vector<ShareRow>& rows, int max_k) {
  std::string out = absl::StrFormat(
      "set output 'hit_share.png'\n"
      "unset logscale x\nunset key\nunset grid\nset grid ytics\n"
      "set title %s\nset xlabel 'channel'\n"
      "set ylabel '%% of the merged hits'\n"
      "set xrange [-0.6:%f]\nset yrange [0:110]\n"
      "set style fill solid 0.8\nset boxwidth 0.6\n",
      GnuplotString(absl::StrCat("Share of the merged answer's hits within the "
                                 "top ",
                                 max_k, ", by source channel")),
      std::max<double>(0.6, static_cast<double>(rows.size()) - 0.4));
  std::vector<std::string> tics;
  for (size_t i = 0; i < rows.size(); ++i) {
    tics.push_back(absl::StrCat(GnuplotString(rows[i].channel), " ", i));
  }
  absl::StrAppend(&out, "set xtics (", absl::StrJoin(tics, ", "),
                  ") rotate by -45 nomirror\n");
  if (rows.empty()) {
    // Nothing to draw: an empty frame rather than a gnuplot error.
    absl::StrAppend(&out, "set label 'no channels' at graph 0.45, 0.5\n",
                    "plot NaN notitle\n");
    return out;
  }
  absl::StrAppend(&out,
                  "plot 'hit_share.tsv' using 1:3 with boxes lc rgb "
                  "'#4477aa', \\\n"
                  "  '' using 1:3:($3 > 0 ? sprintf('%.0f%%', $3) : '') "
                  "with labels offset 0,0.8 font ',8'\n");
  return out;
}

// The whole gnuplot script; it names only files in its own directory.
std::string PlotsScript(const std::vector<System>& systems,
                        const std::vector<int>& ks,
                        const std::vector<ShareRow>& rows) {
  std::string out = absl::StrCat(
      "# Draws the charts of index.html; run in this directory: gnuplot "
      "plots.gp\n"
      "set terminal pngcairo noenhanced size ",
      kChartWidth, ",", kChartHeight,
      " font 'sans,9'\n"
      "set datafile separator tab\n"
      "set key below\nset grid\nset logscale x\nset xlabel 'K'\n"
      "set yrange [0:*]\n");
  std::vector<std::string> tics;
  for (int k : ks) tics.push_back(absl::StrCat(k));
  absl::StrAppendFormat(&out, "set xrange [%f:%f]\nset xtics (%s)\n",
                        ks.front() / 1.5, ks.back() * 1.5,
                        absl::StrJoin(tics, ", "));
  for (const Chart& chart : kCharts) {
    out += LineChartScript(chart, systems);
  }
  out += ShareChartScript(rows, ks.back());
  return out;
}

constexpr char kStyle[] =
    "body{font-family:sans-serif;margin:20px;color:#222;max-width:1200px}"
    "h1{margin-bottom:4px}table{border-collapse:collapse;margin:8px 0 20px}"
    "th,td{border:1px solid #ccc;padding:3px 8px}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#f2f2f2}table.meta th{text-align:left}"
    "code{white-space:pre-wrap;word-break:break-all}"
    "div.charts,div.tables{display:flex;flex-wrap:wrap;gap:12px}"
    "div.tables{column-gap:32px}"
    "img{max-width:100%;height:auto;border:1px solid #ddd}"
    "b{color:#000}p.note{color:#555}";

// The run's description: when, what, on which data, how many users.
std::string MetaTable(const EvalReport& report, const ReportContext& context) {
  const std::pair<const char*, std::string> rows[] = {
      {"Date", absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", context.time,
                                absl::UTCTimeZone())},
      {"Target", context.target},
      {"Test clicks", context.test_tsv},
      {"Train world", context.train_world.empty()
                          ? "(none: no popularity or item-kNN baseline)"
                          : context.train_world},
      {"Users",
       absl::StrCat(report.test_users, " in the test file, ",
                    report.merged.users, " scored on the merged answer")},
      {"Failed RPCs", absl::StrCat(report.errors)},
      {"Merged Recall latency", absl::StrFormat("p50 %.3f ms, p99 %.3f ms",
                                                report.p50_ms, report.p99_ms)},
  };
  std::string out = "<table class=\"meta\">\n";
  for (const auto& [name, value] : rows) {
    absl::StrAppend(&out, "<tr><th>", name, "</th><td>", HtmlEscape(value),
                    "</td></tr>\n");
  }
  if (!context.note.empty()) {
    absl::StrAppend(&out, "<tr><th>Data and split</th><td>",
                    HtmlEscape(context.note), "</td></tr>\n");
  }
  absl::StrAppend(&out, "<tr><th>Command</th><td><code>",
                  HtmlEscape(CommandLineText(context.argv)),
                  "</code></td></tr>\n</table>\n");
  return out;
}

// One metric at each K, one row per system; the best value of each column in
// bold.
std::string MetricTable(const std::vector<System>& systems,
                        const std::vector<int>& ks, const char* name,
                        MetricMap metric) {
  std::string out = absl::StrCat("<table class=\"metrics\">\n<tr><th>", name,
                                 "</th><th>users</th>");
  for (int k : ks) absl::StrAppend(&out, "<th>@", k, "</th>");
  out += "</tr>\n";
  for (const System& s : systems) {
    absl::StrAppend(&out, "<tr><td>", HtmlEscape(s.name),
                    "</td><td class=\"n\">", s.metrics->users, "</td>");
    for (int k : ks) {
      double best = 0;
      for (const System& other : systems) {
        best = std::max(best, At(other.metrics->*metric, k));
      }
      const double v = At(s.metrics->*metric, k);
      const std::string text = absl::StrFormat("%.4f", v);
      absl::StrAppend(
          &out, "<td class=\"n\">",
          v == best && v > 0 ? absl::StrCat("<b>", text, "</b>") : text,
          "</td>");
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

// Recall, HR, NDCG and coverage: a table each.
std::string MetricTables(const std::vector<System>& systems,
                         const std::vector<int>& ks) {
  std::string out = "<div class=\"tables\">\n";
  out += MetricTable(systems, ks, "Recall@K", &RankingMetrics::recall);
  out += MetricTable(systems, ks, "HR@K", &RankingMetrics::hr);
  out += MetricTable(systems, ks, "NDCG@K", &RankingMetrics::ndcg);
  out += MetricTable(systems, ks, "coverage@K", &RankingMetrics::coverage);
  return out + "</div>\n";
}

// Each channel's hits among the merged answer's, most first.
std::string ShareTable(const std::vector<ShareRow>& rows,
                       const EvalReport& report, int max_k) {
  std::string out = absl::StrFormat(
      "<p>%d hits of the merged answer within the top %d. A hit counts for "
      "every channel among its sources, so the shares can add up to more "
      "than 100%%.</p>\n"
      "<table class=\"share\">\n<tr><th>channel</th><th>hits</th>"
      "<th>share</th></tr>\n",
      report.merged_hits, max_k);
  for (const ShareRow& row : rows) {
    absl::StrAppendFormat(&out,
                          "<tr><td>%s</td><td class=\"n\">%d</td>"
                          "<td class=\"n\">%.1f%%</td></tr>\n",
                          HtmlEscape(row.channel), row.share.hits,
                          row.share.share * 100);
  }
  return out + "</table>\n";
}

std::string IndexHtml(const EvalReport& report, const ReportContext& context,
                      const std::vector<System>& systems,
                      const std::vector<int>& ks,
                      const std::vector<ShareRow>& rows) {
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>Recall evaluation: ",
      HtmlEscape(context.target), "</title>\n<style>", kStyle,
      "</style>\n</head>\n<body>\n<h1>Recall evaluation</h1>\n",
      MetaTable(report, context), "<h2>Charts</h2>\n<div class=\"charts\">\n");
  const std::pair<const char*, const char*> images[] = {
      {"recall_at_k.png", "Recall@K per system"},
      {"hr_at_k.png", "HR@K per system"},
      {"coverage.png", "coverage@K per system"},
      {"hit_share.png", "each channel's share of the merged hits"}};
  for (const auto& [file, alt] : images) {
    absl::StrAppend(&out, "<img src=\"", file, "\" alt=\"", HtmlEscape(alt),
                    "\" width=\"", kChartWidth, "\" height=\"", kChartHeight,
                    "\">\n");
  }
  absl::StrAppend(&out, "</div>\n<h2>Metrics</h2>\n", MetricTables(systems, ks),
                  "<p class=\"note\">Each channel alone answers with only that "
                  "channel enabled (its policy quota applies); the baselines "
                  "are computed from the train world's clicks.</p>\n",
                  "<h2>Share of the merged answer's hits</h2>\n",
                  ShareTable(rows, report, ks.back()),
                  "<p>Every number: <a href=\"report.json\">report.json</a>; "
                  "the charts' data: the .tsv files and plots.gp.</p>\n"
                  "</body>\n</html>\n");
  return out;
}

absl::Status WriteTextFile(const std::filesystem::path& path,
                           const std::string& content) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    const int err = errno != 0 ? errno : EIO;
    return absl::ErrnoToStatus(
        err, absl::StrCat("eval report: cannot write ", path.string()));
  }
  return absl::OkStatus();
}

// The last `max_bytes` of `path`, or "" when it cannot be read.
std::string Tail(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

// Runs `gnuplot plots.gp` in `dir` (argv, no shell), its output into
// gnuplot.log, and waits for it.
absl::Status RunGnuplot(const std::filesystem::path& dir) {
  const std::string script = (dir / kScript).string();
  posix_spawn_file_actions_t actions;
  if (const int err = posix_spawn_file_actions_init(&actions); err != 0) {
    return absl::ErrnoToStatus(err, "eval report: posix_spawn set-up");
  }
  // Each returns 0 or an errno (ENOMEM); the first error wins.
  int setup = posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  if (setup == 0) {
    setup =
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (setup == 0) {
    setup = posix_spawn_file_actions_addopen(
        &actions, 1, kLog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (setup == 0) setup = posix_spawn_file_actions_adddup2(&actions, 1, 2);
  char program[] = "gnuplot";
  char script_arg[] = "plots.gp";
  char* argv[] = {program, script_arg, nullptr};
  pid_t pid = 0;
  const int err = setup != 0 ? 0
                             : posix_spawnp(&pid, program, &actions, nullptr,
                                            argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (setup != 0) {
    return absl::ErrnoToStatus(setup, "eval report: posix_spawn set-up");
  }
  if (err != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "eval report: cannot run gnuplot (", std::strerror(err),
        "; is it installed and in PATH? Debian: apt-get install gnuplot-nox) "
        "to draw the charts of ",
        script));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    const int wait_err = errno;
    if (wait_err != EINTR) {
      return absl::ErrnoToStatus(
          wait_err,
          absl::StrCat("eval report: waiting for gnuplot on ", script));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  const std::string how =
      WIFEXITED(status)
          ? absl::StrCat("exited with status ", WEXITSTATUS(status))
          : absl::StrCat("died of signal ", WTERMSIG(status));
  return absl::InternalError(absl::StrCat("eval report: gnuplot ", how, " on ",
                                          script, ": ", Tail(dir / kLog, 600)));
}

}  // namespace

absl::Status WriteEvalReport(const EvalReport& report,
                             const ReportContext& context,
                             const std::string& dir) {
  const std::vector<int> ks = Cutoffs(report);
  if (ks.empty()) {
    return absl::InvalidArgumentError("eval report: the report has no K");
  }
  const std::filesystem::path root(dir);
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return absl::ErrnoToStatus(
        ec.value(),
        absl::StrCat("eval report: cannot create ", dir, ": ", ec.message()));
  }
  const std::vector<System> systems = Systems(report);
  const std::vector<ShareRow> rows = ShareRows(report);
  for (const Chart& chart : kCharts) {
    RETURN_IF_ERROR(WriteTextFile(root / absl::StrCat(chart.stem, ".tsv"),
                                  MetricTsv(systems, ks, chart.metric)));
  }
  RETURN_IF_ERROR(WriteTextFile(root / "hit_share.tsv", ShareTsv(rows)));
  RETURN_IF_ERROR(
      WriteTextFile(root / kScript, PlotsScript(systems, ks, rows)));
  RETURN_IF_ERROR(WriteTextFile(root / "report.json", report.ToJson() + "\n"));
  RETURN_IF_ERROR(RunGnuplot(root));
  return WriteTextFile(root / "index.html",
                       IndexHtml(report, context, systems, ks, rows));
}

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string GnuplotString(absl::string_view text) {
  std::string out = "'";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\'') {
      out += "''";
    } else if (u < 0x20 || u == 0x7f) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string CommandLineText(const std::vector<std::string>& argv) {
  std::vector<std::string> words;
  for (const std::string& arg : argv) {
    const bool safe =
        !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                 std::string_view("_-./:=,@%+").find(c) !=
                     std::string_view::npos;
        });
    if (safe) {
      words.push_back(arg);
      continue;
    }
    std::string quoted = "'";
    for (char c : arg) {
      if (c == '\'') {
        quoted += "'\\''";
      } else {
        quoted += c;
      }
    }
    words.push_back(quoted + "'");
  }
  return absl::StrJoin(words, " ");
}

}  // namespace recall
