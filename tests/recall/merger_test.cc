// recall/merger.h: Merger (quota, exclusions, dedup across channels,
// back-fill with fill_only, the report's counts) and FeatureWeighting's
// factors, on hand-made channel outputs.
#include "recall/merger.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

constexpr float kNoCap = std::numeric_limits<float>::infinity();
constexpr int64_t kNow = 1700000000;

// A channel that is never run: the merger only reads its name.
class NamedChannel final : public RecallChannel {
 public:
  explicit NamedChannel(const std::string& name)
      : RecallChannel([&] {
          ChannelConfig config;
          config.set_name(name);
          config.set_kind("test");
          return config;
        }()) {}

  bool AppliesTo(const RequestContext&) const override { return true; }
  void Run(const RequestContext&, const ChannelParams&,
           ChannelOutput*) const override {}
};

ChannelParams Params(int quota, float weight = 1.0f) {
  ChannelParams params;
  params.quota = quota;
  params.weight = weight;
  return params;
}

// Candidates for rows with the given similarities, best first; `via` is "v"
// followed by the row.
ChannelOutput Output(std::vector<std::pair<ItemRow, float>> scored) {
  static const std::vector<std::string>* const kVia = [] {
    auto* via = new std::vector<std::string>;
    for (int row = 0; row < 10; ++row)
      via->push_back("v" + std::to_string(row));
    return via;
  }();
  ChannelOutput out;
  for (const auto& [row, similarity] : scored)
    out.candidates.push_back({row, similarity, (*kVia)[row], similarity});
  return out;
}

std::vector<ItemRow> Rows(const RecallAnswer& answer) {
  std::vector<ItemRow> rows;
  for (const RecalledCandidate& item : answer.items) rows.push_back(item.row);
  return rows;
}

class MergerTest : public ::testing::Test {
 protected:
  NamedChannel a_{"a"};
  NamedChannel b_{"b"};
  NamedChannel fill_{"popular"};
  absl::flat_hash_set<ItemRow> excluded_;
  RecallAnswer answer_;
};

TEST_F(MergerTest, KeepsAtMostTheQuotaAndCountsTheRestAsTruncated) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report;
  merger.Add(a_, Params(3), Output({{0, .9f}, {1, .8f}, {2, .7f}, {3, .6f}}),
             /*fill_only=*/false, kNoCap, &report);
  EXPECT_THAT(Rows(answer_), ::testing::ElementsAre(0, 1, 2));
  EXPECT_EQ(report.kept, 3);
  EXPECT_EQ(report.truncated, 1);
  EXPECT_EQ(report.excluded, 0);
  EXPECT_EQ(merger.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(answer_.items[i].sources.size(), 1u);
    const ItemSource& source = answer_.items[i].sources[0];
    EXPECT_EQ(*source.channel, "a");
    EXPECT_EQ(source.rank, i);
    EXPECT_EQ(source.via, "v" + std::to_string(i));
    EXPECT_FLOAT_EQ(source.similarity, answer_.items[i].score);
  }
}

TEST_F(MergerTest, DeniedItemsAreSkippedLikeExcludedOnes) {
  const absl::flat_hash_set<ItemRow> denied = {1};
  excluded_ = {2};
  Merger merger(excluded_, &denied, &answer_);
  ChannelReport report;
  merger.Add(a_, Params(2), Output({{0, .9f}, {1, .8f}, {2, .7f}, {3, .6f}}),
             /*fill_only=*/false, kNoCap, &report);
  EXPECT_THAT(Rows(answer_), ::testing::ElementsAre(0, 3));
  EXPECT_EQ(report.excluded, 2);
  EXPECT_EQ(report.kept, 2);
}

TEST_F(MergerTest, QuotaLargerThanTheOutputTruncatesNothing) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report;
  merger.Add(a_, Params(10), Output({{0, .9f}, {1, .8f}}), false, kNoCap,
             &report);
  EXPECT_EQ(report.kept, 2);
  EXPECT_EQ(report.truncated, 0);
}

TEST_F(MergerTest, ExcludedItemsAreSkippedCountedAndOutsideTheQuota) {
  excluded_ = {1, 4};
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report;
  merger.Add(a_, Params(2),
             Output({{0, .9f}, {1, .8f}, {2, .7f}, {3, .6f}, {4, .5f}}), false,
             kNoCap, &report);
  // 1 is skipped before the quota fills (counted); 4 comes after it (part
  // of the truncated tail, not counted as excluded).
  EXPECT_THAT(Rows(answer_), ::testing::ElementsAre(0, 2));
  EXPECT_EQ(report.kept, 2);
  EXPECT_EQ(report.excluded, 1);
  EXPECT_EQ(report.truncated, 2);
  // Ranks are positions in the channel's own output, exclusions included.
  EXPECT_EQ(answer_.items[1].sources[0].rank, 2);
}

TEST_F(MergerTest, DedupsAcrossChannelsKeepingEverySourceAndSummingScores) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report_a, report_b;
  merger.Add(a_, Params(5, 1.0f), Output({{0, .9f}, {1, .5f}}), false, kNoCap,
             &report_a);
  merger.Add(b_, Params(5, 0.5f), Output({{1, .8f}, {2, .6f}}), false, kNoCap,
             &report_b);
  // First-kept order; 1 appears once, with both sources.
  EXPECT_THAT(Rows(answer_), ::testing::ElementsAre(0, 1, 2));
  EXPECT_EQ(merger.size(), 3u);
  EXPECT_EQ(report_a.kept, 2);
  EXPECT_EQ(report_b.kept, 2);  // a shared item counts toward the quota
  const RecalledCandidate& shared = answer_.items[1];
  EXPECT_FLOAT_EQ(shared.score, 1.0f * .5f + 0.5f * .8f);
  ASSERT_EQ(shared.sources.size(), 2u);
  EXPECT_EQ(*shared.sources[0].channel, "a");
  EXPECT_FLOAT_EQ(shared.sources[0].similarity, .5f);
  EXPECT_EQ(shared.sources[0].rank, 1);
  EXPECT_EQ(*shared.sources[1].channel, "b");
  EXPECT_FLOAT_EQ(shared.sources[1].similarity, .8f);
  EXPECT_EQ(shared.sources[1].rank, 0);
  EXPECT_EQ(shared.sources[1].via, "v1");
  EXPECT_FLOAT_EQ(answer_.items[2].score, 0.5f * .6f);
}

TEST_F(MergerTest, SharedItemsUseUpTheQuota) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report_a, report_b;
  merger.Add(a_, Params(5), Output({{0, .9f}, {1, .8f}}), false, kNoCap,
             &report_a);
  merger.Add(b_, Params(2), Output({{0, .9f}, {1, .8f}, {2, .7f}}), false,
             kNoCap, &report_b);
  EXPECT_THAT(Rows(answer_), ::testing::ElementsAre(0, 1));
  EXPECT_EQ(report_b.kept, 2);
  EXPECT_EQ(report_b.truncated, 1);
}

TEST_F(MergerTest, FillOnlySkipsPresentItemsAndCapsNewScores) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report_a, fill;
  merger.Add(a_, Params(5), Output({{0, .9f}, {1, .4f}}), false, kNoCap,
             &report_a);
  excluded_.insert(3);
  merger.Add(fill_, Params(2, 1.0f),
             Output({{1, 1.0f}, {3, .95f}, {2, .9f}, {4, .3f}, {5, .2f}}),
             /*fill_only=*/true, /*score_cap=*/0.4f, &fill);
  // 1 is present: skipped, counted nowhere; 3 is excluded; 2 and 4 fill the
  // quota of 2; 5 is truncated.
  EXPECT_THAT(Rows(answer_), ::testing::ElementsAre(0, 1, 2, 4));
  EXPECT_EQ(fill.kept, 2);
  EXPECT_EQ(fill.excluded, 1);
  EXPECT_EQ(fill.truncated, 1);
  EXPECT_EQ(merger.size(), 4u);
  // The present item is untouched.
  ASSERT_EQ(answer_.items[1].sources.size(), 1u);
  EXPECT_FLOAT_EQ(answer_.items[1].score, .4f);
  // New items score at most the cap; their sources say "backfill".
  EXPECT_FLOAT_EQ(answer_.items[2].score, 0.4f);  // .9 capped
  EXPECT_FLOAT_EQ(answer_.items[3].score, 0.3f);  // under the cap
  for (int i : {2, 3}) {
    ASSERT_EQ(answer_.items[i].sources.size(), 1u);
    const ItemSource& source = answer_.items[i].sources[0];
    EXPECT_EQ(*source.channel, "popular");
    EXPECT_EQ(source.via, kViaBackfill);
  }
  EXPECT_EQ(answer_.items[2].sources[0].rank, 2);
  EXPECT_FLOAT_EQ(answer_.items[2].sources[0].similarity, .9f);
  EXPECT_EQ(answer_.items[3].sources[0].rank, 3);
}

TEST_F(MergerTest, FillOnlyCapsTheWeightedScore) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport fill;
  merger.Add(fill_, Params(3, 0.5f), Output({{0, 1.0f}, {1, .5f}}), true,
             /*score_cap=*/0.3f, &fill);
  EXPECT_FLOAT_EQ(answer_.items[0].score, 0.3f);   // 0.5 x 1 capped
  EXPECT_FLOAT_EQ(answer_.items[1].score, 0.25f);  // 0.5 x .5
}

TEST_F(MergerTest, AnEmptyOutputKeepsNothing) {
  Merger merger(excluded_, nullptr, &answer_);
  ChannelReport report;
  merger.Add(a_, Params(3), ChannelOutput(), false, kNoCap, &report);
  EXPECT_TRUE(answer_.items.empty());
  EXPECT_EQ(report.kept, 0);
  EXPECT_EQ(report.truncated, 0);
  EXPECT_EQ(report.excluded, 0);
  EXPECT_EQ(merger.size(), 0u);
}

// Items: hot (hotness 10, ctr .5, an hour old), cold (hotness 0, ctr 0, a day
// old), future (hotness 5, published an hour after the reference time).
class FeatureWeightingTest : public ::testing::Test {
 protected:
  FeatureWeightingTest() {
    ItemTable items;
    for (auto [id, hotness, ctr, age_s] :
         {std::tuple{"hot", 10.0f, 0.5f, int64_t{3600}},
          {"cold", 0.0f, 0.0f, int64_t{86400}},
          {"future", 5.0f, 0.0f, int64_t{-3600}}}) {
      Item item;
      item.id = id;
      item.hotness = hotness;
      item.ctr = ctr;
      item.publish_ts = kNow - age_s;
      EXPECT_TRUE(items.Add(item).ok());
    }
    v1::Manifest manifest;
    manifest.set_version("features");
    manifest.set_reference_time_unix(kNow);
    snapshot_ = Snapshot::FromParts(manifest, std::move(items), {},
                                    NewInMemoryUserStore({}));
  }

  const Item& item(const std::string& id) const {
    return snapshot_->items().item(snapshot_->items().Find(id));
  }

  std::shared_ptr<const Snapshot> snapshot_;
};

TEST_F(FeatureWeightingTest, DefaultWeightsLeaveScoresAlone) {
  FeatureWeighting weighting(v1::FeatureWeights(), *snapshot_);
  for (const char* id : {"hot", "cold", "future"})
    EXPECT_EQ(weighting.Factor(item(id)), 1.0f) << id;
}

TEST_F(FeatureWeightingTest, HotnessIsRelativeToTheHottestItem) {
  v1::FeatureWeights weights;
  weights.set_hotness_weight(2);
  FeatureWeighting weighting(weights, *snapshot_);
  EXPECT_FLOAT_EQ(weighting.Factor(item("hot")), 1 + 2 * 10.0f / 10);
  EXPECT_FLOAT_EQ(weighting.Factor(item("future")), 1 + 2 * 5.0f / 10);
  EXPECT_FLOAT_EQ(weighting.Factor(item("cold")), 1);
}

TEST_F(FeatureWeightingTest, HotnessIsIgnoredWhenNoItemIsHot) {
  ItemTable items;
  Item item;
  item.id = "x";
  EXPECT_TRUE(items.Add(item).ok());
  auto snapshot = Snapshot::FromParts(v1::Manifest(), std::move(items), {},
                                      NewInMemoryUserStore({}));
  v1::FeatureWeights weights;
  weights.set_hotness_weight(3);
  FeatureWeighting weighting(weights, *snapshot);
  EXPECT_EQ(weighting.Factor(snapshot->items().item(0)), 1.0f);
}

TEST_F(FeatureWeightingTest, CtrScalesLinearly) {
  v1::FeatureWeights weights;
  weights.set_ctr_weight(0.4f);
  FeatureWeighting weighting(weights, *snapshot_);
  EXPECT_FLOAT_EQ(weighting.Factor(item("hot")), 1 + 0.4f * 0.5f);
  EXPECT_FLOAT_EQ(weighting.Factor(item("cold")), 1);
}

TEST_F(FeatureWeightingTest, FreshnessDecaysTowardsTheFloor) {
  v1::FeatureWeights weights;
  weights.set_freshness_half_life_hours(1);
  weights.set_freshness_floor(0.25f);
  FeatureWeighting weighting(weights, *snapshot_);
  EXPECT_NEAR(weighting.Factor(item("hot")), 0.25 + 0.75 * 0.5, 1e-6);
  EXPECT_NEAR(weighting.Factor(item("cold")), 0.25 + 0.75 * std::exp2(-24.0),
              1e-6);
  // Published after the reference time: age 0, factor 1.
  EXPECT_FLOAT_EQ(weighting.Factor(item("future")), 1);
}

TEST_F(FeatureWeightingTest, FactorsMultiply) {
  v1::FeatureWeights weights;
  weights.set_hotness_weight(1);
  weights.set_ctr_weight(1);
  weights.set_freshness_half_life_hours(2);
  FeatureWeighting weighting(weights, *snapshot_);
  // hot: (1 + 1) x (1 + .5) x 2^(-1 / 2), floor 0.
  EXPECT_NEAR(weighting.Factor(item("hot")), 2 * 1.5 * std::exp2(-0.5), 1e-5);
}

}  // namespace
}  // namespace recall
