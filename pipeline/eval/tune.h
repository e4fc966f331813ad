// `recallctl tune`: fits a recall policy's weights to a click log without
// looking at its test users.
//
// From TRAIN_WORLD (the training side of `recallctl split`) it carves a
// validation split (split "last": each user's newest `last_n` clicks; split
// "time": in time order, the newest `time_fraction` of the clicks judged,
// the `time_fraction` before them folded into a click stream's state, the
// rest and the items published before them the snapshot's, and the items
// published since applied as live items, as a server following both
// streams serves), retrains the learned spaces on the rest (`recallctl
// train`),
// builds a snapshot of it
// (`recallctl build`, item-CF and hot lists included), and then searches
// the policy in process, scoring each candidate by the merged answer's
// metric (e.g. Recall@100) over the validation users through the same
// RecallEngine the server runs:
//   1. start from the best of: the start policy (--policy, else the
//      snapshot's default policy) and every channel alone at weight 1 (the
//      others disabled; back-fill stays on);
//   2. coordinate ascent: for each coordinate in turn (each channel's
//      weight, where 0 disables it, and quota; the feature weighting's
//      hotness and CTR weights and freshness half-life), each value of its
//      grid, keeping a change only when it improves the score; `rounds`
//      passes, or until `max_seconds`.
// Every step keeps the best policy seen, so the result scores at least as
// well as its best single channel on the validation split, by construction.
#ifndef RECALL_PIPELINE_EVAL_TUNE_H_
#define RECALL_PIPELINE_EVAL_TUNE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/snapshot/builder.h"
#include "pipeline/train/trainer.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/realtime_state.h"

namespace recall {

// A ranking metric by name: "recall@K", "hr@K" or "ndcg@K".
struct MetricSpec {
  std::string name;  // "recall", "hr", "ndcg"
  int k = 100;
};
absl::StatusOr<MetricSpec> ParseMetric(const std::string& text);

struct WeightSearchOptions {
  // Weights tried per channel; 0 disables the channel.
  std::vector<float> grid = {0,     0.05f, 0.1f, 0.2f, 0.35f, 0.5f,
                             0.75f, 1,     1.5f, 2,    3};
  // Hotness weights tried (feature weighting).
  std::vector<float> hotness_grid = {0, 0.5f, 1, 3, 10};
  // Quotas tried per channel (0: the default, k) and the other feature
  // weights (FeatureWeights in snapshot.proto; a half-life of 0 is off).
  std::vector<float> quota_grid = {0, 50, 100, 300};
  std::vector<float> ctr_grid = {0, 0.5f, 2};
  std::vector<float> freshness_grid = {0, 24, 168};
  int rounds = 2;
  // Stops after the evaluation that crosses this budget.
  double max_seconds = 600;
  // Progress lines on stderr.
  bool progress = false;
};

struct WeightSearchResult {
  v1::Policy policy;
  double score = 0;
  double start_score = 0;   // the start policy's
  std::string best_single;  // the best channel alone, and its score
  double best_single_score = 0;
  // Every channel alone, in policy order.
  std::vector<std::pair<std::string, double>> singles;
  int evaluations = 0;
};

// The search of steps 1 and 2 above over `start`'s channels, scoring with
// `score` (higher is better). Deterministic for a deterministic `score`.
WeightSearchResult SearchWeights(
    const v1::Policy& start,
    const std::function<double(const v1::Policy&)>& score,
    const WeightSearchOptions& options);

struct TuneOptions {
  std::string input;  // TRAIN_WORLD
  std::string out_policy;
  // Start policy (text-format recall.v1.Policy); empty: the default policy.
  std::string start_policy;
  // Scratch space (validation world and snapshot); empty: a folder under
  // the system's temp directory, removed afterwards.
  std::string work_dir;
  // "last" (each user's newest last_n clicks) or "time" (the newest
  // time_fraction of all clicks, by time; for click logs with real times:
  // what a snapshot built at a cut-off serves).
  std::string split = "last";
  int last_n = 5;
  // Split "time": the share of the clicks judged, and of those replayed on
  // the click stream before them (less than 0.5).
  double time_fraction = 0.1;
  // Split "time": the click stream's state, as the servers run it (their
  // --realtime_* flags).
  RealtimeOptions realtime;
  // Split "time": the spaces whose vectors live items carry (what the
  // producers of the item stream compute: content vectors, not those learnt
  // from clicks). Empty: every space not retrained.
  std::vector<std::string> live_spaces;
  std::string metric = "recall@100";
  // Build options for the validation snapshot (input_dir and out_root are
  // set by Tune; policy_file is ignored).
  BuildOptions build;
  // Spaces retrained on the validation world's clicks; those missing from
  // TRAIN_WORLD's vectors are skipped. Empty: none (the world's vectors are
  // used as they are: only honest when they were not learned from these
  // clicks).
  TrainOptions train;
  // Validation users scored per candidate (a deterministic sample when
  // there are more); 0: all.
  int max_users = 2000;
  int threads = 0;  // 0: the machine's cores
  WeightSearchOptions search;
};

struct TuneReport {
  WeightSearchResult search;
  MetricSpec metric;
  int64_t validation_users = 0;
  // Split "time": the snapshot's cut-off, where the judged clicks start,
  // and the items published after the cut-off applied as live items.
  int64_t cutoff_unix = 0;
  int64_t judged_from_unix = 0;
  int64_t live_items = 0;
  // The policy file's text: comments with the figures, then the policy.
  std::string policy_text;
};

// Runs the whole fit and writes options.out_policy. Errors name the stage
// (split, train, build, the policy) and its input.
absl::StatusOr<TuneReport> Tune(const TuneOptions& options);

}  // namespace recall

#endif  // RECALL_PIPELINE_EVAL_TUNE_H_
