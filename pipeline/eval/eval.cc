#include "pipeline/eval/eval.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/snapshot/item_cf.h"
#include "proto/recall/v1/recall.pb.h"
#include "util/percentile.h"
#include "util/status_macros.h"

namespace recall {
namespace {

using Clock = std::chrono::steady_clock;

// More client threads than this is a mistake, not a load level.
constexpr int kMaxConcurrency = 1024;

// 1 / log2(r + 1) for the 1-based rank r.
double Gain(int rank) { return 1.0 / std::log2(static_cast<double>(rank) + 1); }

// Calls fn(user, item) for every row of a clicks file (see ReadTestClicks for
// the format and the errors).
absl::Status ForEachClick(
    const std::string& path,
    const std::function<void(absl::string_view, absl::string_view)>& fn) {
  errno = 0;
  std::ifstream in(path);
  if (!in.is_open()) {
    const int err = errno;
    return absl::ErrnoToStatus(err != 0 ? err : ENOENT,
                               absl::StrCat("cannot open clicks file ", path));
  }
  return ReadClickRows(in, path,
                       [&](absl::string_view user, absl::string_view item,
                           int64_t) { fn(user, item); })
      .status();
}

absl::Status ValidateOptions(const EvalOptions& o) {
  if (o.target == nullptr) {
    return absl::InvalidArgumentError("eval: no target");
  }
  if (o.test_tsv.empty()) {
    return absl::InvalidArgumentError("eval: test_tsv is empty");
  }
  if (o.ks.empty()) return absl::InvalidArgumentError("eval: ks is empty");
  for (int k : o.ks) {
    if (k < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("eval: ks must be >= 1, got ", k));
    }
  }
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    return absl::InvalidArgumentError(
        absl::StrCat("eval: concurrency must be in [1, ", kMaxConcurrency,
                     "], got ", o.concurrency));
  }
  if (o.deadline <= absl::ZeroDuration() ||
      o.deadline == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("eval: deadline must be positive and finite, got ",
                     absl::FormatDuration(o.deadline)));
  }
  return absl::OkStatus();
}

// A clicks file with items and users as dense ids: the items in order of
// first click, with their click counts, and each user's distinct items in
// file order.
struct DenseClicks {
  std::unordered_map<std::string, int32_t> item_index;
  std::vector<std::string> item_ids;
  std::vector<int64_t> counts;
  std::unordered_map<std::string, int32_t> user_index;
  Histories histories;
};

// Reads the clicks file `path` (errors as ForEachClick's).
absl::StatusOr<DenseClicks> ReadDenseClicks(const std::string& path) {
  DenseClicks c;
  RETURN_IF_ERROR(
      ForEachClick(path, [&](absl::string_view user, absl::string_view item) {
        auto [it, added] = c.item_index.emplace(
            std::string(item), static_cast<int32_t>(c.item_ids.size()));
        if (added) {
          c.item_ids.emplace_back(item);
          c.counts.push_back(0);
        }
        ++c.counts[it->second];
        auto [u, new_user] = c.user_index.emplace(
            std::string(user), static_cast<int32_t>(c.histories.size()));
        if (new_user) c.histories.emplace_back();
        std::vector<ItemRow>& h = c.histories[u->second];
        if (std::find(h.begin(), h.end(), it->second) == h.end())
          h.push_back(it->second);
      }));
  return c;
}

// The items of `clicks`, most clicked first, ties by id.
std::vector<int32_t> ItemsByPopularity(const DenseClicks& clicks) {
  const std::vector<int64_t>& counts = clicks.counts;
  const std::vector<std::string>& item_ids = clicks.item_ids;
  std::vector<int32_t> by_popularity(item_ids.size());
  for (size_t i = 0; i < by_popularity.size(); ++i)
    by_popularity[i] = static_cast<int32_t>(i);
  std::sort(by_popularity.begin(), by_popularity.end(),
            [&](int32_t a, int32_t b) {
              return counts[a] != counts[b] ? counts[a] > counts[b]
                                            : item_ids[a] < item_ids[b];
            });
  return by_popularity;
}

// The baselines over TRAIN_WORLD/clicks.tsv, scored against `test` (see
// EvalOptions::train_world): most popular, and item-kNN.
absl::Status Baselines(
    const std::string& train_world,
    const std::map<std::string, std::vector<std::string>>& test,
    const std::vector<int>& ks, int64_t catalogue_size,
    RankingMetrics* popularity, RankingMetrics* item_knn) {
  ASSIGN_OR_RETURN(
      const DenseClicks clicks,
      ReadDenseClicks(
          (std::filesystem::path(train_world) / "clicks.tsv").string()));
  const std::vector<std::string>& item_ids = clicks.item_ids;
  const std::vector<int32_t> by_popularity = ItemsByPopularity(clicks);
  const int32_t n_items = static_cast<int32_t>(item_ids.size());
  const RankedLists neighbours =
      CosineNeighbors(clicks.histories, n_items, kItemKnnNeighbours,
                      std::numeric_limits<int>::max(), /*threads=*/0);

  const size_t max_k = static_cast<size_t>(ks.back());
  MetricsAccumulator pop_acc(ks, catalogue_size);
  MetricsAccumulator knn_acc(ks, catalogue_size);
  std::vector<std::string> ranked;
  std::vector<bool> own(n_items, false);
  std::vector<double> score(n_items, 0.0);
  std::vector<int32_t> touched;
  for (const auto& [user, relevant] : test) {
    const auto u = clicks.user_index.find(user);
    const std::vector<ItemRow> empty;
    const std::vector<ItemRow>& history =
        u != clicks.user_index.end() ? clicks.histories[u->second] : empty;
    for (ItemRow i : history) own[i] = true;
    ranked.clear();
    for (int32_t i : by_popularity) {
      if (ranked.size() >= max_k) break;
      if (!own[i]) ranked.push_back(item_ids[i]);
    }
    pop_acc.Add(ranked, relevant);

    touched.clear();
    for (ItemRow i : history) {
      for (const RankedEntry& e : neighbours.List(i)) {
        if (own[e.row]) continue;
        if (score[e.row] == 0) touched.push_back(static_cast<int32_t>(e.row));
        score[e.row] += e.score;
      }
    }
    const size_t n = std::min(max_k, touched.size());
    std::partial_sort(touched.begin(), touched.begin() + n, touched.end(),
                      [&](int32_t a, int32_t b) {
                        return score[a] != score[b] ? score[a] > score[b]
                                                    : item_ids[a] < item_ids[b];
                      });
    ranked.clear();
    for (size_t i = 0; i < n; ++i) ranked.push_back(item_ids[touched[i]]);
    knn_acc.Add(ranked, relevant);
    for (int32_t i : touched) score[i] = 0;
    for (ItemRow i : history) own[i] = false;
  }
  *popularity = pop_acc.Finish();
  *item_knn = knn_acc.Finish();
  return absl::OkStatus();
}

// One system evaluated through Recall: the merged answer (channel empty) or
// one channel alone. Workers Add to it concurrently.
struct Pass {
  Pass(std::string name, const std::vector<int>& ks, int64_t catalogue_size)
      : channel(std::move(name)),
        acc(ks, catalogue_size),
        hit_share(*std::max_element(ks.begin(), ks.end())) {}
  const std::string channel;
  absl::Mutex mu;
  MetricsAccumulator acc ABSL_GUARDED_BY(mu);
  // The merged pass only.
  HitShareAccumulator hit_share ABSL_GUARDED_BY(mu);
};

// What one worker thread saw; only that thread touches it until joined.
struct WorkerResult {
  std::vector<int64_t> merged_latencies_ns;
  int64_t merged_errors = 0;
  int64_t errors = 0;
  absl::Status first_merged_error;
};

// Draws the progress bar; stderr only.
void DrawProgress(int64_t done, int64_t total, const std::string& what) {
  constexpr int kWidth = 30;
  const double fraction =
      total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  absl::FPrintF(stderr, "\reval [%s] %3d%% %d/%d calls  %-24.24s", bar,
                static_cast<int>(fraction * 100), done, total, what);
  std::fflush(stderr);
}

// EvalReport::hit_share and merged_hits from the merged pass's counts: every
// channel `info` names, and any other that a hit's sources named.
void FillHitShare(const HitShareAccumulator& acc,
                  const v1::GetSnapshotInfoResponse& info, EvalReport* report) {
  report->merged_hits = acc.hits();
  for (const std::string& channel : info.channels()) {
    report->hit_share[channel] = HitShare();
  }
  for (const auto& [channel, hits] : acc.channel_hits()) {
    HitShare& share = report->hit_share[channel];
    share.hits = hits;
    share.share = static_cast<double>(hits) / static_cast<double>(acc.hits());
  }
}

}  // namespace

absl::StatusOr<std::map<std::string, std::vector<std::string>>> ReadTestClicks(
    const std::string& path) {
  std::map<std::string, std::vector<std::string>> clicks;
  std::map<std::string, std::set<std::string>> seen;
  RETURN_IF_ERROR(
      ForEachClick(path, [&](absl::string_view user, absl::string_view item) {
        const std::string user_id(user);
        if (seen[user_id].emplace(item).second) {
          clicks[user_id].emplace_back(item);
        }
      }));
  return clicks;
}

MetricsAccumulator::MetricsAccumulator(std::vector<int> ks,
                                       int64_t catalogue_size)
    : ks_(std::move(ks)), catalogue_size_(catalogue_size) {
  ks_.erase(std::remove_if(ks_.begin(), ks_.end(), [](int k) { return k < 1; }),
            ks_.end());
  std::sort(ks_.begin(), ks_.end());
  ks_.erase(std::unique(ks_.begin(), ks_.end()), ks_.end());
  hr_sum_.assign(ks_.size(), 0);
  recall_sum_.assign(ks_.size(), 0);
  ndcg_sum_.assign(ks_.size(), 0);
}

void MetricsAccumulator::Add(const std::vector<std::string>& ranked,
                             const std::vector<std::string>& relevant) {
  const std::unordered_set<std::string> rel(relevant.begin(), relevant.end());
  if (rel.empty()) return;
  const size_t n = std::min(ranked.size(),
                            static_cast<size_t>(ks_.empty() ? 0 : ks_.back()));
  // 1-based ranks of the hits within the top max(K), ascending.
  std::vector<int> hit_ranks;
  std::unordered_set<std::string_view> listed;
  for (size_t i = 0; i < n; ++i) {
    const std::string& id = ranked[i];
    if (!listed.insert(id).second) continue;  // a repeat counts once
    const int position = static_cast<int>(i);
    auto [it, inserted] = best_position_.try_emplace(id, position);
    if (!inserted) it->second = std::min(it->second, position);
    if (rel.count(id) > 0) hit_ranks.push_back(position + 1);
  }
  ++users_;
  const int num_relevant = static_cast<int>(rel.size());
  for (size_t j = 0; j < ks_.size(); ++j) {
    const int k = ks_[j];
    int hits = 0;
    double dcg = 0;
    for (int r : hit_ranks) {
      if (r > k) break;
      ++hits;
      dcg += Gain(r);
    }
    double idcg = 0;
    for (int r = 1; r <= std::min(num_relevant, k); ++r) idcg += Gain(r);
    hr_sum_[j] += hits > 0 ? 1 : 0;
    recall_sum_[j] += static_cast<double>(hits) / num_relevant;
    ndcg_sum_[j] += dcg / idcg;
  }
}

void HitShareAccumulator::Add(const v1::RecallResponse& response,
                              const std::vector<std::string>& relevant) {
  const std::unordered_set<std::string_view> rel(relevant.begin(),
                                                 relevant.end());
  std::unordered_set<std::string_view> listed;
  std::set<std::string_view> sources;
  const int n = std::min(response.items_size(), std::max(max_k_, 0));
  for (int i = 0; i < n; ++i) {
    const v1::RecalledItem& item = response.items(i);
    if (!listed.insert(item.item_id()).second) continue;  // a repeat
    if (rel.count(item.item_id()) == 0) continue;
    ++hits_;
    sources.clear();
    for (const v1::Source& source : item.sources()) {
      sources.insert(source.channel());
    }
    for (std::string_view channel : sources) {
      ++channel_hits_[std::string(channel)];
    }
  }
}

RankingMetrics MetricsAccumulator::Finish() const {
  RankingMetrics m;
  m.users = users_;
  for (size_t j = 0; j < ks_.size(); ++j) {
    const int k = ks_[j];
    const double users = static_cast<double>(users_);
    m.hr[k] = users_ > 0 ? hr_sum_[j] / users : 0;
    m.recall[k] = users_ > 0 ? recall_sum_[j] / users : 0;
    m.ndcg[k] = users_ > 0 ? ndcg_sum_[j] / users : 0;
    int64_t covered = 0;
    for (const auto& [item, position] : best_position_) {
      if (position < k) ++covered;
    }
    m.coverage[k] = catalogue_size_ > 0
                        ? static_cast<double>(covered) /
                              static_cast<double>(catalogue_size_)
                        : 0;
  }
  return m;
}

// Asks options.target for every (pass, user): job j is user j % |users| in
// pass j / |users|, so the passes run in order; options.concurrency threads,
// a progress bar when asked. Scores land in the passes; what each thread saw
// is returned.
std::vector<WorkerResult> RunPasses(
    const EvalOptions& options, const std::vector<const std::string*>& users,
    const std::vector<const std::vector<std::string>*>& relevant, int max_k,
    const std::vector<std::unique_ptr<Pass>>& passes) {
  RecallTarget& target = *options.target;
  const int64_t num_users = static_cast<int64_t>(users.size());
  const int64_t total = num_users * static_cast<int64_t>(passes.size());
  std::atomic<int64_t> next_job{0};
  std::atomic<int64_t> jobs_done{0};
  absl::Notification all_done;
  std::vector<WorkerResult> results(static_cast<size_t>(options.concurrency));
  auto work = [&](int worker) {
    WorkerResult& result = results[static_cast<size_t>(worker)];
    v1::RecallRequest request;
    v1::RecallResponse response;
    std::vector<std::string> ranked;
    for (;;) {
      const int64_t job = next_job.fetch_add(1, std::memory_order_relaxed);
      if (job >= total) break;
      Pass& pass = *passes[static_cast<size_t>(job / num_users)];
      const size_t u = static_cast<size_t>(job % num_users);
      request.Clear();
      request.set_user_id(*users[u]);
      request.set_k(max_k);
      request.set_request_id(absl::StrCat("eval-", job));
      if (!pass.channel.empty()) {
        request.add_channel_overrides()->set_channel(pass.channel);
        request.set_only_overridden_channels(true);
      }
      response.Clear();
      const Clock::time_point start = Clock::now();
      const absl::Status status =
          target.Recall(request, options.deadline, &response);
      if (pass.channel.empty()) {
        result.merged_latencies_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                                 start)
                .count());
      }
      if (status.ok()) {
        ranked.clear();
        for (const v1::RecalledItem& item : response.items()) {
          ranked.push_back(item.item_id());
        }
        absl::MutexLock lock(&pass.mu);
        pass.acc.Add(ranked, *relevant[u]);
        if (pass.channel.empty()) pass.hit_share.Add(response, *relevant[u]);
      } else {
        ++result.errors;
        if (pass.channel.empty() && result.merged_errors++ == 0) {
          result.first_merged_error = status;
        }
      }
      if (jobs_done.fetch_add(1) + 1 == total) all_done.Notify();
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(results.size());
  for (int i = 0; i < options.concurrency; ++i) workers.emplace_back(work, i);
  if (options.progress && isatty(STDERR_FILENO)) {
    for (;;) {
      const bool finished =
          all_done.WaitForNotificationWithTimeout(absl::Milliseconds(200));
      const int64_t done = jobs_done.load();
      const int64_t pass = std::min<int64_t>(
          done / num_users, static_cast<int64_t>(passes.size()) - 1);
      const std::string& channel = passes[static_cast<size_t>(pass)]->channel;
      DrawProgress(done, total, channel.empty() ? "merged" : channel);
      if (finished) break;
    }
    absl::FPrintF(stderr, "\n");
  }
  for (std::thread& t : workers) t.join();
  return results;
}

// Latency percentiles and error counts over the threads' results; an error
// naming `target` when every merged Recall failed.
absl::Status Summarise(std::vector<WorkerResult>& results, int64_t num_users,
                       const std::string& target, EvalReport* report) {
  std::vector<int64_t> latencies;
  int64_t merged_errors = 0;
  absl::Status first_merged_error;
  for (WorkerResult& r : results) {
    latencies.insert(latencies.end(), r.merged_latencies_ns.begin(),
                     r.merged_latencies_ns.end());
    report->errors += r.errors;
    if (r.merged_errors > 0 && merged_errors == 0) {
      first_merged_error = r.first_merged_error;
    }
    merged_errors += r.merged_errors;
  }
  if (merged_errors == num_users) {
    return absl::Status(
        first_merged_error.code(),
        absl::StrCat("eval: every Recall to ", target,
                     " failed; the first: ", first_merged_error.message()));
  }
  std::sort(latencies.begin(), latencies.end());
  report->p50_ms = static_cast<double>(NearestRank(latencies, 500)) / 1e6;
  report->p99_ms = static_cast<double>(NearestRank(latencies, 990)) / 1e6;
  return absl::OkStatus();
}

absl::StatusOr<EvalReport> RunEval(const EvalOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  std::vector<int> ks = options.ks;
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  const int max_k = ks.back();

  ASSIGN_OR_RETURN(const auto test, ReadTestClicks(options.test_tsv));
  if (test.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("eval: ", options.test_tsv, " holds no clicks"));
  }
  std::vector<const std::string*> users;
  std::vector<const std::vector<std::string>*> relevant;
  users.reserve(test.size());
  relevant.reserve(test.size());
  for (const auto& [user, items] : test) {
    users.push_back(&user);
    relevant.push_back(&items);
  }

  RecallTarget& target = *options.target;
  v1::GetSnapshotInfoResponse info;
  if (absl::Status status = target.GetSnapshotInfo(options.deadline, &info);
      !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("eval: GetSnapshotInfo on ", target.name(),
                                     ": ", status.message()));
  }
  const int64_t catalogue_size = info.item_count();

  EvalReport report;
  report.test_users = static_cast<int64_t>(test.size());
  if (!options.train_world.empty()) {
    RETURN_IF_ERROR(Baselines(options.train_world, test, ks, catalogue_size,
                              &report.popularity, &report.item_knn));
  } else {
    report.popularity = MetricsAccumulator(ks, catalogue_size).Finish();
    report.item_knn = report.popularity;
  }

  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::make_unique<Pass>("", ks, catalogue_size));
  if (options.per_channel) {
    for (const std::string& channel : info.channels()) {
      passes.push_back(std::make_unique<Pass>(channel, ks, catalogue_size));
    }
  }

  const int64_t num_users = static_cast<int64_t>(users.size());
  std::vector<WorkerResult> results =
      RunPasses(options, users, relevant, max_k, passes);
  RETURN_IF_ERROR(Summarise(results, num_users, target.name(), &report));
  for (const auto& pass : passes) {
    absl::MutexLock lock(&pass->mu);
    if (pass->channel.empty()) {
      report.merged = pass->acc.Finish();
      FillHitShare(pass->hit_share, info, &report);
    } else {
      report.channels[pass->channel] = pass->acc.Finish();
    }
  }
  return report;
}

}  // namespace recall
