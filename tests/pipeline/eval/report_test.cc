#include "pipeline/eval/report.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kEvil[] = "<script>alert(1)</script>";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

// Metrics at `ks` that grow with K, scaled by `scale`.
RankingMetrics Metrics(const std::vector<int>& ks, int64_t users,
                       double scale) {
  RankingMetrics m;
  m.users = users;
  for (int k : ks) {
    const double v = scale * k / (k + 100.0);
    m.hr[k] = v * 1.5;
    m.recall[k] = v;
    m.ndcg[k] = v * 0.6;
    m.coverage[k] = v * 0.3;
  }
  return m;
}

// A report with a channel whose name is markup, one with quotes and a
// backslash (gnuplot's string syntax), and the baselines.
EvalReport HandMadeReport(const std::vector<int>& ks) {
  EvalReport r;
  r.merged = Metrics(ks, 50, 1.0);
  r.popularity = Metrics(ks, 50, 0.4);
  r.item_knn = Metrics(ks, 50, 0.7);
  r.channels["u2i_dssm"] = Metrics(ks, 50, 0.6);
  r.channels[kEvil] = Metrics(ks, 50, 0.3);
  r.channels["it's \"q\"\\n"] = Metrics(ks, 50, 0.2);
  r.test_users = 52;
  r.errors = 2;
  r.p50_ms = 1.25;
  r.p99_ms = 4.5;
  r.merged_hits = 40;
  r.hit_share["u2i_dssm"] = {30, 0.75};
  r.hit_share[kEvil] = {12, 0.3};
  r.hit_share["it's \"q\"\\n"] = {0, 0};
  return r;
}

ReportContext Context() {
  ReportContext c;
  c.target = "127.0.0.1:50051";
  c.test_tsv = "/data/<test>.tsv";
  c.train_world = "/data/train & more";
  c.argv = {"recallctl",       "eval",          "--target",
            "127.0.0.1:50051", "--test",        "/data/<test>.tsv",
            "--report",        "/tmp/it's here"};
  c.time = absl::FromUnixSeconds(1767225600);  // 2026-01-01 00:00:00 UTC
  c.note = "last 5 <clicks> held out";
  return c;
}

// Sets an environment variable for the object's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void ExpectPng(const std::string& path) {
  const std::string bytes = ReadAll(path);
  ASSERT_GT(bytes.size(), 1000u) << path;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << path;
}

TEST(HtmlEscapeTest, EscapesMarkupAndQuotes) {
  EXPECT_EQ(HtmlEscape("plain_name-1"), "plain_name-1");
  EXPECT_EQ(HtmlEscape(kEvil), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(HtmlEscape("a&b \"c\" 'd'"), "a&amp;b &quot;c&quot; &#39;d&#39;");
  EXPECT_EQ(HtmlEscape("&amp;"), "&amp;amp;");
  EXPECT_EQ(HtmlEscape(""), "");
  EXPECT_EQ(HtmlEscape("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 untouched
}

TEST(GnuplotStringTest, SingleQuotedWithQuotesDoubled) {
  EXPECT_EQ(GnuplotString("u2i_dssm"), "'u2i_dssm'");
  EXPECT_EQ(GnuplotString("it's"), "'it''s'");
  EXPECT_EQ(GnuplotString("a\"b\\c @m `x`"), "'a\"b\\c @m `x`'");
  EXPECT_EQ(GnuplotString("two\nlines\t"), "'two lines '");
}

TEST(CommandLineTextTest, QuotesWhatAShellWouldSplit) {
  EXPECT_EQ(CommandLineText({"recallctl", "eval", "--target=127.0.0.1:1",
                             "--cutoffs", "10,50", "/a/b.tsv"}),
            "recallctl eval --target=127.0.0.1:1 --cutoffs 10,50 /a/b.tsv");
  EXPECT_EQ(CommandLineText({"x", "a b", "", "it's", "$HOME", "<p>"}),
            "x 'a b' '' 'it'\\''s' '$HOME' '<p>'");
}

TEST(WriteEvalReportTest, WritesPageChartsAndJson) {
  ScopedTempDir tmp;
  const std::string dir = tmp.Path("nested/report");  // created
  const std::vector<int> ks = {10, 50, 100, 500};
  const EvalReport report = HandMadeReport(ks);
  ASSERT_TRUE(WriteEvalReport(report, Context(), dir).ok());

  for (const char* png :
       {"recall_at_k.png", "hr_at_k.png", "coverage.png", "hit_share.png"}) {
    ExpectPng(dir + "/" + png);
  }
  const std::string html = ReadAll(dir + "/index.html");
  ASSERT_FALSE(html.empty());
  for (const char* img :
       {"<img src=\"recall_at_k.png\"", "<img src=\"hr_at_k.png\"",
        "<img src=\"coverage.png\"", "<img src=\"hit_share.png\""}) {
    EXPECT_THAT(html, HasSubstr(img));
  }
  // Data is escaped, never raw markup; the page runs no script at all.
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, Not(HasSubstr(kEvil)));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, HasSubstr("it&#39;s &quot;q&quot;\\n"));
  EXPECT_THAT(html, HasSubstr("/data/&lt;test&gt;.tsv"));
  EXPECT_THAT(html, HasSubstr("/data/train &amp; more"));
  EXPECT_THAT(html, HasSubstr("2026-01-01 00:00:00 UTC"));
  EXPECT_THAT(html, HasSubstr("127.0.0.1:50051"));
  EXPECT_THAT(
      html, HasSubstr("Data and split</th><td>last 5 &lt;clicks&gt; held out"));
  EXPECT_THAT(html, HasSubstr("--report &#39;/tmp/it&#39;\\&#39;&#39;s "
                              "here&#39;"));
  EXPECT_THAT(html, HasSubstr("52 in the test file, 50 scored"));
  EXPECT_THAT(html, HasSubstr("Recall@K"));
  EXPECT_THAT(html, HasSubstr("item-kNN"));
  EXPECT_THAT(html, HasSubstr("75.0%"));  // u2i_dssm's share
  EXPECT_THAT(html, HasSubstr("40 hits of the merged answer within the top "
                              "500"));

  const std::string json = ReadAll(dir + "/report.json");
  EXPECT_EQ(json, report.ToJson() + "\n");
  const nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["merged_hits"], 40);
  EXPECT_EQ(parsed["hit_share"]["u2i_dssm"]["hits"], 30);
  EXPECT_DOUBLE_EQ(parsed["hit_share"]["u2i_dssm"]["share"].get<double>(),
                   0.75);
  EXPECT_EQ(parsed["merged"]["users"], 50);

  // The script names no path from data: only its own files.
  const std::string script = ReadAll(dir + "/plots.gp");
  EXPECT_THAT(script, HasSubstr("'it''s \"q\"\\n'"));
  EXPECT_THAT(script, Not(HasSubstr("/data")));
  EXPECT_THAT(ReadAll(dir + "/recall_at_k.tsv"), HasSubstr("\n500\t"));
}

TEST(WriteEvalReportTest, OneCutOffNoBaselinesNoChannels) {
  ScopedTempDir tmp;
  EvalReport report;
  report.merged = Metrics({100}, 3, 1.0);
  report.popularity = Metrics({100}, 0, 0);
  report.item_knn = report.popularity;
  ReportContext context = Context();
  context.train_world.clear();
  ASSERT_TRUE(WriteEvalReport(report, context, tmp.dir()).ok());
  ExpectPng(tmp.Path("recall_at_k.png"));
  ExpectPng(tmp.Path("hit_share.png"));
  const std::string html = ReadAll(tmp.Path("index.html"));
  EXPECT_THAT(html, HasSubstr("no popularity or item-kNN baseline"));
  EXPECT_THAT(html, Not(HasSubstr("item-kNN</td>")));
}

TEST(WriteEvalReportTest, MissingGnuplotNamesItAndTheScript) {
  ScopedTempDir tmp;
  std::filesystem::create_directories(tmp.Path("empty_bin"));
  absl::Status s;
  {
    ScopedEnv path("PATH", tmp.Path("empty_bin"));
    s = WriteEvalReport(HandMadeReport({10, 100}), Context(),
                        tmp.Path("report"));
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("gnuplot"));
  EXPECT_THAT(s.message(), HasSubstr(tmp.Path("report") + "/plots.gp"));
  // The data and the script are there to run by hand.
  EXPECT_TRUE(std::filesystem::exists(tmp.Path("report/plots.gp")));
  EXPECT_FALSE(std::filesystem::exists(tmp.Path("report/index.html")));
}

TEST(WriteEvalReportTest, FailingGnuplotGivesItsStatusAndOutput) {
  ScopedTempDir tmp;
  const std::string bin = tmp.Path("bin");
  std::filesystem::create_directories(bin);
  {
    std::ofstream fake(bin + "/gnuplot");
    fake << "#!/bin/sh\necho \"line 3: undefined variable\" >&2\nexit 3\n";
  }
  chmod((bin + "/gnuplot").c_str(), 0755);
  absl::Status s;
  {
    ScopedEnv path("PATH", bin);
    s = WriteEvalReport(HandMadeReport({10, 100}), Context(),
                        tmp.Path("report"));
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("gnuplot exited with status 3"));
  EXPECT_THAT(s.message(), HasSubstr("plots.gp"));
  EXPECT_THAT(s.message(), HasSubstr("undefined variable"));
}

TEST(WriteEvalReportTest, UnwritableDirectory) {
  ScopedTempDir tmp;
  WriteFile(tmp.Path("file"), "x");
  const absl::Status s =
      WriteEvalReport(HandMadeReport({10}), Context(), tmp.Path("file/report"));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(tmp.Path("file/report")));
}

}  // namespace
}  // namespace recall
