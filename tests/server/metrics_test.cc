// ServerMetrics, read back through its prometheus::Registry: requests by
// method and code and their latency, rejections, the in-flight gauge, what
// answers report (partial, truncation, back-fill, per-channel stats, cache
// lookups, failures), the snapshot series, and GrpcCodeName.
#include "server/metrics.h"

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace recall {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Labels = std::map<std::string, std::string>;

class ServerMetricsTest : public ::testing::Test {
 protected:
  // Scrapes the registry; the lookups below read this scrape.
  void Collect() { families_ = metrics_.registry()->Collect(); }

  const prometheus::MetricFamily* Family(const std::string& name) const {
    for (const prometheus::MetricFamily& family : families_) {
      if (family.name == name) return &family;
    }
    return nullptr;
  }

  // The series of family `name` with exactly `labels`, or nullptr.
  const prometheus::ClientMetric* Series(const std::string& name,
                                         const Labels& labels = {}) const {
    const prometheus::MetricFamily* family = Family(name);
    if (family == nullptr) return nullptr;
    for (const prometheus::ClientMetric& metric : family->metric) {
      Labels have;
      for (const auto& label : metric.label) have[label.name] = label.value;
      if (have == labels) return &metric;
    }
    return nullptr;
  }

  // Number of series in family `name` (0 when absent).
  size_t SeriesCount(const std::string& name) const {
    const prometheus::MetricFamily* family = Family(name);
    return family == nullptr ? 0 : family->metric.size();
  }

  // A counter's value; nullopt when the series does not exist.
  std::optional<double> Counter(const std::string& name,
                                const Labels& labels = {}) const {
    const prometheus::ClientMetric* m = Series(name, labels);
    if (m == nullptr) return std::nullopt;
    return m->counter.value;
  }

  std::optional<double> Gauge(const std::string& name,
                              const Labels& labels = {}) const {
    const prometheus::ClientMetric* m = Series(name, labels);
    if (m == nullptr) return std::nullopt;
    return m->gauge.value;
  }

  // A histogram's cumulative count at bucket `le`.
  static uint64_t Bucket(const prometheus::ClientMetric& m, double le) {
    for (const auto& bucket : m.histogram.bucket) {
      if (bucket.upper_bound == le) return bucket.cumulative_count;
    }
    ADD_FAILURE() << "no bucket le=" << le;
    return 0;
  }

  ServerMetrics metrics_;
  std::vector<prometheus::MetricFamily> families_;
};

TEST_F(ServerMetricsTest, EveryMethodAndCodeSeriesExistsAtZero) {
  Collect();
  EXPECT_EQ(SeriesCount("recall_requests_total"),
            static_cast<size_t>(kMethodCount * kGrpcCodeCount));
  for (const char* method : {"Recall", "SimilarItems", "GetSnapshotInfo"}) {
    for (const char* code : {"OK", "INVALID_ARGUMENT", "UNAUTHENTICATED"}) {
      EXPECT_EQ(Counter("recall_requests_total",
                        {{"method", method}, {"code", code}}),
                0.0)
          << method << " " << code;
    }
    EXPECT_EQ(Counter("recall_rejected_requests_total", {{"method", method}}),
              0.0);
    const auto* latency =
        Series("recall_request_duration_seconds", {{"method", method}});
    ASSERT_NE(latency, nullptr) << method;
    EXPECT_EQ(latency->histogram.sample_count, 0u);
  }
  EXPECT_EQ(Gauge("recall_requests_in_flight"), 0.0);
  EXPECT_EQ(Counter("recall_partial_responses_total"), 0.0);
  EXPECT_EQ(Counter("recall_snapshot_reload_failures_total"), 0.0);
}

TEST_F(ServerMetricsTest, CountsRequestsByMethodAndCode) {
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::OK, 0.001);
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::OK, 0.001);
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::INVALID_ARGUMENT,
                          0.001);
  metrics_.ObserveRequest(Method::kSimilarItems,
                          grpc::StatusCode::DEADLINE_EXCEEDED, 0.5);
  metrics_.ObserveRequest(Method::kGetSnapshotInfo,
                          grpc::StatusCode::UNAVAILABLE, 0.0001);
  Collect();
  EXPECT_EQ(
      Counter("recall_requests_total", {{"method", "Recall"}, {"code", "OK"}}),
      2.0);
  EXPECT_EQ(Counter("recall_requests_total",
                    {{"method", "Recall"}, {"code", "INVALID_ARGUMENT"}}),
            1.0);
  EXPECT_EQ(Counter("recall_requests_total", {{"method", "SimilarItems"},
                                              {"code", "DEADLINE_EXCEEDED"}}),
            1.0);
  EXPECT_EQ(Counter("recall_requests_total",
                    {{"method", "SimilarItems"}, {"code", "OK"}}),
            0.0);
  EXPECT_EQ(Counter("recall_requests_total",
                    {{"method", "GetSnapshotInfo"}, {"code", "UNAVAILABLE"}}),
            1.0);
  EXPECT_EQ(Counter("recall_requests_total",
                    {{"method", "Recall"}, {"code", "UNAVAILABLE"}}),
            0.0);
}

TEST_F(ServerMetricsTest, TimesRequestsPerMethod) {
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::OK, 0.0003);
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::INTERNAL, 0.003);
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::OK, 2.0);
  metrics_.ObserveRequest(Method::kSimilarItems, grpc::StatusCode::OK, 0.02);
  Collect();
  const auto* recall =
      Series("recall_request_duration_seconds", {{"method", "Recall"}});
  ASSERT_NE(recall, nullptr);
  EXPECT_EQ(recall->histogram.sample_count, 3u);
  EXPECT_DOUBLE_EQ(recall->histogram.sample_sum, 0.0003 + 0.003 + 2.0);
  EXPECT_EQ(Bucket(*recall, 0.00025), 0u);
  EXPECT_EQ(Bucket(*recall, 0.0005), 1u);
  EXPECT_EQ(Bucket(*recall, 0.005), 2u);
  EXPECT_EQ(Bucket(*recall, 1), 2u);
  EXPECT_EQ(recall->histogram.bucket.back().cumulative_count, 3u);  // +Inf
  EXPECT_EQ(recall->histogram.bucket.size(), 13u);  // 12 bounds and +Inf

  const auto* similar =
      Series("recall_request_duration_seconds", {{"method", "SimilarItems"}});
  ASSERT_NE(similar, nullptr);
  EXPECT_EQ(similar->histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(similar->histogram.sample_sum, 0.02);
  EXPECT_EQ(Bucket(*similar, 0.01), 0u);
  EXPECT_EQ(Bucket(*similar, 0.025), 1u);
}

TEST_F(ServerMetricsTest, AnOutOfRangeCodeIsTimedButNotCounted) {
  metrics_.ObserveRequest(Method::kRecall, static_cast<grpc::StatusCode>(17),
                          0.01);
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::DO_NOT_USE, 0.01);
  Collect();
  const prometheus::MetricFamily* requests = Family("recall_requests_total");
  ASSERT_NE(requests, nullptr);
  for (const auto& series : requests->metric) {
    EXPECT_EQ(series.counter.value, 0.0);
  }
  const auto* latency =
      Series("recall_request_duration_seconds", {{"method", "Recall"}});
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->histogram.sample_count, 2u);
}

TEST_F(ServerMetricsTest, CountsRejectedCallsByMethod) {
  metrics_.CountRejected(Method::kRecall);
  metrics_.CountRejected(Method::kRecall);
  metrics_.CountRejected(Method::kSimilarItems);
  Collect();
  EXPECT_EQ(Counter("recall_rejected_requests_total", {{"method", "Recall"}}),
            2.0);
  EXPECT_EQ(
      Counter("recall_rejected_requests_total", {{"method", "SimilarItems"}}),
      1.0);
  EXPECT_EQ(Counter("recall_rejected_requests_total",
                    {{"method", "GetSnapshotInfo"}}),
            0.0);
}

TEST_F(ServerMetricsTest, InFlightGaugeFollowsTheLastValue) {
  metrics_.SetInFlight(3);
  Collect();
  EXPECT_EQ(Gauge("recall_requests_in_flight"), 3.0);
  metrics_.SetInFlight(7);
  metrics_.SetInFlight(1);
  Collect();
  EXPECT_EQ(Gauge("recall_requests_in_flight"), 1.0);
  metrics_.SetInFlight(0);
  Collect();
  EXPECT_EQ(Gauge("recall_requests_in_flight"), 0.0);
}

TEST_F(ServerMetricsTest, CountsWhatAnswersReport) {
  RecallAnswer fallback;  // wholly back-filled, partial, truncated
  fallback.items.resize(2);
  fallback.backfilled = 2;
  fallback.partial = true;
  fallback.truncated = 4;
  ASSERT_TRUE(fallback.fallback());
  metrics_.ObserveAnswer(fallback);

  RecallAnswer topped_up;  // back-fill added one of three
  topped_up.items.resize(3);
  topped_up.backfilled = 1;
  ASSERT_FALSE(topped_up.fallback());
  metrics_.ObserveAnswer(topped_up);

  metrics_.ObserveAnswer(RecallAnswer());  // nothing to count

  Collect();
  EXPECT_EQ(Counter("recall_partial_responses_total"), 1.0);
  EXPECT_EQ(Counter("recall_truncated_candidates_total"), 4.0);
  EXPECT_EQ(Counter("recall_backfilled_items_total"), 3.0);
  EXPECT_EQ(Counter("recall_fallback_responses_total"), 1.0);
}

TEST_F(ServerMetricsTest, ObservesEachChannelOfAnAnswer) {
  const std::string u2i = "u2i_dssm";
  const std::string i2i = "i2i_dssm";
  const std::string hot = "hot";
  RecallAnswer answer;
  ChannelReport report;
  report.channel = &u2i;
  report.found = 120;
  report.kept = 40;
  report.dropped_by_threshold = 30;
  report.excluded = 5;
  report.truncated = 45;
  report.latency_us = 1500;
  report.cache_hits = 3;
  report.cache_misses = 1;
  answer.channels.push_back(report);
  report = ChannelReport();
  report.channel = &i2i;  // nothing to work from: not a failure
  report.latency_us = 20;
  report.status = absl::NotFoundError("no seed in space");
  answer.channels.push_back(report);
  report = ChannelReport();
  report.channel = &hot;
  report.found = 7;
  report.kept = 7;
  report.latency_us = 30000;
  report.cache_misses = 2;
  report.status = absl::DeadlineExceededError("cut off");
  answer.channels.push_back(report);
  metrics_.ObserveAnswer(answer);
  metrics_.ObserveAnswer(answer);
  Collect();

  const auto* duration =
      Series("recall_channel_duration_seconds", {{"channel", u2i}});
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(duration->histogram.sample_sum, 2 * 0.0015);
  EXPECT_EQ(Bucket(*duration, 0.001), 0u);
  EXPECT_EQ(Bucket(*duration, 0.0025), 2u);
  const auto* found = Series("recall_channel_candidates", {{"channel", u2i}});
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(found->histogram.sample_sum, 240);
  EXPECT_EQ(Bucket(*found, 100), 0u);
  EXPECT_EQ(Bucket(*found, 250), 2u);
  const auto* kept =
      Series("recall_channel_kept_candidates", {{"channel", u2i}});
  ASSERT_NE(kept, nullptr);
  EXPECT_DOUBLE_EQ(kept->histogram.sample_sum, 80);
  EXPECT_EQ(Bucket(*kept, 10), 0u);
  EXPECT_EQ(Bucket(*kept, 50), 2u);
  EXPECT_EQ(
      Counter("recall_channel_dropped_by_threshold_total", {{"channel", u2i}}),
      60.0);
  EXPECT_EQ(Counter("recall_channel_excluded_total", {{"channel", u2i}}), 10.0);
  EXPECT_EQ(Counter("recall_channel_truncated_total", {{"channel", u2i}}),
            90.0);
  EXPECT_EQ(Counter("recall_channel_cache_lookups_total",
                    {{"channel", u2i}, {"result", "hit"}}),
            6.0);
  EXPECT_EQ(Counter("recall_channel_cache_lookups_total",
                    {{"channel", u2i}, {"result", "miss"}}),
            2.0);

  // i2i: timed and zero counts observed (bucket le=0), no cache series, and
  // NOT_FOUND is not a failure.
  const auto* i2i_found =
      Series("recall_channel_candidates", {{"channel", i2i}});
  ASSERT_NE(i2i_found, nullptr);
  EXPECT_EQ(Bucket(*i2i_found, 0), 2u);
  EXPECT_EQ(
      Counter("recall_channel_dropped_by_threshold_total", {{"channel", i2i}}),
      0.0);
  EXPECT_EQ(Series("recall_channel_cache_lookups_total",
                   {{"channel", i2i}, {"result", "hit"}}),
            nullptr);
  EXPECT_EQ(Series("recall_channel_cache_lookups_total",
                   {{"channel", i2i}, {"result", "miss"}}),
            nullptr);

  // hot: misses only; its failure counted by code; the only failure series.
  EXPECT_EQ(Series("recall_channel_cache_lookups_total",
                   {{"channel", hot}, {"result", "hit"}}),
            nullptr);
  EXPECT_EQ(Counter("recall_channel_cache_lookups_total",
                    {{"channel", hot}, {"result", "miss"}}),
            4.0);
  EXPECT_EQ(Counter("recall_channel_failures_total",
                    {{"channel", hot}, {"code", "DEADLINE_EXCEEDED"}}),
            2.0);
  EXPECT_EQ(SeriesCount("recall_channel_failures_total"), 1u);
  const auto* hot_duration =
      Series("recall_channel_duration_seconds", {{"channel", hot}});
  ASSERT_NE(hot_duration, nullptr);
  EXPECT_EQ(Bucket(*hot_duration, 0.025), 0u);
  EXPECT_EQ(Bucket(*hot_duration, 0.1), 2u);

  // One series per channel, made once.
  EXPECT_EQ(SeriesCount("recall_channel_duration_seconds"), 3u);
  EXPECT_EQ(SeriesCount("recall_channel_truncated_total"), 3u);
}

TEST_F(ServerMetricsTest, ChannelFailuresAreCountedByCode) {
  const std::string name = "u2i";
  RecallAnswer answer;
  ChannelReport report;
  report.channel = &name;
  report.status = absl::InternalError("index broke");
  answer.channels.push_back(report);
  metrics_.ObserveAnswer(answer);
  answer.channels[0].status = absl::InvalidArgumentError("bad vector");
  metrics_.ObserveAnswer(answer);
  metrics_.ObserveAnswer(answer);
  answer.channels[0].status = absl::OkStatus();
  metrics_.ObserveAnswer(answer);
  Collect();
  EXPECT_EQ(Counter("recall_channel_failures_total",
                    {{"channel", name}, {"code", "INTERNAL"}}),
            1.0);
  EXPECT_EQ(Counter("recall_channel_failures_total",
                    {{"channel", name}, {"code", "INVALID_ARGUMENT"}}),
            2.0);
  EXPECT_EQ(SeriesCount("recall_channel_failures_total"), 2u);
}

TEST_F(ServerMetricsTest, ConcurrentAnswersOnNewChannelsAreAllCounted) {
  constexpr int kThreads = 4;
  constexpr int kAnswers = 200;
  const std::vector<std::string> names = {"a", "b", "c", "d", "e"};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      RecallAnswer answer;
      for (const std::string& name : names) {
        ChannelReport report;
        report.channel = &name;
        report.excluded = 1;
        answer.channels.push_back(report);
      }
      for (int i = 0; i < kAnswers; ++i) metrics_.ObserveAnswer(answer);
    });
  }
  for (std::thread& thread : threads) thread.join();
  Collect();
  EXPECT_EQ(SeriesCount("recall_channel_excluded_total"), names.size());
  for (const std::string& name : names) {
    EXPECT_EQ(Counter("recall_channel_excluded_total", {{"channel", name}}),
              double{kThreads * kAnswers})
        << name;
  }
}

TEST_F(ServerMetricsTest, SnapshotInfoNamesOnlyTheServedVersion) {
  metrics_.SetSnapshot("v1", 1000);
  Collect();
  EXPECT_EQ(Gauge("recall_snapshot_info", {{"version", "v1"}}), 1.0);
  EXPECT_EQ(SeriesCount("recall_snapshot_info"), 1u);
  EXPECT_EQ(Gauge("recall_snapshot_loaded_timestamp_seconds"), 1000.0);

  metrics_.SetSnapshot("v2", 2000.5);
  Collect();
  EXPECT_EQ(Gauge("recall_snapshot_info", {{"version", "v2"}}), 1.0);
  EXPECT_EQ(Series("recall_snapshot_info", {{"version", "v1"}}), nullptr);
  EXPECT_EQ(SeriesCount("recall_snapshot_info"), 1u);
  EXPECT_EQ(Gauge("recall_snapshot_loaded_timestamp_seconds"), 2000.5);

  metrics_.SetSnapshot("v2", 3000);  // the same version loaded again
  Collect();
  EXPECT_EQ(Gauge("recall_snapshot_info", {{"version", "v2"}}), 1.0);
  EXPECT_EQ(SeriesCount("recall_snapshot_info"), 1u);
  EXPECT_EQ(Gauge("recall_snapshot_loaded_timestamp_seconds"), 3000.0);
}

TEST_F(ServerMetricsTest, SnapshotAgeLoadDurationAndReloadFailures) {
  metrics_.SetSnapshotAge(86400);
  metrics_.SetLoadDuration(2.5);
  metrics_.CountReloadFailure();
  metrics_.CountReloadFailure();
  Collect();
  EXPECT_EQ(Gauge("recall_snapshot_age_seconds"), 86400.0);
  EXPECT_EQ(Gauge("recall_snapshot_load_duration_seconds"), 2.5);
  EXPECT_EQ(Counter("recall_snapshot_reload_failures_total"), 2.0);
  metrics_.SetSnapshotAge(10);
  Collect();
  EXPECT_EQ(Gauge("recall_snapshot_age_seconds"), 10.0);
}

TEST_F(ServerMetricsTest, ExpositionHasTypesAndValues) {
  metrics_.ObserveRequest(Method::kRecall, grpc::StatusCode::OK, 0.001);
  metrics_.SetInFlight(2);
  metrics_.SetSnapshot("2024-01-01", 5);
  Collect();
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families_);
  const std::string exposition = text.str();
  EXPECT_THAT(exposition, HasSubstr("# TYPE recall_requests_total counter"));
  EXPECT_THAT(exposition,
              HasSubstr("# TYPE recall_request_duration_seconds histogram"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE recall_requests_in_flight gauge"));
  EXPECT_THAT(exposition, HasSubstr("recall_requests_in_flight 2"));
  EXPECT_THAT(
      exposition,
      HasSubstr("recall_requests_total{code=\"OK\",method=\"Recall\"} 1"));
  EXPECT_THAT(exposition,
              HasSubstr("recall_snapshot_info{version=\"2024-01-01\"} 1"));
  EXPECT_THAT(exposition, Not(HasSubstr("nan")));
}

TEST(GrpcCodeNameTest, CanonicalNames) {
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::CANCELLED), "CANCELLED");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::INVALID_ARGUMENT),
            "INVALID_ARGUMENT");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DEADLINE_EXCEEDED),
            "DEADLINE_EXCEEDED");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED),
            "RESOURCE_EXHAUSTED");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAVAILABLE), "UNAVAILABLE");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
}

TEST(GrpcCodeNameTest, EveryCodeHasADistinctName) {
  std::map<std::string, int> seen;
  for (int c = 0; c < kGrpcCodeCount; ++c) {
    const std::string name = GrpcCodeName(static_cast<grpc::StatusCode>(c));
    EXPECT_FALSE(name.empty()) << c;
    EXPECT_TRUE(seen.emplace(name, c).second)
        << name << " for " << c << " and " << seen[name];
  }
}

// Channels resolved at load time are counted into the same series as
// channels looked up by name; resolving makes no cache series.
TEST_F(ServerMetricsTest, ResolvedChannelsCountIntoTheSameSeries) {
  const std::string cached = "cluster_center_km", plain = "u2i_dssm";
  const ChannelSeriesIndex index = metrics_.ResolveChannels({&cached, &plain});
  EXPECT_EQ(index.size(), 2u);
  RecallAnswer answer;
  ChannelReport report;
  report.channel = &cached;
  report.cache_hits = 3;
  report.cache_misses = 1;
  report.excluded = 2;
  answer.channels.push_back(report);
  report = ChannelReport();
  report.channel = &plain;
  report.truncated = 5;
  answer.channels.push_back(report);
  Collect();
  EXPECT_EQ(Series("recall_channel_cache_lookups_total",
                   {{"channel", cached}, {"result", "hit"}}),
            nullptr);
  metrics_.ObserveAnswer(answer, &index);
  metrics_.ObserveAnswer(answer);  // by name: the same series
  Collect();
  EXPECT_EQ(Counter("recall_channel_cache_lookups_total",
                    {{"channel", cached}, {"result", "hit"}}),
            6.0);
  EXPECT_EQ(Counter("recall_channel_cache_lookups_total",
                    {{"channel", cached}, {"result", "miss"}}),
            2.0);
  EXPECT_EQ(Counter("recall_channel_excluded_total", {{"channel", cached}}),
            4.0);
  EXPECT_EQ(Counter("recall_channel_truncated_total", {{"channel", plain}}),
            10.0);
  EXPECT_EQ(Series("recall_channel_cache_lookups_total",
                   {{"channel", plain}, {"result", "hit"}}),
            nullptr);
}

// Not a test: the cost of counting one answer's metrics (8 channels), printed
// for 1 and 2 threads. Run with --gtest_also_run_disabled_tests
// --gtest_filter='*ObserveAnswerCost*' (docs/PERFORMANCE.md).
TEST(ServerMetricsBench, DISABLED_ObserveAnswerCost) {
  ServerMetrics metrics;
  std::vector<std::string> names;
  for (int i = 0; i < 8; ++i) names.push_back("channel_" + std::to_string(i));
  RecallAnswer answer;
  for (const std::string& name : names) {
    ChannelReport report;
    report.channel = &name;
    report.found = 500;
    report.kept = 100;
    report.latency_us = 300;
    report.dropped_by_threshold = 3;
    report.truncated = 10;
    answer.channels.push_back(report);
  }
  const ChannelSeriesIndex index =
      metrics.ResolveChannels(std::vector<const std::string*>{
          &names[0], &names[1], &names[2], &names[3], &names[4], &names[5],
          &names[6], &names[7]});
  constexpr int kAnswers = 200000;
  for (int threads : {1, 2}) {
    for (const ChannelSeriesIndex* resolved :
         {static_cast<const ChannelSeriesIndex*>(nullptr), &index}) {
      const absl::Time start = absl::Now();
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&] {
          for (int i = 0; i < kAnswers; ++i)
            metrics.ObserveAnswer(answer, resolved);
        });
      }
      for (std::thread& t : pool) t.join();
      const double ns =
          absl::ToDoubleNanoseconds(absl::Now() - start) / kAnswers;
      printf(
          "ObserveAnswer, 8 channels, %d thread(s), %s: %.0f ns per answer "
          "(wall, per thread)\n",
          threads, resolved == nullptr ? "looked up by name" : "resolved", ns);
    }
  }
}

}  // namespace
}  // namespace recall
