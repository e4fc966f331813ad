#include "pipeline/eval/tune.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/split.h"
#include "pipeline/eval/eval.h"
#include "pipeline/snapshot/item_upserts.h"
#include "recall/engine.h"
#include "recall/live_items.h"
#include "recall/realtime_state.h"
#include "recall/snapshot.h"
#include "store/snapshot_files.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

// The metric's value for one K from finished metrics.
double MetricValue(const RankingMetrics& m, const MetricSpec& spec) {
  const std::map<int, double>& values = spec.name == "hr"     ? m.hr
                                        : spec.name == "ndcg" ? m.ndcg
                                                              : m.recall;
  auto it = values.find(spec.k);
  return it == values.end() ? 0.0 : it->second;
}

// The files `recallctl train` writes for `space`.
std::vector<std::string> VectorFilesOf(const std::string& space) {
  if (space == "tag2vec") return {"tags.vec"};
  if (space == "media2vec") return {"media.vec"};
  if (space == "mf") return {"mf.item.vec", "mf.user.vec"};
  return {space + ".item.vec"};
}

// The spaces of `want` that TRAIN_WORLD has trained vectors for.
std::vector<std::string> TrainedSpacesIn(const std::string& world,
                                         const std::vector<std::string>& want) {
  std::vector<std::string> spaces;
  for (const std::string& space : want) {
    if (fs::exists(fs::path(world) / "vectors" / VectorFilesOf(space)[0]))
      spaces.push_back(space);
  }
  return spaces;
}

// Scores policies on one snapshot over the validation users.
class PolicyEvaluator {
 public:
  // `live` and `realtime` (may be null) are what the engines read beside
  // the snapshot.
  PolicyEvaluator(
      std::shared_ptr<const Snapshot> snapshot, const LiveItems* live,
      const RealtimeState* realtime,
      std::vector<std::pair<std::string, std::vector<std::string>>> users,
      MetricSpec metric, int threads)
      : snapshot_(std::move(snapshot)),
        live_(live),
        realtime_(realtime),
        users_(std::move(users)),
        metric_(std::move(metric)),
        threads_(threads > 0 ? threads
                             : static_cast<int>(std::max(
                                   1u, std::thread::hardware_concurrency()))) {}

  // The metric of the merged answer; -1 when the policy does not build.
  double Score(const v1::Policy& policy) const {
    EngineOptions options;
    options.policy = policy;
    options.live = live_;
    options.realtime = realtime_;
    absl::StatusOr<std::unique_ptr<RecallEngine>> engine =
        RecallEngine::Create(snapshot_, options);
    if (!engine.ok()) return -1;
    MetricsAccumulator metrics({metric_.k}, snapshot_->items().size());
    absl::Mutex mu;
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads_; ++t) {
      pool.emplace_back([&] {
        RecallAnswer answer;
        RecallQuery query;
        query.k = metric_.k;
        std::vector<std::string> ranked;
        for (size_t i; (i = next++) < users_.size();) {
          query.user_id = users_[i].first;
          ranked.clear();
          if ((*engine)->Recall(query, &answer).ok()) {
            for (const RecalledCandidate& c : answer.items)
              ranked.push_back(c.item->id);
          }
          absl::MutexLock lock(&mu);
          metrics.Add(ranked, users_[i].second);
        }
      });
    }
    for (std::thread& t : pool) t.join();
    return MetricValue(metrics.Finish(), metric_);
  }

 private:
  std::shared_ptr<const Snapshot> snapshot_;
  const LiveItems* live_;
  const RealtimeState* realtime_;
  std::vector<std::pair<std::string, std::vector<std::string>>> users_;
  MetricSpec metric_;
  int threads_;
};

// The validation split's world and what serves beside its snapshot.
struct Validation {
  std::string world;  // the validation snapshot's training world
  std::string judge;  // the held-out clicks
  // Split "time": the items published after the snapshot's cut-off, and
  // the clicks between it and the judged period (the streams' share).
  std::vector<std::string> new_item_dirs;
  std::string stream_clicks;
  int64_t cutoff_unix = 0;
  int64_t judged_from_unix = 0;
};

// Runs one SplitWorld, the error naming the stage.
absl::Status SplitStage(const std::string& world, const std::string& out,
                        const std::string& test, const SplitOptions& options) {
  absl::StatusOr<SplitReport> report = SplitWorld(world, out, test, options);
  if (!report.ok()) {
    return absl::Status(
        report.status().code(),
        absl::StrCat("tune: split: ", report.status().message()));
  }
  fprintf(stderr, "tune: validation split: %s", report->ToText().c_str());
  return absl::OkStatus();
}

// The click times of `world`, sorted.
absl::StatusOr<std::vector<int64_t>> ClickTimes(const std::string& world) {
  const std::string path = (fs::path(world) / "clicks.tsv").string();
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  std::vector<int64_t> times;
  RETURN_IF_ERROR(ReadClickRows(in, path,
                                [&times](absl::string_view, absl::string_view,
                                         int64_t ts) { times.push_back(ts); })
                      .status());
  if (times.empty())
    return absl::InvalidArgumentError(absl::StrCat(path, ": no clicks"));
  std::sort(times.begin(), times.end());
  return times;
}

// TuneOptions::split "last": each user's newest last_n clicks held out.
// "time": the clicks in time order, the newest time_fraction judged, the
// time_fraction before them replayed as the click stream, the rest and the
// items published before them the snapshot's, the items published since
// live, as a server following both streams serves.
absl::StatusOr<Validation> SplitForValidation(const TuneOptions& options,
                                              const fs::path& work) {
  Validation v;
  v.world = (work / "val_train").string();
  v.judge = (work / "val_test.tsv").string();
  if (options.split == "last") {
    SplitOptions split;
    split.last_n = options.last_n;
    RETURN_IF_ERROR(SplitStage(options.input, v.world, v.judge, split));
    return v;
  }
  if (options.split != "time" ||
      !(options.time_fraction > 0 && options.time_fraction < 0.5)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tune: --split wants last or time (time with 0 < --time_fraction < "
        "0.5), got \"",
        options.split, "\" and ", options.time_fraction));
  }
  ASSIGN_OR_RETURN(const std::vector<int64_t> times, ClickTimes(options.input));
  auto quantile = [&times](double q) {
    return times[std::min(times.size() - 1,
                          static_cast<size_t>(times.size() * q))];
  };
  v.judged_from_unix = quantile(1 - options.time_fraction);
  v.cutoff_unix = quantile(1 - 2 * options.time_fraction);
  v.stream_clicks = (work / "val_stream.tsv").string();
  v.new_item_dirs = {(work / "new_early").string(),
                     (work / "new_late").string()};
  SplitOptions judged;
  judged.cutoff_unix = v.judged_from_unix;
  judged.new_items_dir = v.new_item_dirs[1];
  const std::string before = (work / "val_before_judged").string();
  RETURN_IF_ERROR(SplitStage(options.input, before, v.judge, judged));
  SplitOptions snapshot;
  snapshot.cutoff_unix = v.cutoff_unix;
  snapshot.new_items_dir = v.new_item_dirs[0];
  RETURN_IF_ERROR(SplitStage(before, v.world, v.stream_clicks, snapshot));
  return v;
}

// Folds `path`'s clicks into `realtime` as a caught-up click stream would.
absl::Status ReplayClicks(const std::string& path, RealtimeState* realtime) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  RETURN_IF_ERROR(
      ReadClickRows(in, path,
                    [realtime](absl::string_view user, absl::string_view item,
                               int64_t ts) {
                      realtime->Add({std::string(user), std::string(item), ts});
                    })
          .status());
  realtime->Publish();
  realtime->SetLive(true, "");
  return absl::OkStatus();
}

// Applies the items of `dir` (SplitForValidation's new items) to `live` as
// upserts arriving after the snapshot was built, with the vectors of
// `live_spaces`, else of the spaces not in `retrained` (a producer computes
// content vectors, not those learnt from clicks). The number of items.
absl::StatusOr<int64_t> ApplyNewItems(
    const std::string& dir, const std::vector<std::string>& live_spaces,
    const std::vector<std::string>& retrained, const Snapshot& snapshot,
    LiveItems* live) {
  const fs::path items = fs::path(dir) / "items.tsv";
  if (!fs::exists(items)) return 0;
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t suffix = name.rfind(".item.vec");
    if (suffix == std::string::npos || suffix + 9 != name.size()) continue;
    const std::string space = name.substr(0, suffix);
    auto listed = [&space](const std::vector<std::string>& spaces) {
      return std::find(spaces.begin(), spaces.end(), space) != spaces.end();
    };
    if (live_spaces.empty() ? listed(retrained) : !listed(live_spaces))
      continue;
    files.emplace_back(space, entry.path().string());
  }
  ASSIGN_OR_RETURN(std::vector<ItemEvent> events,
                   ReadItemUpserts(items.string(), files));
  for (ItemEvent& event : events) {
    event.stream_ms = (snapshot.manifest().created_at_unix() + 1) * 1000;
    const ApplyResult result = live->Apply(event);
    if (result.outcome == ApplyResult::Outcome::kRefused) return result.problem;
  }
  live->Publish();
  return static_cast<int64_t>(events.size());
}

// Removes Tune's scratch folder `dir` on the way out when `active` (when
// Tune made it).
struct ScratchCleanup {
  fs::path dir;
  bool active;
  ~ScratchCleanup() {
    std::error_code ignored;
    if (active) fs::remove_all(dir, ignored);
  }
};

// Retrains the spaces TRAIN_WORLD has vectors for (of options.train.spaces)
// on the clicks of the validation world `world`, one space at a time. A
// space that cannot be learnt from the smaller validation world is left out
// (its vectors, learnt from every click, would flatter it). Returns every
// space learnt from clicks, retrained or left out: the live items never take
// their vectors from a producer.
std::vector<std::string> RetrainSpaces(const TuneOptions& options,
                                       const std::string& world) {
  TrainOptions train = options.train;
  train.world = world;
  const std::vector<std::string> learnt =
      TrainedSpacesIn(options.input, options.train.spaces);
  for (const std::string& space : learnt) {
    train.spaces = {space};
    absl::StatusOr<TrainReport> trained = TrainSpaces(train);
    if (trained.ok()) {
      fprintf(stderr, "tune: retrained %s on the validation world\n",
              space.c_str());
      continue;
    }
    fprintf(stderr, "tune: %s left out of validation (%s)\n", space.c_str(),
            std::string(trained.status().message()).c_str());
    std::error_code ec;
    for (const std::string& spaces_file : VectorFilesOf(space)) {
      fs::remove(fs::path(world) / "vectors" / spaces_file, ec);
    }
  }
  return learnt;
}

// Builds the validation world `world` into version "validation" under
// `root`, with the start policy and without pruning old versions.
absl::StatusOr<v1::Manifest> BuildValidationSnapshot(const TuneOptions& options,
                                                     const std::string& world,
                                                     const std::string& root) {
  BuildOptions build = options.build;
  build.input_dir = world;
  build.out_root = root;
  build.policy_file = options.start_policy;
  build.version = "validation";
  build.keep_versions = 0;
  absl::StatusOr<v1::Manifest> manifest = BuildSnapshot(build);
  if (!manifest.ok()) {
    return absl::Status(
        manifest.status().code(),
        absl::StrCat("tune: build: ", manifest.status().message()));
  }
  return manifest;
}

// Split "time": what was published after the cut-off is live, and the
// clicks before the judged period came on the click stream. Binds
// `realtime` to `snapshot` (`live` is already bound), applies `validation`'s
// new items (see ApplyNewItems for `live_spaces` and `retrained`) and
// replays its stream clicks. The number of live items applied.
absl::StatusOr<int64_t> CatchUpStreams(
    const Validation& validation, const std::vector<std::string>& live_spaces,
    const std::vector<std::string>& retrained,
    const std::shared_ptr<const Snapshot>& snapshot, LiveItems* live,
    RealtimeState* realtime) {
  realtime->SetSnapshot(snapshot);
  int64_t live_items = 0;
  for (const std::string& dir : validation.new_item_dirs) {
    ASSIGN_OR_RETURN(
        const int64_t applied,
        ApplyNewItems(dir, live_spaces, retrained, *snapshot, live));
    live_items += applied;
  }
  if (!validation.stream_clicks.empty())
    RETURN_IF_ERROR(ReplayClicks(validation.stream_clicks, realtime));
  return live_items;
}

// The validation users of the held-out clicks in `judge`, each with its
// held-out items: a deterministic sample of `max_users` when there are more
// (0: all).
absl::StatusOr<std::vector<std::pair<std::string, std::vector<std::string>>>>
ValidationUsers(const std::string& judge, int max_users) {
  ASSIGN_OR_RETURN(auto test_clicks, ReadTestClicks(judge));
  std::vector<std::pair<std::string, std::vector<std::string>>> users(
      test_clicks.begin(), test_clicks.end());
  if (max_users > 0 && users.size() > static_cast<size_t>(max_users)) {
    std::vector<std::pair<std::string, std::vector<std::string>>> sample;
    const double step = static_cast<double>(users.size()) / max_users;
    for (int i = 0; i < max_users; ++i)
      sample.push_back(std::move(users[static_cast<size_t>(i * step)]));
    users = std::move(sample);
  }
  return users;
}

// The policy file: comments with the search's figures, then the fitted
// policy in text format.
std::string PolicyFileText(const TuneOptions& options,
                           const TuneReport& report) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(report.search.policy, &text);
  const WeightSearchResult& r = report.search;
  const std::string metric_name =
      absl::StrCat(report.metric.name, "@", report.metric.k);
  const std::string held_out =
      options.split == "time"
          ? absl::StrFormat(
                "a snapshot of the clicks before %s, the clicks from then "
                "to %s on the click stream, every click after held out (the "
                "newest %.0f%%), the %d items published since the snapshot "
                "served as live items",
                absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                 absl::FromUnixSeconds(report.cutoff_unix),
                                 absl::UTCTimeZone()),
                absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                 absl::FromUnixSeconds(report.judged_from_unix),
                                 absl::UTCTimeZone()),
                100 * options.time_fraction, report.live_items)
          : absl::StrFormat("each training user's newest %d clicks held out",
                            options.last_n);
  std::string out = absl::StrFormat(
      "# Fitted by `recallctl tune --input %s --metric %s --split %s` on "
      "%s.\n"
      "# Validation: %s (%d users scored), learned spaces retrained without "
      "them.\n"
      "# Validation %s: start policy %.4f, best channel alone (%s) %.4f, "
      "this policy %.4f (%d evaluations).\n",
      options.input, metric_name, options.split,
      absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone()), held_out,
      report.validation_users, metric_name, r.start_score, r.best_single,
      r.best_single_score, r.score, r.evaluations);
  out += "# Validation " + metric_name + " of each channel alone:";
  for (const auto& [name, value] : r.singles)
    absl::StrAppendFormat(&out, " %s %.4f,", name, value);
  out.back() = '\n';
  out += text;
  return out;
}

// Writes `text` to `path`.
absl::Status WritePolicyFile(const std::string& path, const std::string& text) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr || fwrite(text.data(), 1, text.size(), f) != text.size() ||
      fclose(f) != 0) {
    return absl::InternalError(absl::StrCat("tune: cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MetricSpec> ParseMetric(const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  const size_t at = lower.find('@');
  MetricSpec spec;
  if (at != std::string::npos) spec.name = lower.substr(0, at);
  if (at == std::string::npos ||
      (spec.name != "recall" && spec.name != "hr" && spec.name != "ndcg") ||
      !absl::SimpleAtoi(lower.substr(at + 1), &spec.k) || spec.k < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric: want recall@K, hr@K or ndcg@K (K >= 1), got \"", text, "\""));
  }
  return spec;
}

absl::StatusOr<TuneReport> Tune(const TuneOptions& options) {
  if (options.input.empty() || options.out_policy.empty()) {
    return absl::InvalidArgumentError("tune: --input and --out are required");
  }
  TuneReport report;
  ASSIGN_OR_RETURN(report.metric, ParseMetric(options.metric));
  const bool own_work_dir = options.work_dir.empty();
  const fs::path work = own_work_dir
                            ? fs::temp_directory_path() /
                                  absl::StrCat("recall-tune-", getpid(), "-",
                                               absl::ToUnixMicros(absl::Now()))
                            : fs::path(options.work_dir);
  std::error_code ec;
  fs::create_directories(work, ec);
  const ScratchCleanup cleanup{work, own_work_dir};

  // Validation split.
  ASSIGN_OR_RETURN(const Validation validation,
                   SplitForValidation(options, work));
  report.cutoff_unix = validation.cutoff_unix;
  report.judged_from_unix = validation.judged_from_unix;

  // Retrain the learned spaces on the validation world's clicks.
  const std::vector<std::string> learnt_from_clicks =
      RetrainSpaces(options, validation.world);

  // Build, and serve the snapshot as the servers would.
  const std::string root = (work / "root").string();
  ASSIGN_OR_RETURN(const v1::Manifest manifest,
                   BuildValidationSnapshot(options, validation.world, root));
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                   Snapshot::Load(root, "validation"));
  LiveItems live(LiveItemsOptions{});
  RETURN_IF_ERROR(live.SetSnapshot(snapshot));
  RealtimeState realtime(options.realtime, &live);
  ASSIGN_OR_RETURN(
      report.live_items,
      CatchUpStreams(validation, options.live_spaces, learnt_from_clicks,
                     snapshot, &live, &realtime));

  // Validation users: a deterministic sample.
  ASSIGN_OR_RETURN(auto users,
                   ValidationUsers(validation.judge, options.max_users));
  report.validation_users = static_cast<int64_t>(users.size());
  if (users.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tune: ", options.input,
                     ": no user has a click to hold out for validation"));
  }
  PolicyEvaluator evaluator(snapshot, &live,
                            options.split == "time" ? &realtime : nullptr,
                            std::move(users), report.metric, options.threads);
  const v1::Policy start = manifest.policy();
  report.search = SearchWeights(
      start, [&](const v1::Policy& p) { return evaluator.Score(p); },
      options.search);

  report.policy_text = PolicyFileText(options, report);
  RETURN_IF_ERROR(WritePolicyFile(options.out_policy, report.policy_text));
  return report;
}

}  // namespace recall
