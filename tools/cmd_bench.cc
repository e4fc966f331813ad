// recallctl bench --target HOST:PORT --user_ids FILE [...]: load against a
// server; recallctl bench --snapshot ROOT --user_ids FILE [--mode
// engine|search]: the same work in process, without gRPC.
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "index/index_handle.h"
#include "recall/engine.h"
#include "recall/snapshot.h"
#include "store/snapshot_files.h"
#include "tools/bench.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(std::string, user_ids, "",
          "bench: file with one user id per line (requests cycle through it)");
ABSL_FLAG(std::string, snapshot, "",
          "bench: snapshot root to load in process (no gRPC)");
ABSL_FLAG(
    std::string, mode, "engine",
    "bench in process: engine (the server's whole Recall path) or search (user "
    "vector read + one Faiss search in --space)");
ABSL_FLAG(double, duration, 10, "bench: measured window, seconds");
ABSL_FLAG(double, warmup, 1, "bench: unmeasured warm-up, seconds");
ABSL_FLAG(std::string, server_metrics, "",
          "bench RPC: HOST:PORT of the server's /metrics, to report its CPU "
          "time per request");

namespace recall {

// The in-process workload: what the server does per request, minus gRPC.
// Where the engine's time goes, summed over in-process requests (warm-up
// included): per channel, and the rest (user read, merge, weighting, sort).
namespace {

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
    const std::string& space_name, const std::vector<std::string>& channels,
    EngineTimes* times) {
  if (mode == "engine") {
    // --channels: only those channels, without back-fill, as over RPC.
    RecallQuery base;
    base.k = k;
    for (const std::string& channel : channels) {
      base.overrides.push_back(ChannelOverride{.channel = channel});
      base.only_overridden_channels = true;
    }
    return [engine, &users, base, times](int64_t i) {
      thread_local RecallAnswer answer;
      RecallQuery query = base;
      query.user_id = users[i % users.size()];
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

}  // namespace

int RunBench() {
  const std::string users_file = absl::GetFlag(FLAGS_user_ids);
  if (users_file.empty())
    return Fail(
        absl::InvalidArgumentError("bench: --user_ids FILE is required"));
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
    options.k = absl::GetFlag(FLAGS_k);
    options.rate = absl::GetFlag(FLAGS_rate);
    options.deadline = absl::Milliseconds(absl::GetFlag(FLAGS_deadline_ms));
    options.channels = absl::GetFlag(FLAGS_channels);
    options.server_metrics = absl::GetFlag(FLAGS_server_metrics);
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
    auto work =
        InProcessWork(std::move(*engine), *users, absl::GetFlag(FLAGS_k),
                      absl::GetFlag(FLAGS_mode), absl::GetFlag(FLAGS_space),
                      absl::GetFlag(FLAGS_channels), &engine_times);
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

}  // namespace recall
