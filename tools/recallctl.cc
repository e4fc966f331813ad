// recallctl: the offline and debugging commands of the recall service.
//
//   recallctl gen   --out DIR [--items N --users N --dim D --seed S]
//   recallctl build --input DIR --out ROOT [--index FACTORY ...]
//   recallctl publish --out ROOT --version V     (rollback to a kept version)
//   recallctl bench --target HOST:PORT --users FILE [--concurrency C
//                   --duration S --k K --json]
//   recallctl query --target HOST:PORT --user ID [--k K --seeds A,B --json]
//   recallctl health --target HOST:PORT [--service NAME --wait S]
//   recallctl bench --snapshot ROOT --users FILE [--mode engine|search] ...
//                   (in process: the same work without gRPC)
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "index/index_handle.h"
#include "recall/engine.h"
#include "recall/snapshot.h"
#include "recall/v1/recall.grpc.pb.h"
#include "store/snapshot_files.h"
#include "tools/bench.h"
#include "tools/builder.h"
#include "tools/eval.h"
#include "tools/gen_world.h"
#include "tools/importers.h"
#include "tools/split.h"
#include "tools/trainer.h"
#include "tools/tune.h"

// Flags shared by several commands.
ABSL_FLAG(std::string, out, "",
          "gen: world directory to write; build: snapshot root");
ABSL_FLAG(std::string, input, "", "build: world directory to read");
// gen
ABSL_FLAG(int64_t, items, 100000, "gen: number of items");
// gen takes a count, bench a file: one flag, read per command.
ABSL_FLAG(std::string, users, "",
          "gen: number of users (default 100000); bench: file with one user id "
          "per line");
ABSL_FLAG(int, dim, 64, "gen: vector dimension");
ABSL_FLAG(uint64_t, seed, 42, "gen: random seed (same seed, same files)");
ABSL_FLAG(int, clicks_per_user, 30, "gen: mean clicks per user");
// build
ABSL_FLAG(std::string, index, "HNSW32",
          "build: Faiss index_factory string (HNSW32, Flat, IVF1024,Flat, "
          "IVF1024,PQ16, SQ8)");
ABSL_FLAG(std::vector<std::string>, space_index, {},
          "build: per-space factories overriding --index, e.g. "
          "mf=Flat,item2vec=HNSW32");
ABSL_FLAG(int, ef_construction, 80, "build: HNSW construction depth");
ABSL_FLAG(int, ef_search, 128,
          "build: default HNSW efSearch recorded in the MANIFEST");
ABSL_FLAG(int, nprobe, 32,
          "build: default IVF nprobe recorded in the MANIFEST");
ABSL_FLAG(int, recent_clicks, 100, "build: newest clicks kept per user");
ABSL_FLAG(std::string, version, "",
          "build: version name (default: UTC timestamp); publish: the version "
          "to point CURRENT at");
ABSL_FLAG(std::string, policy, "",
          "build: text-format recall.v1.Policy file (default: derived from the "
          "spaces)");
ABSL_FLAG(std::string, tag2vec_combine, "sum",
          "build: an article's tag2vec vector from its top tags: sum, "
          "weighted, mean, max");
ABSL_FLAG(
    int, keep_versions, 3,
    "build: keep this many newest versions, delete older ones (0: keep all)");
ABSL_FLAG(int, seen_items, 200, "build: clicked items kept per user as seen");
ABSL_FLAG(std::string, itemcf, "auto",
          "build: item-CF neighbour lists from clicks: auto (EASE up to "
          "--ease_max_items clicked items, else cosine), ease, cosine, none");
ABSL_FLAG(std::string, metric, "recall@100",
          "tune: the validation metric to maximise (recall@K, hr@K, ndcg@K)");
ABSL_FLAG(double, max_seconds, 600, "tune: time budget of the search");
ABSL_FLAG(bool, progress, false,
          "tune: progress lines even when stderr is not a terminal");
ABSL_FLAG(int, itemcf_neighbors, 200, "build: item-CF neighbours per item");
ABSL_FLAG(double, ease_lambda, 300, "build: EASE's L2 penalty");
ABSL_FLAG(int, ease_max_items, 12000,
          "build: most clicked items for EASE (n^2 floats of memory)");
ABSL_FLAG(double, hot_half_life_hours, 24,
          "build: half-life of a click's weight in the hot lists");
ABSL_FLAG(
    std::string, clusters, "",
    "build: text-format recall.v1.ClusteringConfig file (user clusterings)");
// train
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
ABSL_FLAG(int, threads, 2, "train: fastText threads");
ABSL_FLAG(double, session_gap_hours, 2,
          "train: a longer pause starts a new session");
ABSL_FLAG(std::string, item2vec_trainer, "fasttext",
          "train: fasttext (negatives ~ count^0.5) or sgns (negatives ~ "
          "count^negative_power)");
ABSL_FLAG(double, negative_power, 0.75,
          "train --item2vec_trainer sgns: negatives ~ count^P");
ABSL_FLAG(double, subsample, 1e-4,
          "train: subsampling threshold of frequent tokens");
// import, split
ABSL_FLAG(double, min_rating, 4.0,
          "import movielens: ratings at or above this are clicks");
ABSL_FLAG(std::string, test, "", "split: the TEST.tsv to write");
ABSL_FLAG(int, last_n, 0, "split: per user, the last N clicks are test clicks");
ABSL_FLAG(double, last_fraction, 0,
          "split: per user, the last fraction of clicks");
ABSL_FLAG(int64_t, cutoff, 0,
          "split: clicks at or after this unix time are test clicks");
// eval
ABSL_FLAG(std::string, train, "",
          "eval: TRAIN_WORLD for the popularity and item-kNN baselines");
ABSL_FLAG(bool, per_channel, true, "eval: also evaluate each channel alone");
ABSL_FLAG(bool, extra_spaces, true,
          "gen: also write item2vec, title2vec, tag and media vectors");
// bench
ABSL_FLAG(std::string, target, "",
          "bench: HOST:PORT of a recall server (RPC mode)");
ABSL_FLAG(std::string, snapshot, "",
          "bench: snapshot root to load in process (no gRPC)");
ABSL_FLAG(
    std::string, mode, "engine",
    "bench in process: engine (the server's whole Recall path) or search (user "
    "vector read + one Faiss search in --space)");
ABSL_FLAG(std::string, space, "dssm",
          "bench --mode search: the space to search");
ABSL_FLAG(int, concurrency, 8,
          "bench: requests in flight (RPC) or threads (in process)");
ABSL_FLAG(double, duration, 10, "bench: measured window, seconds");
ABSL_FLAG(double, warmup, 1, "bench: unmeasured warm-up, seconds");
ABSL_FLAG(std::vector<std::string>, k, {},
          "bench, query: candidates per request (default 100); eval: the "
          "cut-offs K of the "
          "metrics, comma-separated (default 10,50,100,500)");
ABSL_FLAG(double, rate, 0, "bench RPC: open-loop requests/s (0: closed loop)");
ABSL_FLAG(double, deadline_ms, 500,
          "bench RPC: per-request deadline, milliseconds");
ABSL_FLAG(bool, json, false, "bench, query: print JSON instead of text");
// query
ABSL_FLAG(std::string, user, "", "query: user id");
ABSL_FLAG(std::vector<std::string>, seeds, {},
          "query: comma-separated seed item ids");
ABSL_FLAG(std::vector<std::string>, exclude, {},
          "query: comma-separated item ids to exclude");
ABSL_FLAG(double, wait, 0,
          "query, health: keep retrying this many seconds while the server is "
          "unavailable (health: until SERVING)");
ABSL_FLAG(std::vector<std::string>, channels, {},
          "query: run only these channels (comma-separated names), without "
          "back-fill");
ABSL_FLAG(
    bool, similar, false,
    "query: call SimilarItems for --seeds (in --spaces) instead of Recall");
ABSL_FLAG(std::vector<std::string>, spaces, {},
          "query --similar: spaces to search");
ABSL_FLAG(std::string, service, "",
          "health: the service to ask about (\"\": the whole server)");

namespace recall {
namespace {

constexpr char kUsage[] =
    "recallctl COMMAND [flags]\n"
    "  gen    --out DIR [--items N --users N --dim D --seed S]   synthetic "
    "news world\n"
    "  import movielens|mind --input SRC_DIR --out WORLD [--min-rating 4]\n"
    "  split  --input WORLD --out TRAIN_WORLD --test TEST.tsv (--last-n N | "
    "--last-fraction F |"
    " --cutoff UNIX_TS)\n"
    "  eval   --target HOST:PORT --test TEST.tsv [--k 10,50,100,500 --train "
    "TRAIN_WORLD --json]\n"
    "  train  --input WORLD [--train_spaces "
    "item2vec,media2vec,tag2vec,title2vec,mf --dim D]\n"
    "  tune   --input TRAIN_WORLD --out POLICY.textproto [--metric recall@100 "
    "--policy START --clusters FILE]\n"
    "  build  --input DIR --out ROOT [--index FACTORY]          build + "
    "publish a snapshot\n"
    "  publish --out ROOT --version V                           verify V, "
    "point CURRENT at it (rollback)\n"
    "  bench  --target HOST:PORT --users FILE [--concurrency C --duration S "
    "--k K --json]\n"
    "  bench  --snapshot ROOT --users FILE [--mode engine|search ...]  in "
    "process, no gRPC\n"
    "  query  --target HOST:PORT (--user ID | --seeds ID,ID) [--k K --exclude "
    "ID,ID --json]\n"
    "  health --target HOST:PORT [--service NAME --wait S]      exit 0 when "
    "SERVING\n"
    "Run `recallctl --helpfull` for every flag.";

// --k for the commands that take one value (default 100); 0 when it does not
// parse, which the server refuses with a clear INVALID_ARGUMENT.
int K() {
  const std::vector<std::string> k = absl::GetFlag(FLAGS_k);
  int value = 100;
  if (!k.empty() && !absl::SimpleAtoi(k[0], &value)) return 0;
  return value;
}

int Fail(const absl::Status& status) {
  fprintf(stderr, "recallctl: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int Gen() {
  GenWorldOptions options;
  options.items = absl::GetFlag(FLAGS_items);
  const std::string users = absl::GetFlag(FLAGS_users);
  if (!users.empty() && !absl::SimpleAtoi(users, &options.users)) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        "gen: --users wants a number of users, got \"", users, "\"")));
  }
  options.dim = absl::GetFlag(FLAGS_dim);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.mean_clicks_per_user = absl::GetFlag(FLAGS_clicks_per_user);
  options.extra_spaces = absl::GetFlag(FLAGS_extra_spaces);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty())
    return Fail(absl::InvalidArgumentError("gen: --out is required"));
  const absl::Time start = absl::Now();
  if (absl::Status s = GenerateWorld(options, out); !s.ok()) return Fail(s);
  printf("gen: wrote %lld items, %lld users to %s in %.1f s\n",
         static_cast<long long>(options.items),
         static_cast<long long>(options.users), out.c_str(),
         absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

// The build flags (shared by build and tune).
BuildOptions BuildOptionsFromFlags() {
  BuildOptions options;
  options.input_dir = absl::GetFlag(FLAGS_input);
  options.out_root = absl::GetFlag(FLAGS_out);
  options.factory = absl::GetFlag(FLAGS_index);
  for (const std::string& entry : absl::GetFlag(FLAGS_space_index)) {
    // An entry without '=' reaches the builder as SPACE -> "" and is refused.
    const size_t eq = entry.find('=');
    options.space_factory[entry.substr(0, eq)] =
        eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  options.ef_construction = absl::GetFlag(FLAGS_ef_construction);
  options.ef_search = absl::GetFlag(FLAGS_ef_search);
  options.nprobe = absl::GetFlag(FLAGS_nprobe);
  options.recent_clicks = absl::GetFlag(FLAGS_recent_clicks);
  options.version = absl::GetFlag(FLAGS_version);
  options.policy_file = absl::GetFlag(FLAGS_policy);
  options.tag2vec_combine = absl::GetFlag(FLAGS_tag2vec_combine);
  options.seen_items = absl::GetFlag(FLAGS_seen_items);
  options.clusters_file = absl::GetFlag(FLAGS_clusters);
  options.keep_versions = absl::GetFlag(FLAGS_keep_versions);
  options.itemcf.method = absl::GetFlag(FLAGS_itemcf);
  options.itemcf.top_n = absl::GetFlag(FLAGS_itemcf_neighbors);
  options.itemcf.ease_lambda = absl::GetFlag(FLAGS_ease_lambda);
  options.itemcf.ease_max_items = absl::GetFlag(FLAGS_ease_max_items);
  options.hot_half_life_hours = absl::GetFlag(FLAGS_hot_half_life_hours);
  return options;
}

int Build() {
  BuildOptions options = BuildOptionsFromFlags();
  if (options.input_dir.empty() || options.out_root.empty()) {
    return Fail(
        absl::InvalidArgumentError("build: --input and --out are required"));
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::Manifest> manifest = BuildSnapshot(options);
  if (!manifest.ok()) return Fail(manifest.status());
  printf(
      "build: published %s/%s (%lld items, %d spaces, %lld users) in %.1f s\n",
      options.out_root.c_str(), manifest->version().c_str(),
      static_cast<long long>(manifest->items().count()),
      manifest->spaces_size(),
      static_cast<long long>(manifest->store().user_count()),
      absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

// Points CURRENT at an existing, verified version (rollback).
int Publish() {
  const std::string root = absl::GetFlag(FLAGS_out);
  const std::string version = absl::GetFlag(FLAGS_version);
  if (root.empty() || version.empty()) {
    return Fail(absl::InvalidArgumentError(
        "publish: --out ROOT and --version V are required"));
  }
  if (absl::Status status = PublishVersion(root, version); !status.ok())
    return Fail(status);
  printf("publish: %s/CURRENT -> %s\n", root.c_str(), version.c_str());
  return 0;
}

// The in-process workload: what the server does per request, minus gRPC.
// Where the engine's time goes, summed over in-process requests (warm-up
// included): per channel, and the rest (user read, merge, weighting, sort).
class EngineTimes {
 public:
  void Add(const RecallAnswer& answer) {
    absl::MutexLock lock(&mu_);
    ++requests_;
    total_us_ += answer.total_us;
    for (const ChannelReport& c : answer.channels)
      channel_us_[*c.channel] += c.latency_us;
  }

  // Per request means, and the share outside the channels.
  std::string ToText() const {
    absl::MutexLock lock(&mu_);
    if (requests_ == 0) return "";
    int64_t in_channels = 0;
    std::string out;
    for (const auto& [name, us] : channel_us_) {
      in_channels += us;
      absl::StrAppendFormat(&out, "  engine channel %-16s mean %8.1f us\n",
                            name, static_cast<double>(us) / requests_);
    }
    const double total = static_cast<double>(total_us_) / requests_;
    const double other =
        static_cast<double>(total_us_ - in_channels) / requests_;
    absl::StrAppendFormat(
        &out,
        "  engine total mean %.1f us; outside channels (user read, merge, "
        "weighting, sort) %.1f us = %.1f%%\n",
        total, other, total > 0 ? 100.0 * other / total : 0.0);
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  int64_t requests_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t total_us_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int64_t> channel_us_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::function<absl::Status(int64_t)>> InProcessWork(
    std::shared_ptr<const RecallEngine> engine,
    const std::vector<std::string>& users, int k, const std::string& mode,
    const std::string& space_name, EngineTimes* times) {
  if (mode == "engine") {
    return [engine, &users, k, times](int64_t i) {
      thread_local RecallAnswer answer;
      RecallQuery query;
      query.user_id = users[i % users.size()];
      query.k = k;
      absl::Status status = engine->Recall(query, &answer);
      if (status.ok()) times->Add(answer);
      return status;
    };
  }
  if (mode == "search") {
    const Space* space = engine->snapshot().FindSpace(space_name);
    if (space == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--space: no space \"", space_name, "\""));
    }
    const SearchParams params{.ef_search = space->manifest.ef_search(),
                              .nprobe = space->manifest.nprobe()};
    return [engine, space, params, &users, k,
            space_name](int64_t i) -> absl::Status {
      thread_local v1::UserRecord user;
      thread_local std::vector<Neighbor> neighbors;
      absl::StatusOr<bool> found =
          engine->snapshot().users().Get(users[i % users.size()], &user);
      if (!found.ok()) return found.status();
      for (const v1::UserVector& v : user.vectors()) {
        if (v.space() == space_name) {
          return space->index->Search(v.values().data(), k, params, &neighbors);
        }
      }
      return absl::NotFoundError("user has no vector in the space");
    };
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--mode: want engine or search, got ", mode));
}

int Bench() {
  const std::string users_file = absl::GetFlag(FLAGS_users);
  if (users_file.empty())
    return Fail(absl::InvalidArgumentError("bench: --users FILE is required"));
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_duration));
  const absl::Duration warmup = absl::Seconds(absl::GetFlag(FLAGS_warmup));
  absl::StatusOr<std::vector<std::string>> users = ReadUserIds(users_file);
  if (!users.ok()) return Fail(users.status());

  absl::StatusOr<BenchReport> report;
  EngineTimes engine_times;
  if (!absl::GetFlag(FLAGS_target).empty()) {
    BenchOptions options;
    options.target = absl::GetFlag(FLAGS_target);
    options.user_ids = *users;
    options.concurrency = absl::GetFlag(FLAGS_concurrency);
    options.duration = duration;
    options.warmup = warmup;
    options.k = K();
    options.rate = absl::GetFlag(FLAGS_rate);
    options.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
    options.channels = absl::GetFlag(FLAGS_channels);
    report = RunRpcBench(options);
  } else if (!absl::GetFlag(FLAGS_snapshot).empty()) {
    const std::string root = absl::GetFlag(FLAGS_snapshot);
    absl::StatusOr<std::string> version = ReadCurrent(root);
    if (!version.ok()) return Fail(version.status());
    absl::StatusOr<std::shared_ptr<const Snapshot>> snapshot =
        Snapshot::Load(root, *version);
    if (!snapshot.ok()) return Fail(snapshot.status());
    RegisterBuiltinChannels();
    absl::StatusOr<std::unique_ptr<RecallEngine>> engine =
        RecallEngine::Create(*snapshot, {});
    if (!engine.ok()) return Fail(engine.status());
    auto work = InProcessWork(std::move(*engine), *users, K(),
                              absl::GetFlag(FLAGS_mode),
                              absl::GetFlag(FLAGS_space), &engine_times);
    if (!work.ok()) return Fail(work.status());
    report = RunInProcessBench(absl::GetFlag(FLAGS_concurrency), duration,
                               warmup, *work);
  } else {
    return Fail(absl::InvalidArgumentError(
        "bench: give --target HOST:PORT or --snapshot ROOT"));
  }
  if (!report.ok()) return Fail(report.status());
  if (absl::GetFlag(FLAGS_json)) {
    printf("%s\n", report->ToJson().c_str());
  } else {
    printf("%s%s", report->ToText().c_str(), engine_times.ToText().c_str());
  }
  return 0;
}

// The train flags (shared by train and tune).
TrainOptions TrainOptionsFromFlags() {
  TrainOptions options;
  options.spaces = absl::GetFlag(FLAGS_train_spaces);
  options.dim = absl::GetFlag(FLAGS_dim);
  options.epochs = absl::GetFlag(FLAGS_epochs);
  options.window = absl::GetFlag(FLAGS_window);
  options.negatives = absl::GetFlag(FLAGS_negatives);
  options.min_count = absl::GetFlag(FLAGS_min_count);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.session_gap = absl::Hours(absl::GetFlag(FLAGS_session_gap_hours));
  options.subsample = absl::GetFlag(FLAGS_subsample);
  options.item2vec_trainer = absl::GetFlag(FLAGS_item2vec_trainer);
  options.negative_power = absl::GetFlag(FLAGS_negative_power);
  options.mf_alpha = absl::GetFlag(FLAGS_mf_alpha);
  options.mf_lambda = absl::GetFlag(FLAGS_mf_lambda);
  options.seed = static_cast<int>(absl::GetFlag(FLAGS_seed));
  return options;
}

int Train() {
  TrainOptions options = TrainOptionsFromFlags();
  options.world = absl::GetFlag(FLAGS_input);
  if (options.world.empty())
    return Fail(absl::InvalidArgumentError("train: --input is required"));
  if (options.item2vec_trainer != "fasttext" &&
      options.item2vec_trainer != "sgns") {
    return Fail(absl::InvalidArgumentError(
        "train: --item2vec_trainer wants fasttext or sgns"));
  }
  absl::StatusOr<TrainReport> report = TrainSpaces(options);
  if (!report.ok()) return Fail(report.status());
  printf("%s", report->ToText().c_str());
  return 0;
}

// recallctl tune --input TRAIN_WORLD --out POLICY [--metric recall@100]
int TuneCommand() {
  TuneOptions options;
  options.input = absl::GetFlag(FLAGS_input);
  options.out_policy = absl::GetFlag(FLAGS_out);
  options.start_policy = absl::GetFlag(FLAGS_policy);
  options.metric = absl::GetFlag(FLAGS_metric);
  options.last_n =
      absl::GetFlag(FLAGS_last_n) > 0 ? absl::GetFlag(FLAGS_last_n) : 5;
  options.build = BuildOptionsFromFlags();
  options.train = TrainOptionsFromFlags();
  options.search.max_seconds = absl::GetFlag(FLAGS_max_seconds);
  options.search.progress =
      isatty(STDERR_FILENO) || absl::GetFlag(FLAGS_progress);
  const absl::Time start = absl::Now();
  absl::StatusOr<TuneReport> report = recall::Tune(options);
  if (!report.ok()) return Fail(report.status());
  printf("%s",
         report->policy_text.substr(0, report->policy_text.find("\nchannels"))
             .c_str());
  printf("\ntune: wrote %s in %.0f s\n", options.out_policy.c_str(),
         absl::ToDoubleSeconds(absl::Now() - start));
  return 0;
}

// recallctl import movielens|mind --input SRC --out WORLD
int Import(const std::string& format) {
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

int Split() {
  SplitOptions options;
  options.last_n = absl::GetFlag(FLAGS_last_n);
  options.last_fraction = absl::GetFlag(FLAGS_last_fraction);
  options.cutoff_unix = absl::GetFlag(FLAGS_cutoff);
  absl::StatusOr<SplitReport> report =
      SplitWorld(absl::GetFlag(FLAGS_input), absl::GetFlag(FLAGS_out),
                 absl::GetFlag(FLAGS_test), options);
  if (!report.ok()) return Fail(report.status());
  printf("%s", report->ToText().c_str());
  return 0;
}

// recallctl eval --target HOST:PORT --test TEST.tsv [--k 10,50 --train WORLD
// --json]
int Eval() {
  EvalOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.test_tsv = absl::GetFlag(FLAGS_test);
  if (options.target.empty() || options.test_tsv.empty()) {
    return Fail(
        absl::InvalidArgumentError("eval: --target and --test are required"));
  }
  std::vector<std::string> ks = absl::GetFlag(FLAGS_k);
  if (ks.empty()) ks = {"10", "50", "100", "500"};
  options.ks.clear();
  for (const std::string& k : ks) {
    int value = 0;
    if (!absl::SimpleAtoi(k, &value) || value < 1) {
      return Fail(
          absl::InvalidArgumentError(absl::StrCat("eval: bad K \"", k, "\"")));
    }
    options.ks.push_back(value);
  }
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.per_channel = absl::GetFlag(FLAGS_per_channel);
  options.train_world = absl::GetFlag(FLAGS_train);
  options.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms) * 10);
  options.progress = true;
  absl::StatusOr<EvalReport> report = RunEval(options);
  if (!report.ok()) return Fail(report.status());
  printf("%s\n", absl::GetFlag(FLAGS_json) ? report->ToJson().c_str()
                                           : report->ToText().c_str());
  return 0;
}

// Calls Recall once and prints the candidates with their sources.
int Query() {
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty())
    return Fail(absl::InvalidArgumentError("query: --target is required"));
  v1::RecallRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user));
  request.set_k(K());
  for (const std::string& id : absl::GetFlag(FLAGS_seeds))
    request.add_seed_item_ids(id);
  for (const std::string& id : absl::GetFlag(FLAGS_exclude))
    request.add_exclude_item_ids(id);
  for (const std::string& name : absl::GetFlag(FLAGS_channels)) {
    request.add_channel_overrides()->set_channel(name);
    request.set_only_overridden_channels(true);
  }
  request.set_request_id("recallctl-query");
  v1::SimilarItemsRequest similar;
  *similar.mutable_item_ids() = request.seed_item_ids();
  for (const std::string& space : absl::GetFlag(FLAGS_spaces))
    similar.add_spaces(space);
  similar.set_k(request.k());
  *similar.mutable_exclude_item_ids() = request.exclude_item_ids();
  similar.set_request_id(request.request_id());
  const bool use_similar = absl::GetFlag(FLAGS_similar);

  auto stub = v1::RecallService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  const absl::Time give_up =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait));
  v1::RecallResponse response;
  grpc::Status status;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    context.set_wait_for_ready(absl::GetFlag(FLAGS_wait) > 0);
    status = use_similar ? stub->SimilarItems(&context, similar, &response)
                         : stub->Recall(&context, request, &response);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        absl::Now() >= give_up)
      break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  if (!status.ok()) {
    fprintf(stderr, "recallctl: %s failed: %d %s\n",
            use_similar ? "SimilarItems" : "Recall", status.error_code(),
            status.error_message().c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(response, &json, options);
    printf("%s", json.c_str());
    return 0;
  }
  printf("snapshot %s  user_found=%s  partial=%s  items=%d\n",
         response.snapshot_version().c_str(),
         response.user_found() ? "true" : "false",
         response.partial() ? "true" : "false", response.items_size());
  printf("  %-5s %-20s %8s  %s\n", "rank", "item_id", "score",
         "sources (channel similarity #rank via)");
  for (int i = 0; i < response.items_size(); ++i) {
    const v1::RecalledItem& item = response.items(i);
    std::string sources;
    for (const v1::Source& s : item.sources()) {
      absl::StrAppend(&sources, sources.empty() ? "" : "; ", s.channel(), " ",
                      absl::StrFormat("%.3f", s.similarity()), " #", s.rank(),
                      s.via().empty() ? "" : " via " + s.via());
    }
    printf("  %-5d %-20s %8.4f  %s\n", i, item.item_id().c_str(), item.score(),
           sources.c_str());
  }
  printf("  %-16s %6s %6s %8s %8s %9s %10s  %s\n", "channel", "found", "kept",
         "dropped", "excluded", "truncated", "latency_us", "status");
  for (const v1::ChannelStats& c : response.channel_stats()) {
    printf("  %-16s %6d %6d %8d %8d %9d %10lld  %s\n", c.channel().c_str(),
           c.found(), c.kept(), c.dropped_by_threshold(), c.excluded(),
           c.truncated(), static_cast<long long>(c.latency_us()),
           c.status().c_str());
  }
  printf("  merged beyond k: %d, back-filled: %d\n", response.truncated(),
         response.backfilled());
  return 0;
}

// Asks grpc.health.v1.Health/Check and prints the status; exit 0 only when
// SERVING, so scripts and exec probes can use it. With --wait S it keeps
// asking until SERVING or S seconds have passed.
int Health() {
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty())
    return Fail(absl::InvalidArgumentError("health: --target is required"));
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_service));
  const absl::Time give_up =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait));
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    const bool serving =
        status.ok() &&
        response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
    if (serving || absl::Now() >= give_up) {
      if (status.ok()) {
        printf("%s\n",
               grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                   response.status())
                   .c_str());
      } else {
        fprintf(stderr, "recallctl: Health/Check failed: %s %s\n",
                absl::StatusCodeToString(
                    static_cast<absl::StatusCode>(status.error_code()))
                    .c_str(),
                status.error_message().c_str());
      }
      return serving ? 0 : 1;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

}  // namespace
}  // namespace recall

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(recall::kUsage);
  // Accept --min-rating as well as --min_rating: flag names with dashes are
  // what most command lines use.
  std::vector<std::string> normalized(argv, argv + argc);
  for (std::string& arg : normalized) {
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    const size_t end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + 2, arg.begin() + end, '-', '_');
  }
  std::vector<char*> pointers;
  for (std::string& arg : normalized) pointers.push_back(arg.data());
  std::vector<char*> args = absl::ParseCommandLine(
      static_cast<int>(pointers.size()), pointers.data());
  if (args.size() == 3 && std::string(args[1]) == "import")
    return recall::Import(args[2]);
  if (args.size() != 2) {
    fprintf(stderr, "%s\n", recall::kUsage);
    return 2;
  }
  const std::string command = args[1];
  if (command == "split") return recall::Split();
  if (command == "eval") return recall::Eval();
  if (command == "gen") return recall::Gen();
  if (command == "build") return recall::Build();
  if (command == "publish") return recall::Publish();
  if (command == "train") return recall::Train();
  if (command == "tune") return recall::TuneCommand();
  if (command == "bench") return recall::Bench();
  if (command == "query") return recall::Query();
  if (command == "health") return recall::Health();
  fprintf(stderr, "recallctl: unknown command \"%s\"\n%s\n", command.c_str(),
          recall::kUsage);
  return 2;
}
