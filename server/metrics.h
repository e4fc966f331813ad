// Prometheus metrics of the server. Every handle is resolved at construction
// so the request path only increments pre-registered series.
#ifndef RECALL_SERVER_METRICS_H_
#define RECALL_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "recall/engine.h"

namespace recall {

enum class Method { kRecall = 0, kSimilarItems = 1, kGetSnapshotInfo = 2 };
inline constexpr int kMethodCount = 3;
inline constexpr int kGrpcCodeCount = 17;

// Names (Prometheus conventions: base units, _total for counters), per
// request:
//   recall_requests_total{method,code}                 counter
//   recall_request_duration_seconds{method}            histogram
//   recall_rejected_requests_total{method}             counter (over
//                                                      --max_in_flight)
//   recall_requests_in_flight                          gauge
//   recall_requests_inline_total{method}               counter (run on the
//                                                      gRPC thread)
//   recall_partial_responses_total                     counter
//   recall_truncated_candidates_total                  counter (cut at k)
//   recall_backfilled_items_total                      counter
//   recall_fallback_responses_total                    counter (all back-fill)
// per channel and request:
//   recall_channel_duration_seconds{channel}           histogram
//   recall_channel_candidates{channel}                 histogram (found)
//   recall_channel_kept_candidates{channel}            histogram
//   recall_channel_dropped_by_threshold_total{channel} counter
//   recall_channel_excluded_total{channel}             counter
//   recall_channel_truncated_total{channel}            counter (over quota)
//   recall_channel_failures_total{channel,code}        counter
//   recall_channel_cache_lookups_total{channel,result} counter (hit|miss)
// per snapshot:
//   recall_snapshot_info{version}                      gauge, 1 when served
//   recall_snapshot_loaded_timestamp_seconds           gauge
//   recall_snapshot_age_seconds                        gauge
//   recall_snapshot_load_duration_seconds              gauge
//   recall_snapshot_reload_failures_total              counter
// One channel's series, resolved once per (snapshot, channel): recording an
// answer then takes no lock and builds no label set. The cache series are
// made on first use (channels without a cache export none).
struct ChannelSeries {
  prometheus::Histogram* duration;
  prometheus::Histogram* found;
  prometheus::Histogram* kept;
  prometheus::Counter* dropped;
  prometheus::Counter* excluded;
  prometheus::Counter* truncated;
  mutable std::atomic<prometheus::Counter*> cache_hit{nullptr};
  mutable std::atomic<prometheus::Counter*> cache_miss{nullptr};
};

// A served engine's channels (by the address of each channel's name, as
// ChannelReport::channel holds it) to their series. Immutable once built.
using ChannelSeriesIndex =
    absl::flat_hash_map<const std::string*, const ChannelSeries*>;

// Thread safety: all methods are safe for concurrent use.
class ServerMetrics {
 public:
  ServerMetrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void ObserveRequest(Method method, grpc::StatusCode code, double seconds);
  // A call refused because --max_in_flight were already running.
  void CountRejected(Method method) {
    rejected_[static_cast<int>(method)]->Increment();
  }
  // A call run on the gRPC callback thread that received it, not handed
  // to the worker pool (--inline_max_channels).
  void CountInline(Method method) {
    inline_[static_cast<int>(method)]->Increment();
  }
  // The series of the channels named by `names` (pointers that outlive the
  // index, e.g. an engine's channel names); made when new. Called once per
  // snapshot load, off the request path.
  ChannelSeriesIndex ResolveChannels(
      const std::vector<const std::string*>& names);
  // Everything a Recall or SimilarItems answer reports: truncation,
  // back-fill, partial answers, and each channel's latency, counts, cache
  // lookups and failure. Channels found in `index` (when given) are counted
  // without a lock; others are looked up by name (a lock and a map) and
  // made on first use.
  void ObserveAnswer(const RecallAnswer& answer,
                     const ChannelSeriesIndex* index = nullptr);
  void SetSnapshot(const std::string& version, double loaded_at_unix);
  void CountReloadFailure() { reload_failures_->Increment(); }
  void SetInFlight(int n) { in_flight_->Set(n); }
  // Seconds since the served snapshot was built; the last load's duration.
  void SetSnapshotAge(double seconds) { snapshot_age_->Set(seconds); }
  void SetLoadDuration(double seconds) { load_duration_->Set(seconds); }

 private:
  // The constructor's stages, in the order the series are registered: the
  // per-request series, the per-answer ones, the per-channel families
  // (series made on a channel's first use) and the per-snapshot series.
  void RegisterRequestSeries();
  void RegisterAnswerSeries();
  void RegisterChannelFamilies();
  void RegisterSnapshotSeries();

  std::shared_ptr<prometheus::Registry> registry_;
  std::array<std::array<prometheus::Counter*, kGrpcCodeCount>, kMethodCount>
      requests_{};
  std::array<prometheus::Histogram*, kMethodCount> latency_{};
  std::array<prometheus::Counter*, kMethodCount> rejected_{};
  std::array<prometheus::Counter*, kMethodCount> inline_{};
  prometheus::Counter* partial_ = nullptr;
  prometheus::Counter* truncated_ = nullptr;
  prometheus::Counter* backfilled_ = nullptr;
  prometheus::Counter* fallback_ = nullptr;
  prometheus::Counter* reload_failures_ = nullptr;
  prometheus::Gauge* in_flight_ = nullptr;
  const ChannelSeries& Channel(const std::string& channel);
  void CountChannelFailure(const std::string& channel, const std::string& code);
  void CountCache(const ChannelSeries& series, const std::string& channel,
                  int hits, int misses);

  prometheus::Family<prometheus::Histogram>* channel_duration_ = nullptr;
  prometheus::Family<prometheus::Histogram>* channel_found_ = nullptr;
  prometheus::Family<prometheus::Histogram>* channel_kept_ = nullptr;
  prometheus::Family<prometheus::Counter>* channel_dropped_ = nullptr;
  prometheus::Family<prometheus::Counter>* channel_excluded_ = nullptr;
  prometheus::Family<prometheus::Counter>* channel_truncated_ = nullptr;
  absl::Mutex channels_mu_;
  std::map<std::string, ChannelSeries> channels_ ABSL_GUARDED_BY(channels_mu_);
  prometheus::Gauge* snapshot_age_ = nullptr;
  prometheus::Gauge* load_duration_ = nullptr;
  prometheus::Family<prometheus::Counter>* channel_failures_ = nullptr;
  prometheus::Family<prometheus::Counter>* cache_lookups_ = nullptr;
  prometheus::Family<prometheus::Gauge>* snapshot_info_ = nullptr;
  prometheus::Gauge* snapshot_loaded_ = nullptr;
  prometheus::Gauge* current_info_ =
      nullptr;  // guarded by the single loader thread
};

// One series of a value read when scraped (collectors: the process's and
// the click stream's): a counter or a gauge without labels.
prometheus::MetricFamily ScrapedFamily(std::string name, std::string help,
                                       prometheus::MetricType type,
                                       double value);

// The standard process metrics, read when scraped:
//   process_cpu_seconds_total        counter (user + system, all threads)
//   process_resident_memory_bytes    gauge
// `recallctl bench --server_metrics` reads the first to give the server's CPU
// time per request.
std::shared_ptr<prometheus::Collectable> NewProcessCollector();

// "OK", "INVALID_ARGUMENT", ...
std::string GrpcCodeName(grpc::StatusCode code);

}  // namespace recall

#endif  // RECALL_SERVER_METRICS_H_
