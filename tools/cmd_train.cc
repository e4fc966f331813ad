// recallctl train --input WORLD [--train_spaces ...]: embeddings learned from
// the world's clicks, written as its vector files.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "pipeline/train/trainer.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "util/parallel.h"

ABSL_FLAG(std::vector<std::string>, train_spaces,
          std::vector<std::string>({"item2vec", "media2vec", "tag2vec",
                                    "title2vec", "mf"}),
          "train: spaces to learn (mf: user and item vectors by implicit "
          "ALS); tune: the spaces retrained on its validation world");
ABSL_FLAG(int, epochs, 10,
          "train: passes over the corpus (mf: ALS iterations)");
ABSL_FLAG(double, mf_alpha, 10,
          "train mf: confidence of a click over a non-click");
ABSL_FLAG(double, mf_lambda, 0.1, "train mf: L2 penalty");
ABSL_FLAG(int, window, 5, "train: context size");
ABSL_FLAG(int, negatives, 5, "train: negative samples per positive");
ABSL_FLAG(int, min_count, 2,
          "train: fewer occurrences get no vector (reported)");
ABSL_FLAG(double, session_gap_hours, 2,
          "train: a longer pause starts a new session");
ABSL_FLAG(double, subsample, 1e-4,
          "train: subsampling threshold of frequent tokens");

namespace recall {

TrainOptions TrainOptionsFromFlags() {
  TrainOptions options;
  options.spaces = absl::GetFlag(FLAGS_train_spaces);
  options.dim = absl::GetFlag(FLAGS_dim);
  options.epochs = absl::GetFlag(FLAGS_epochs);
  options.window = absl::GetFlag(FLAGS_window);
  options.negatives = absl::GetFlag(FLAGS_negatives);
  options.min_count = absl::GetFlag(FLAGS_min_count);
  options.threads = WorkerThreads();  // --threads (recallctl.cc)
  options.session_gap = absl::Hours(absl::GetFlag(FLAGS_session_gap_hours));
  options.subsample = absl::GetFlag(FLAGS_subsample);
  options.mf_alpha = absl::GetFlag(FLAGS_mf_alpha);
  options.mf_lambda = absl::GetFlag(FLAGS_mf_lambda);
  options.seed = static_cast<int>(absl::GetFlag(FLAGS_seed));
  return options;
}

int RunTrain() {
  TrainOptions options = TrainOptionsFromFlags();
  options.world = absl::GetFlag(FLAGS_input);
  if (options.world.empty())
    return Fail(absl::InvalidArgumentError("train: --input is required"));
  absl::StatusOr<TrainReport> report = TrainSpaces(options);
  if (!report.ok()) return Fail(report.status());
  printf("%s", report->ToText().c_str());
  return 0;
}

}  // namespace recall
