#include "server/metrics.h"

#include "absl/status/status.h"
#include "util/process_stats.h"

namespace recall {
namespace {

constexpr const char* kMethodNames[kMethodCount] = {"Recall", "SimilarItems",
                                                    "GetSnapshotInfo"};

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// A family of the builder's metric type, registered in `registry`.
template <typename Builder>
auto& RegisterFamily(prometheus::Registry& registry, Builder builder,
                     const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

// A family's single unlabelled series.
template <typename T>
T* One(prometheus::Family<T>& family) {
  return &family.Add({});
}

}  // namespace

std::string GrpcCodeName(grpc::StatusCode code) {
  // gRPC and Abseil share the canonical codes and their names.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()) {
  RegisterRequestSeries();
  RegisterAnswerSeries();
  RegisterChannelFamilies();
  RegisterSnapshotSeries();
}

void ServerMetrics::RegisterRequestSeries() {
  prometheus::Registry& registry = *registry_;
  auto& requests =
      RegisterFamily(registry, BuildCounter(), "recall_requests_total",
                     "RPCs handled, by method and gRPC status code.");
  auto& latency = RegisterFamily(
      registry, BuildHistogram(), "recall_request_duration_seconds",
      "Time from receiving an RPC to finishing it, in seconds.");
  auto& rejected =
      RegisterFamily(registry, BuildCounter(), "recall_rejected_requests_total",
                     "Calls refused with RESOURCE_EXHAUSTED because "
                     "--max_in_flight calls were running.");
  auto& run_inline = RegisterFamily(
      registry, BuildCounter(), "recall_requests_inline_total",
      "Calls run on the gRPC thread that received them instead of "
      "the worker pool (plans of at most --inline_max_channels).");
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
      0.01,   0.025,   0.05,   0.1,   0.25,  1};
  for (int m = 0; m < kMethodCount; ++m) {
    for (int c = 0; c < kGrpcCodeCount; ++c) {
      requests_[m][c] = &requests.Add(
          {{"method", kMethodNames[m]},
           {"code", GrpcCodeName(static_cast<grpc::StatusCode>(c))}});
    }
    latency_[m] = &latency.Add({{"method", kMethodNames[m]}}, buckets);
    rejected_[m] = &rejected.Add({{"method", kMethodNames[m]}});
    inline_[m] = &run_inline.Add({{"method", kMethodNames[m]}});
  }
  in_flight_ = One(RegisterFamily(
      registry, BuildGauge(), "recall_requests_in_flight",
      "Recall and SimilarItems calls admitted and not yet finished."));
}

void ServerMetrics::RegisterAnswerSeries() {
  prometheus::Registry& registry = *registry_;
  partial_ = One(
      RegisterFamily(registry, BuildCounter(), "recall_partial_responses_total",
                     "Answers where a channel failed or ran out of time."));
  truncated_ = One(RegisterFamily(
      registry, BuildCounter(), "recall_truncated_candidates_total",
      "Merged candidates beyond k, cut from answers."));
  backfilled_ = One(
      RegisterFamily(registry, BuildCounter(), "recall_backfilled_items_total",
                     "Items the back-fill channel added to reach k."));
  fallback_ = One(RegisterFamily(
      registry, BuildCounter(), "recall_fallback_responses_total",
      "Answers made wholly by back-fill: the channels kept nothing."));
}

void ServerMetrics::RegisterChannelFamilies() {
  prometheus::Registry& registry = *registry_;
  channel_duration_ = &RegisterFamily(
      registry, BuildHistogram(), "recall_channel_duration_seconds",
      "Time one channel took in one request, in seconds.");
  channel_found_ = &RegisterFamily(
      registry, BuildHistogram(), "recall_channel_candidates",
      "Candidates one channel's searches found in one request.");
  channel_kept_ = &RegisterFamily(
      registry, BuildHistogram(), "recall_channel_kept_candidates",
      "Candidates one channel contributed to the merge in one request.");
  channel_dropped_ = &RegisterFamily(
      registry, BuildCounter(), "recall_channel_dropped_by_threshold_total",
      "Candidates dropped under a channel's min_similarity.");
  channel_excluded_ = &RegisterFamily(
      registry, BuildCounter(), "recall_channel_excluded_total",
      "Candidates over the threshold skipped as excluded (request "
      "exclusions, seeds, seen items).");
  channel_truncated_ = &RegisterFamily(
      registry, BuildCounter(), "recall_channel_truncated_total",
      "Candidates over the threshold left out by a channel's quota.");
  channel_failures_ = &RegisterFamily(
      registry, BuildCounter(), "recall_channel_failures_total",
      "Channels that failed or ran out of time, by channel and status code.");
  cache_lookups_ = &RegisterFamily(
      registry, BuildCounter(), "recall_channel_cache_lookups_total",
      "Cache lookups of channels with a cache (cluster_center's centre "
      "searches, i2i's neighbour tables), by result (hit, miss).");
}

void ServerMetrics::RegisterSnapshotSeries() {
  prometheus::Registry& registry = *registry_;
  snapshot_info_ =
      &RegisterFamily(registry, BuildGauge(), "recall_snapshot_info",
                      "1 for the snapshot version being served.");
  snapshot_loaded_ = One(RegisterFamily(
      registry, BuildGauge(), "recall_snapshot_loaded_timestamp_seconds",
      "Unix time the served snapshot finished loading."));
  snapshot_age_ =
      One(RegisterFamily(registry, BuildGauge(), "recall_snapshot_age_seconds",
                         "Seconds since the served snapshot was built."));
  load_duration_ = One(RegisterFamily(
      registry, BuildGauge(), "recall_snapshot_load_duration_seconds",
      "How long the last successful snapshot load took."));
  reload_failures_ = One(RegisterFamily(
      registry, BuildCounter(), "recall_snapshot_reload_failures_total",
      "Snapshot versions refused at reload (the old one kept serving)."));
}

void ServerMetrics::ObserveRequest(Method method, grpc::StatusCode code,
                                   double seconds) {
  const int m = static_cast<int>(method);
  const int c = static_cast<int>(code);
  if (c >= 0 && c < kGrpcCodeCount) requests_[m][c]->Increment();
  latency_[m]->Observe(seconds);
}

void ServerMetrics::CountChannelFailure(const std::string& channel,
                                        const std::string& code) {
  channel_failures_->Add({{"channel", channel}, {"code", code}}).Increment();
}

void ServerMetrics::CountCache(const ChannelSeries& series,
                               const std::string& channel, int hits,
                               int misses) {
  // Family::Add returns the existing series for the same labels, so threads
  // racing on a first use store the same pointer.
  auto count = [&](std::atomic<prometheus::Counter*>& slot, const char* result,
                   int n) {
    prometheus::Counter* counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      counter =
          &cache_lookups_->Add({{"channel", channel}, {"result", result}});
      slot.store(counter, std::memory_order_release);
    }
    counter->Increment(n);
  };
  if (hits > 0) count(series.cache_hit, "hit", hits);
  if (misses > 0) count(series.cache_miss, "miss", misses);
}

ChannelSeriesIndex ServerMetrics::ResolveChannels(
    const std::vector<const std::string*>& names) {
  ChannelSeriesIndex index;
  for (const std::string* name : names) index[name] = &Channel(*name);
  return index;
}

const ChannelSeries& ServerMetrics::Channel(const std::string& channel) {
  absl::MutexLock lock(&channels_mu_);
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    const prometheus::Labels labels = {{"channel", channel}};
    const prometheus::Histogram::BucketBoundaries seconds_buckets = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001,
        0.0025,  0.005,  0.01,    0.025,  0.1};
    const prometheus::Histogram::BucketBoundaries count_buckets = {
        0, 10, 50, 100, 250, 500, 1000, 2500, 5000};
    it = channels_.try_emplace(channel).first;
    ChannelSeries& series = it->second;
    series.duration = &channel_duration_->Add(labels, seconds_buckets);
    series.found = &channel_found_->Add(labels, count_buckets);
    series.kept = &channel_kept_->Add(labels, count_buckets);
    series.dropped = &channel_dropped_->Add(labels);
    series.excluded = &channel_excluded_->Add(labels);
    series.truncated = &channel_truncated_->Add(labels);
  }
  // Entries are never removed and std::map nodes do not move: the reference
  // stays valid after the lock is released.
  return it->second;
}

void ServerMetrics::ObserveAnswer(const RecallAnswer& answer,
                                  const ChannelSeriesIndex* index) {
  if (answer.partial) partial_->Increment();
  if (answer.truncated > 0) truncated_->Increment(answer.truncated);
  if (answer.backfilled > 0) backfilled_->Increment(answer.backfilled);
  if (answer.fallback()) fallback_->Increment();
  for (const ChannelReport& report : answer.channels) {
    const ChannelSeries* resolved = nullptr;
    if (index != nullptr) {
      auto it = index->find(report.channel);
      if (it != index->end()) resolved = it->second;
    }
    const ChannelSeries& series =
        resolved != nullptr ? *resolved : Channel(*report.channel);
    series.duration->Observe(report.latency_us * 1e-6);
    series.found->Observe(report.found);
    series.kept->Observe(report.kept);
    if (report.dropped_by_threshold > 0)
      series.dropped->Increment(report.dropped_by_threshold);
    if (report.excluded > 0) series.excluded->Increment(report.excluded);
    if (report.truncated > 0) series.truncated->Increment(report.truncated);
    if (report.cache_hits + report.cache_misses > 0)
      CountCache(series, *report.channel, report.cache_hits,
                 report.cache_misses);
    if (!report.status.ok() && !absl::IsNotFound(report.status)) {
      CountChannelFailure(*report.channel,
                          absl::StatusCodeToString(report.status.code()));
    }
  }
}

void ServerMetrics::SetSnapshot(const std::string& version,
                                double loaded_at_unix) {
  if (current_info_ != nullptr) snapshot_info_->Remove(current_info_);
  current_info_ = &snapshot_info_->Add({{"version", version}});
  current_info_->Set(1);
  snapshot_loaded_->Set(loaded_at_unix);
}

prometheus::MetricFamily ScrapedFamily(std::string name, std::string help,
                                       prometheus::MetricType type,
                                       double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return family;
}

namespace {

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    out.push_back(
        ScrapedFamily("process_cpu_seconds_total",
                      "Total user and system CPU time spent in seconds.",
                      prometheus::MetricType::Counter, ProcessCpuSeconds()));
    out.push_back(ScrapedFamily("process_resident_memory_bytes",
                                "Resident memory size in bytes.",
                                prometheus::MetricType::Gauge,
                                static_cast<double>(ProcessResidentBytes())));
    return out;
  }
};

}  // namespace

std::shared_ptr<prometheus::Collectable> NewProcessCollector() {
  return std::make_shared<ProcessCollector>();
}

}  // namespace recall
