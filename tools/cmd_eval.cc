// recallctl eval --target HOST:PORT --test TEST.tsv [--cutoffs 10,50
// --train WORLD --json --report DIR]: ranking metrics of a running server
// against held-out clicks, beside the popularity and item-kNN baselines;
// with --report, also an HTML page with charts (pipeline/eval/report.h).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "pipeline/eval/eval.h"
#include "pipeline/eval/report.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "tools/grpc_target.h"

ABSL_FLAG(std::string, train, "",
          "eval: TRAIN_WORLD for the popularity and item-kNN baselines");
ABSL_FLAG(bool, per_channel, true, "eval: also evaluate each channel alone");
ABSL_FLAG(std::vector<std::string>, cutoffs, {},
          "eval: the cut-offs K of the metrics, comma-separated (default "
          "10,50,100,500); each request asks for the largest");
ABSL_FLAG(std::string, report, "",
          "eval: also write an HTML report with charts into this directory "
          "(created if missing; the charts need gnuplot)");
ABSL_FLAG(std::string, report_note, "",
          "eval --report: a line on the data and how the test split was made, "
          "shown on the page");

namespace recall {
namespace {

// `path` made absolute against the working directory; "" stays "", and a
// path that cannot be resolved stays as given.
std::string AbsolutePath(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

}  // namespace

int RunEval() {
  EvalOptions options;
  const std::string address = absl::GetFlag(FLAGS_target);
  options.test_tsv = absl::GetFlag(FLAGS_test);
  if (address.empty() || options.test_tsv.empty()) {
    return Fail(
        absl::InvalidArgumentError("eval: --target and --test are required"));
  }
  std::vector<std::string> ks = absl::GetFlag(FLAGS_cutoffs);
  if (ks.empty()) ks = {"10", "50", "100", "500"};
  options.ks.clear();
  for (const std::string& k : ks) {
    int value = 0;
    if (!absl::SimpleAtoi(k, &value) || value < 1) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("eval: bad --cutoffs value \"", k, "\"")));
    }
    options.ks.push_back(value);
  }
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  const std::unique_ptr<RecallTarget> target = NewGrpcRecallTarget(address);
  options.target = target.get();
  options.per_channel = absl::GetFlag(FLAGS_per_channel);
  options.train_world = absl::GetFlag(FLAGS_train);
  options.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms) * 10);
  options.progress = true;
  absl::StatusOr<EvalReport> report = RunEval(options);
  if (!report.ok()) return Fail(report.status());
  printf("%s\n", absl::GetFlag(FLAGS_json) ? report->ToJson().c_str()
                                           : report->ToText().c_str());
  const std::string report_dir = absl::GetFlag(FLAGS_report);
  if (report_dir.empty()) return 0;
  ReportContext context;
  context.target = address;
  // Absolute, so that the page still says which files when read elsewhere.
  context.test_tsv = AbsolutePath(options.test_tsv);
  context.train_world = AbsolutePath(options.train_world);
  context.argv = CommandLine();
  context.note = absl::GetFlag(FLAGS_report_note);
  if (absl::Status written = WriteEvalReport(*report, context, report_dir);
      !written.ok()) {
    return Fail(written);
  }
  fprintf(stderr, "eval: report written to %s/index.html\n",
          report_dir.c_str());
  return 0;
}

}  // namespace recall
