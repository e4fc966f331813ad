// recallctl import movielens|mind --input SRC --out WORLD, and
// recallctl split --input WORLD --out TRAIN_WORLD --test TEST.tsv: real click
// logs into worlds, and worlds into train and test parts.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "pipeline/data/importers.h"
#include "pipeline/data/split.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(double, min_rating, 4.0,
          "import movielens: ratings at or above this are clicks");
ABSL_FLAG(double, last_fraction, 0,
          "split: per user, the last fraction of clicks");
ABSL_FLAG(int64_t, cutoff, 0,
          "split: clicks at or after this unix time are test clicks");
ABSL_FLAG(std::string, new_items, "",
          "split --cutoff: where the items published at or after the cut-off "
          "go (items.tsv and <space>.item.vec, as publish-items reads them); "
          "they leave the training world either way");

namespace recall {

// recallctl import movielens|mind --input SRC --out WORLD
int RunImport(const std::string& format) {
  const std::string src = absl::GetFlag(FLAGS_input);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (src.empty() || out.empty()) {
    return Fail(
        absl::InvalidArgumentError("import: --input and --out are required"));
  }
  absl::StatusOr<ImportReport> report;
  if (format == "movielens") {
    MovieLensOptions options;
    options.min_rating = absl::GetFlag(FLAGS_min_rating);
    report = ImportMovieLens(src, out, options);
  } else if (format == "mind") {
    report = ImportMind(src, out);
  } else {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("import: want movielens or mind, got \"", format, "\"")));
  }
  if (!report.ok()) return Fail(report.status());
  printf("%s", report->ToText().c_str());
  return 0;
}

int RunSplit() {
  SplitOptions options;
  options.last_n = absl::GetFlag(FLAGS_last_n);
  options.last_fraction = absl::GetFlag(FLAGS_last_fraction);
  options.cutoff_unix = absl::GetFlag(FLAGS_cutoff);
  options.new_items_dir = absl::GetFlag(FLAGS_new_items);
  absl::StatusOr<SplitReport> report =
      SplitWorld(absl::GetFlag(FLAGS_input), absl::GetFlag(FLAGS_out),
                 absl::GetFlag(FLAGS_test), options);
  if (!report.ok()) return Fail(report.status());
  printf("%s", report->ToText().c_str());
  return 0;
}

}  // namespace recall
