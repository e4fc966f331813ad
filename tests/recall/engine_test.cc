#include "recall/engine.h"

#include <limits>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "recall/realtime_state.h"
#include "tests/index/index_test_util.h"
#include "tests/recall/tiny_snapshot.h"
#include "tests/slow_channel.h"

namespace recall {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

ChannelConfig ClusterChannelConfig(const std::string& kind) {
  ChannelConfig c;
  c.set_name(kind);
  c.set_kind(kind);
  c.set_space("dssm");
  c.set_clustering("km");
  return c;
}

// Delegates to an exact index, taking 30 ms per search.
class SlowIndex final : public ForwardingIndex {
 public:
  using ForwardingIndex::ForwardingIndex;
  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return ForwardingIndex::Search(query, k, params, out);
  }
};

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterBuiltinChannels();
    RegisterSlowChannel(absl::Milliseconds(50));  // the deadline tests' clock
  }

  std::unique_ptr<RecallEngine> Engine(std::vector<ChannelConfig> channels,
                                       v1::FeatureWeights features = {}) {
    EngineOptions options;
    for (ChannelConfig& c : channels)
      *options.policy.add_channels() = std::move(c);
    *options.policy.mutable_features() = features;
    auto engine = RecallEngine::Create(TinySnapshot(), std::move(options));
    EXPECT_TRUE(engine.ok()) << engine.status();
    return std::move(engine).value();
  }

  static std::vector<std::string> Ids(const RecallEngine& engine,
                                      const RecallAnswer& answer) {
    std::vector<std::string> ids;
    for (const auto& item : answer.items)
      ids.push_back(engine.snapshot().items().item(item.row).id);
    return ids;
  }

  const ChannelConfig u2i_ = Channel("u2i_dssm", "u2i", "dssm");
  const ChannelConfig i2i_ = Channel("i2i_dssm", "i2i", "dssm", 0.6f);
};

TEST_F(EngineTest, U2iReturnsNearestItemsWithProvenance) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  EXPECT_TRUE(answer.user_found);
  EXPECT_FALSE(answer.partial);
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "b", "c"));
  EXPECT_FLOAT_EQ(answer.items[1].score, 0.8f);
  ASSERT_EQ(answer.items[1].sources.size(), 1u);
  EXPECT_EQ(*answer.items[1].sources[0].channel, "u2i_dssm");
  EXPECT_EQ(answer.items[1].sources[0].rank, 1);
  EXPECT_EQ(answer.items[1].sources[0].via, "user");
  ASSERT_EQ(answer.channels.size(), 1u);
  EXPECT_EQ(answer.channels[0].found, 3);
  EXPECT_EQ(answer.channels[0].kept, 3);
}

TEST_F(EngineTest, ExcludedItemsNeverComeBackAndDoNotShrinkTheAnswer) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(
      engine
          ->Recall({.user_id = "u1", .k = 3, .exclude_item_ids = {"a", "zzz"}},
                   &answer)
          .ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "c", "d"));
}

TEST_F(EngineTest, SeenItemsAreExcluded) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "reader", .k = 2}, &answer).ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("c", "d"));
}

TEST_F(EngineTest, UnknownUserFallsBackToFreshPopularItems) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "stranger", .k = 3}, &answer).ok());
  EXPECT_FALSE(answer.user_found);
  // e is the hottest but outside the freshness window.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("d", "b", "c"));
  EXPECT_FLOAT_EQ(answer.items[0].score, 1.0f);
  EXPECT_FLOAT_EQ(answer.items[1].score, 0.5f);
  EXPECT_EQ(answer.items[0].sources[0].via, "backfill");
  ASSERT_EQ(answer.channels.size(), 1u);
  EXPECT_EQ(*answer.channels[0].channel, "popular");
  EXPECT_EQ(answer.backfilled, 3);
  EXPECT_TRUE(answer.fallback());
}

TEST_F(EngineTest,
       ThresholdDropsAreCountedAndBackFillScoresBelowEverythingElse) {
  auto engine = Engine({Channel("u2i_dssm", "u2i", "dssm", 0.5f)});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 5}, &answer).ok());
  // u2i finds a .. e; d (0) and e (-1) fall under 0.5. Back-fill adds d, the
  // only fresh popular item not found yet, capped at c's 0.6.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "b", "c", "d"));
  ASSERT_EQ(answer.channels.size(), 2u);
  EXPECT_EQ(answer.channels[0].found, 5);
  EXPECT_EQ(answer.channels[0].dropped_by_threshold, 2);
  EXPECT_EQ(answer.channels[0].kept, 3);
  EXPECT_EQ(*answer.channels[1].channel, "popular");
  EXPECT_EQ(answer.channels[1].kept, 1);
  EXPECT_FLOAT_EQ(answer.items[3].score, 0.6f);
  EXPECT_EQ(answer.items[3].sources.size(), 1u);
}

TEST_F(EngineTest, QuotaLimitsWhatAChannelContributes) {
  ChannelConfig u2i = u2i_;
  u2i.set_quota(2);
  auto engine = Engine({u2i});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 4}, &answer).ok());
  // u2i: a, b only; back-fill: d (1.0 capped at b's 0.8), c (0.3).
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "b", "d", "c"));
  EXPECT_EQ(answer.channels[0].kept, 2);
  EXPECT_FLOAT_EQ(answer.items[2].score, 0.8f);
  EXPECT_FLOAT_EQ(answer.items[3].score, 0.3f);
}

TEST_F(EngineTest, CountsWhatWasExcludedTruncatedAndBackFilled) {
  ChannelConfig u2i = u2i_;
  u2i.set_quota(2);
  auto engine = Engine({u2i});
  RecallAnswer answer;
  ASSERT_TRUE(engine
                  ->Recall({.user_id = "u1", .k = 4, .exclude_item_ids = {"a"}},
                           &answer)
                  .ok());
  // u2i fetches k + 1 excluded = 5: a 1, b .8, c .6, d 0, e -1. e is under
  // the threshold (0), a is excluded, b and c fill the quota, d is left out.
  ASSERT_EQ(answer.channels.size(), 2u);
  const ChannelReport& u2i_report = answer.channels[0];
  EXPECT_EQ(u2i_report.found, 5);
  EXPECT_EQ(u2i_report.dropped_by_threshold, 1);
  EXPECT_EQ(u2i_report.excluded, 1);
  EXPECT_EQ(u2i_report.kept, 2);
  EXPECT_EQ(u2i_report.truncated, 1);
  // Back-fill (fresh popular: d, b, c, a) adds d; b and c are there, a is
  // excluded. Three items, none cut at k.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "c", "d"));
  EXPECT_EQ(answer.channels[1].excluded, 1);
  EXPECT_EQ(answer.backfilled, 1);
  EXPECT_FALSE(answer.fallback());
  EXPECT_EQ(answer.truncated, 0);
}

TEST_F(EngineTest, SeedsDriveI2iAndAreExcluded) {
  auto engine = Engine({u2i_, i2i_});
  RecallAnswer answer;
  ASSERT_TRUE(
      engine->Recall({.k = 3, .seed_item_ids = {"c", "unknown"}}, &answer)
          .ok());
  // c . b = .96, c . d = .8, c . a = .6
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "d", "a"));
  EXPECT_EQ(answer.items[0].sources[0].via, "c");
  EXPECT_NEAR(answer.items[0].sources[0].similarity, 0.96f, 1e-6);
}

TEST_F(EngineTest, I2iReadsTheNeighbourTableOnlyWhenItCoversTheSearch) {
  ChannelConfig i2i = i2i_;
  i2i.set_fetch_k(2);
  EngineOptions options;
  *options.policy.add_channels() = i2i;
  auto engine = RecallEngine::Create(TinySnapshot(/*neighbour_table=*/true),
                                     std::move(options));
  ASSERT_TRUE(engine.ok()) << engine.status();
  auto i2i_ids = [&](std::vector<ChannelOverride> overrides, int* hits,
                     int* misses) {
    RecallAnswer answer;
    EXPECT_TRUE((*engine)
                    ->Recall({.user_id = "u1",
                              .k = 5,
                              .overrides = std::move(overrides),
                              .only_overridden_channels = true},
                             &answer)
                    .ok());
    std::vector<std::string> ids;
    for (const auto& item : answer.items)
      ids.push_back((*engine)->snapshot().items().item(item.row).id);
    *hits = answer.channels.at(0).cache_hits;
    *misses = answer.channels.at(0).cache_misses;
    return ids;
  };
  int hits = 0, misses = 0;
  // u1's seeds c and a: the table's lists (c -> e, a -> nothing).
  EXPECT_THAT(i2i_ids({{.channel = "i2i_dssm"}}, &hits, &misses),
              ElementsAre("e"));
  EXPECT_EQ(hits, 2);
  EXPECT_EQ(misses, 0);
  // More than the table keeps, a threshold under its cut, or other search
  // parameters: live searches (b .96 from c, d .8 from c; a's b .8).
  for (const ChannelOverride& o :
       {ChannelOverride{.channel = "i2i_dssm", .fetch_k = 3},
        ChannelOverride{.channel = "i2i_dssm", .min_similarity = 0.4f},
        ChannelOverride{.channel = "i2i_dssm", .ef_search = 64}}) {
    const std::vector<std::string> ids = i2i_ids({o}, &hits, &misses);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], "b");
    EXPECT_THAT(ids, Not(Contains("e")));
    EXPECT_EQ(hits, 0);
    EXPECT_EQ(misses, 2);
  }
  // A smaller fetch_k or a higher threshold still reads the table.
  EXPECT_THAT(i2i_ids({{.channel = "i2i_dssm", .min_similarity = 0.95f}}, &hits,
                      &misses),
              IsEmpty());
  EXPECT_EQ(hits, 2);
}

TEST_F(EngineTest, ItemsFoundByTwoChannelsKeepBothSourcesAndSumScores) {
  auto engine = Engine({u2i_, i2i_});
  RecallAnswer answer;
  // u1's newest clicks c and a seed i2i.
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 2}, &answer).ok());
  ASSERT_EQ(answer.channels.size(), 2u);
  // b: u2i .8 + i2i max(c.b=.96, a.b=.8) = 1.76, first.
  EXPECT_EQ(engine->snapshot().items().item(answer.items[0].row).id, "b");
  EXPECT_NEAR(answer.items[0].score, 1.76f, 1e-5);
  ASSERT_EQ(answer.items[0].sources.size(), 2u);
  EXPECT_EQ(*answer.items[0].sources[0].channel, "i2i_dssm");
  EXPECT_EQ(answer.items[0].sources[0].via, "c");
  EXPECT_EQ(*answer.items[0].sources[1].channel, "u2i_dssm");
  // u2i keeps a and b, i2i keeps b and one more: three merged, one cut at k.
  EXPECT_EQ(answer.channels[0].kept, 2);
  EXPECT_EQ(answer.channels[1].kept, 2);
  EXPECT_EQ(answer.items.size(), 2u);
  EXPECT_EQ(answer.truncated, 1);
}

TEST_F(EngineTest, I2iRecencyWeightedSumFavoursItemsNearRecentSeeds) {
  ChannelConfig i2i = i2i_;
  i2i.set_aggregation(v1::SEED_AGGREGATION_RECENCY_WEIGHTED_SUM);
  auto engine = Engine({i2i});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 4}, &answer).ok());
  // Seeds c (weight 1) and a (a day older: 0.5 at a 24 h half-life).
  // b = (1 x .96 + .5 x .8) / 1.5; d = .8 / 1.5; a = .6 / 1.5; c = .5 x .6
  // / 1.5.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "d", "a", "c"));
  EXPECT_NEAR(answer.items[0].score, (0.96 + 0.4) / 1.5, 1e-5);
  EXPECT_NEAR(answer.items[3].score, 0.3 / 1.5, 1e-5);
  EXPECT_EQ(answer.items[0].sources[0].via, "c");
  // Regression (issue 21): `similarity` is the cosine to the via seed (c . b
  // = .96, not the aggregate .91); `score` is the aggregate the merge used.
  EXPECT_NEAR(answer.items[0].sources[0].similarity, 0.96f, 1e-6);
  EXPECT_NEAR(answer.items[0].sources[0].score, (0.96 + 0.4) / 1.5, 1e-5);
  // d: only c's neighbour (c . d = .8), aggregate .8 / 1.5 = .53, under a
  // 0.6 threshold that the per-seed cosine passed.
  EXPECT_EQ(answer.items[1].sources[0].via, "c");
  EXPECT_NEAR(answer.items[1].sources[0].similarity, 0.8f, 1e-6);
  EXPECT_NEAR(answer.items[1].sources[0].score, 0.8 / 1.5, 1e-5);
}

TEST_F(EngineTest, CrosstagSearchesEachCategoryGroupWithItsQuota) {
  ChannelConfig crosstag = Channel("crosstag", "crosstag", "dssm");
  crosstag.set_group_quota(2);
  auto engine = Engine({crosstag});
  RecallAnswer answer;
  ASSERT_TRUE(engine
                  ->Recall({.user_id = "u1",
                            .k = 4,
                            .overrides = {{.channel = "crosstag"}},
                            .only_overridden_channels = true},
                           &answer)
                  .ok());
  // sports (t_x = (1,0)): a 1, b .8; tech (t_y = (0,1)): d 1, c .8.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "d", "b", "c"));
  EXPECT_EQ(answer.items[0].sources[0].via, "sports");
  EXPECT_EQ(answer.items[1].sources[0].via, "tech");
  // Each group fetches only its quota (2) plus the excluded count (0).
  EXPECT_EQ(answer.channels[0].found, 4);
}

TEST_F(EngineTest, CrosstagSharesTheQuotaAmongGroupsRoundingUp) {
  auto engine = Engine({Channel("crosstag", "crosstag", "dssm")});
  RecallAnswer answer;
  // k = quota = 3 over 2 groups: 2 per group, 4 candidates, the merge keeps 3.
  ASSERT_TRUE(engine
                  ->Recall({.user_id = "u1",
                            .k = 3,
                            .overrides = {{.channel = "crosstag"}},
                            .only_overridden_channels = true},
                           &answer)
                  .ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "d", "b"));
  EXPECT_EQ(answer.channels[0].kept, 3);
}

TEST_F(EngineTest, Media2vecRecallsFreshItemsOfSimilarMedia) {
  auto engine = Engine({Channel("media2vec", "media2vec")});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.k = 5, .seed_item_ids = {"c"}}, &answer).ok());
  // c's media m2 -> m2 (1.0): d (c is the seed); m3 (.6): e; m1 (0): b, a.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("d", "e", "a", "b"));
  EXPECT_EQ(answer.items[0].sources[0].via, "m2");
  EXPECT_NEAR(answer.items[1].sources[0].similarity, 0.6f, 1e-6);
  EXPECT_EQ(answer.items[1].sources[0].via, "m3");
}

TEST_F(EngineTest, FeatureWeightingFollowsTheDocumentedFormula) {
  v1::FeatureWeights features;
  features.set_hotness_weight(1);
  features.set_freshness_half_life_hours(1);
  features.set_freshness_floor(0.5f);
  auto engine = Engine({u2i_}, features);
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 2}, &answer).ok());
  // final = similarity x (1 + hotness / 20) x (0.5 + 0.5 x 2^(-age_h / 1))
  const double a = 1.0 * (1 + 1.0 / 20) * (0.5 + 0.5 * std::exp2(-1.0));
  const double b = 0.8 * (1 + 5.0 / 20) * (0.5 + 0.5 * std::exp2(-0.5));
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "a"));
  EXPECT_NEAR(answer.items[0].score, b, 1e-5);
  EXPECT_NEAR(answer.items[1].score, a, 1e-5);
}

TEST_F(EngineTest, OverridesAreAppliedClampedAndReported) {
  auto engine = Engine({u2i_, i2i_});
  RecallAnswer answer;
  RecallQuery query{.user_id = "u1", .k = 2};
  query.overrides = {
      {.channel = "u2i_dssm", .min_similarity = 2.0f, .fetch_k = 9000},
      {.channel = "i2i_dssm", .enabled = false}};
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  ASSERT_EQ(answer.channels.size(), 2u);  // u2i, then back-fill; i2i disabled
  EXPECT_EQ(*answer.channels[0].channel, "u2i_dssm");
  EXPECT_EQ(answer.channels[0].clamped,
            "fetch_k 9000 -> 5000; min_similarity 2 -> 1");
  EXPECT_EQ(answer.channels[0].kept, 1);  // only a has similarity 1
  EXPECT_EQ(*answer.channels[1].channel, "popular");

  query.overrides = {{.channel = "nope"}};
  absl::Status s = engine->Recall(query, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("channel_overrides[0].channel"));
}

TEST_F(EngineTest,
       OnlyOverriddenChannelsRunAloneEvenWhenThePolicyDisablesThem) {
  ChannelConfig off = i2i_;
  off.set_disabled(true);
  auto engine = Engine({u2i_, off});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 2}, &answer).ok());
  ASSERT_EQ(answer.channels.size(), 1u);  // i2i off by policy
  ASSERT_TRUE(engine
                  ->Recall({.user_id = "u1",
                            .k = 2,
                            .overrides = {{.channel = "i2i_dssm"}},
                            .only_overridden_channels = true},
                           &answer)
                  .ok());
  ASSERT_EQ(answer.channels.size(), 1u);
  EXPECT_EQ(*answer.channels[0].channel, "i2i_dssm");
}

TEST_F(EngineTest, DeadlineCutsOffLaterChannelsWithAPartialAnswer) {
  auto engine = Engine({Channel("slow", "slow"), u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine
                  ->Recall({.user_id = "u1",
                            .k = 2,
                            .deadline = absl::Now() + absl::Milliseconds(20)},
                           &answer)
                  .ok());
  EXPECT_TRUE(answer.partial);
  ASSERT_GE(answer.channels.size(), 2u);
  EXPECT_TRUE(answer.channels[0].status.ok());
  EXPECT_EQ(answer.channels[1].status.code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(EngineTest, AChannelCutShortByTheDeadlineKeepsWhatItFound) {
  // i2i over a space whose searches take 30 ms, seeded by c then a; a 20 ms
  // deadline lets the first search start and stops the channel before the
  // second.
  auto tiny = TinySnapshot();
  std::vector<Space> spaces;
  v1::SpaceManifest slow_space = tiny->spaces()[0].manifest;
  slow_space.set_name("slow");
  spaces.push_back(
      {slow_space, std::make_unique<SlowIndex>(*NewExactIndex(
                       2, {1, 0, .8f, .6f, .6f, .8f, 0, 1, -1, 0}))});
  ItemTable items;
  for (const Item& item : tiny->items().items())
    ASSERT_TRUE(items.Add(item).ok());
  v1::UserRecord u1;
  ASSERT_TRUE(*tiny->users().Get("u1", &u1));
  absl::flat_hash_map<std::string, v1::UserRecord> users = {{"u1", u1}};
  auto snapshot =
      Snapshot::FromParts(tiny->manifest(), std::move(items), std::move(spaces),
                          NewInMemoryUserStore(std::move(users)));
  EngineOptions options;
  *options.policy.add_channels() = Channel("i2i_slow", "i2i", "slow", 0.6f);
  auto engine = RecallEngine::Create(snapshot, options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  RecallAnswer answer;
  ASSERT_TRUE((*engine)
                  ->Recall({.user_id = "u1",
                            .k = 3,
                            .overrides = {{.channel = "i2i_slow"}},
                            .only_overridden_channels = true,
                            .deadline = absl::Now() + absl::Milliseconds(20)},
                           &answer)
                  .ok());
  EXPECT_TRUE(answer.partial);
  ASSERT_EQ(answer.channels.size(), 1u);
  EXPECT_EQ(answer.channels[0].status.code(),
            absl::StatusCode::kDeadlineExceeded);
  // Only seed c was searched (k + 1 neighbours, itself removed): b .96,
  // d .8, a .6.
  EXPECT_EQ(answer.channels[0].found, 3);
  EXPECT_THAT(Ids(**engine, answer), ElementsAre("b", "d", "a"));
}

TEST_F(EngineTest, AFailingChannelGivesAPartialAnswer) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "broken", .k = 2}, &answer).ok());
  EXPECT_TRUE(answer.partial);
  EXPECT_EQ(answer.channels[0].status.code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(answer.channels[0].status.message(), HasSubstr("dim 1"));
  EXPECT_THAT(Ids(*engine, answer),
              ElementsAre("d", "b"));  // back-fill still answers
}

TEST_F(EngineTest, InvalidRequestsNameTheField) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  absl::Status s = engine->Recall({.user_id = "u1", .k = 0}, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("k:"));
  s = engine->Recall({.user_id = "u1", .k = 2001}, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("2000"));
  s = engine->Recall({.k = 10}, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("user_id"));
  s = engine->Recall(
      {.user_id = "u1", .k = 1, .deadline = absl::Now() - absl::Seconds(1)},
      &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
}

// Issue 11.6: NaN passes every comparison, so clamping let it through and
// poisoned every score (or switched the threshold off).
TEST_F(EngineTest, NonFiniteOverridesAreRefusedNamingTheField) {
  auto engine = Engine({u2i_, i2i_});
  RecallAnswer answer;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (float bad : {nan, inf, -inf}) {
    RecallQuery query{.user_id = "u1", .k = 2};
    query.overrides = {{.channel = "i2i_dssm", .weight = bad}};
    absl::Status s = engine->Recall(query, &answer);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("channel_overrides[0].weight"));
    query.overrides = {{.channel = "u2i_dssm"},
                       {.channel = "i2i_dssm", .min_similarity = bad}};
    s = engine->Recall(query, &answer);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("channel_overrides[1].min_similarity"));
    SimilarItemsQuery similar{.item_ids = {"a"}, .k = 2};
    similar.min_similarity = bad;
    s = engine->SimilarItems(similar, &answer);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.message(), HasSubstr("min_similarity"));
  }
}

// Issue 11.8: request fields that multiply the work are bounded, and
// repeats are searched once.
TEST_F(EngineTest, OversizedAndRepeatedRequestFieldsAreBounded) {
  auto engine = Engine({u2i_, i2i_});
  RecallAnswer answer;
  RecallQuery query{.user_id = "u1", .k = 2};
  query.seed_item_ids.assign(101, "a");
  absl::Status s = engine->Recall(query, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("seed_item_ids: at most 100"));
  query.seed_item_ids.clear();
  query.exclude_item_ids.assign(10001, "b");
  s = engine->Recall(query, &answer);
  EXPECT_THAT(s.message(), HasSubstr("exclude_item_ids: at most 10000"));
  query.exclude_item_ids.clear();
  query.overrides.assign(65, {.channel = "u2i_dssm"});
  s = engine->Recall(query, &answer);
  EXPECT_THAT(s.message(), HasSubstr("channel_overrides: at most 64"));
  query.overrides.clear();
  query.user_id = std::string(20 << 20, 'x');  // 20 MB: not echoed whole
  s = engine->Recall(query, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("user_id: ids are at most 1024 bytes"));
  EXPECT_LT(s.message().size(), 200u);

  // Ten copies of one seed search once: the same answer and the same work
  // as one copy.
  RecallAnswer once, repeated;
  RecallQuery one_seed{.k = 3, .seed_item_ids = {"a"}};
  RecallQuery ten_seeds{.k = 3,
                        .seed_item_ids = std::vector<std::string>(10, "a")};
  ASSERT_TRUE(engine->Recall(one_seed, &once).ok());
  ASSERT_TRUE(engine->Recall(ten_seeds, &repeated).ok());
  EXPECT_EQ(Ids(*engine, repeated), Ids(*engine, once));
  EXPECT_EQ(repeated.channels[0].found, once.channels[0].found);
  // A space named 1000 times is one channel in the answer.
  SimilarItemsQuery similar{.item_ids = {"a"}, .k = 3};
  similar.spaces.assign(1000, "dssm");
  ASSERT_TRUE(engine->SimilarItems(similar, &answer).ok());
  EXPECT_EQ(answer.channels.size(), 1u);
}

TEST_F(EngineTest, BadPoliciesAreRefusedByName) {
  auto create = [](std::vector<ChannelConfig> channels) {
    EngineOptions options;
    for (ChannelConfig& c : channels) *options.policy.add_channels() = c;
    return RecallEngine::Create(TinySnapshot(), options).status();
  };
  EXPECT_THAT(create({Channel("x", "nope")}).message(),
              HasSubstr("unknown kind \"nope\""));
  EXPECT_THAT(create({Channel("y", "u2i", "title")}).message(),
              HasSubstr("no space \"title\""));
  EXPECT_THAT(create({u2i_, u2i_}).message(), HasSubstr("duplicate channel"));
}

TEST_F(EngineTest, DefaultPolicyCoversEverySpaceAndTable) {
  v1::Policy policy = DefaultPolicy(*TinySnapshot());
  std::vector<std::string> names;
  for (const auto& c : policy.channels()) names.push_back(c.name());
  EXPECT_THAT(names, ElementsAre("u2i_dssm", "i2i_dssm", "media2vec"));
  EXPECT_FLOAT_EQ(policy.channels(1).min_similarity(), 0.6f);
  EXPECT_EQ(policy.channels(1).fetch_k(), 1000);
  EXPECT_EQ(policy.backfill().kind(), "popular");
}

TEST_F(EngineTest, ClusterCenterAssignsNewUsersAndCachesPerCluster) {
  auto engine = Engine({ClusterChannelConfig("cluster_center")});
  RecallAnswer answer;
  // u1 has no stored membership: its dssm vector (1,0) is nearest c0.
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "b", "c"));
  EXPECT_EQ(answer.items[0].sources[0].via, "km/0/c0 (assigned)");
  EXPECT_EQ(answer.channels[0].cache_misses, 1);
  EXPECT_EQ(answer.channels[0].cache_hits, 0);
  // Same cluster, same parameters: answered from the cache.
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("a", "b", "c"));
  EXPECT_EQ(answer.channels[0].cache_hits, 1);
  EXPECT_EQ(answer.channels[0].cache_misses, 0);
  // reader is a stored member of c1 (centre (0,1)); a and b are seen.
  ASSERT_TRUE(engine->Recall({.user_id = "reader", .k = 2}, &answer).ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("d", "c"));
  EXPECT_EQ(answer.items[0].sources[0].via, "km/1/c1");
  // A new snapshot means a new engine and an empty cache.
  auto fresh = Engine({ClusterChannelConfig("cluster_center")});
  ASSERT_TRUE(fresh->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  EXPECT_EQ(answer.channels[0].cache_misses, 1);
}

TEST_F(EngineTest, ClusterCfRecallsWhatTheClusterClicked) {
  auto engine = Engine({ClusterChannelConfig("cluster_cf")});
  RecallAnswer answer;
  ASSERT_TRUE(
      engine
          ->Recall({.user_id = "u1", .k = 2, .only_overridden_channels = false},
                   &answer)
          .ok());
  // c0's members clicked b 3 times, a once: similarity = count / top count.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "a"));
  EXPECT_FLOAT_EQ(answer.items[1].sources[0].similarity, 1.0f / 3);
  ASSERT_TRUE(engine->Recall({.user_id = "reader", .k = 2}, &answer).ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("d", "c"));
  EXPECT_EQ(answer.items[0].sources[0].via, "km/1/c1");
}

TEST_F(EngineTest, ClusterProfileSearchesTheClustersTagProfile) {
  auto engine = Engine({ClusterChannelConfig("cluster_profile")});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "reader", .k = 2}, &answer).ok());
  // c1's profile is t_y = (0,1): d 1, c .8 (b .6 and a 0 would follow).
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("d", "c"));
  EXPECT_EQ(answer.items[0].sources[0].via, "km/1/c1");
  EXPECT_FLOAT_EQ(answer.items[0].sources[0].similarity, 1.0f);
}

TEST_F(EngineTest, ClusterChannelsCheckTheirClustering) {
  EngineOptions options;
  ChannelConfig wrong = ClusterChannelConfig("cluster_center");
  wrong.set_clustering("nope");
  *options.policy.add_channels() = wrong;
  EXPECT_THAT(RecallEngine::Create(TinySnapshot(), options).status().message(),
              HasSubstr("no clustering \"nope\""));
}

TEST_F(EngineTest, SimilarItemsSearchesTheRequestedSpacesWithoutBackfill) {
  auto engine = Engine({u2i_, i2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->SimilarItems({.item_ids = {"c"}, .k = 5}, &answer).ok());
  // Policy's i2i threshold 0.6: b .96, d .8, a .6; e (-.6) dropped; no
  // back-fill even though fewer than k.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "d", "a"));
  ASSERT_EQ(answer.channels.size(), 1u);
  EXPECT_EQ(*answer.channels[0].channel, "similar_dssm");
  EXPECT_EQ(answer.channels[0].dropped_by_threshold, 1);
  EXPECT_EQ(answer.items[0].sources[0].via, "c");

  ASSERT_TRUE(engine
                  ->SimilarItems({.item_ids = {"c"},
                                  .spaces = {"dssm"},
                                  .k = 5,
                                  .min_similarity = 0.9f},
                                 &answer)
                  .ok());
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b"));

  absl::Status s = engine->SimilarItems(
      {.item_ids = {"c"}, .spaces = {"title"}, .k = 5}, &answer);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("spaces[0]"));
  EXPECT_EQ(engine->SimilarItems({.k = 5}, &answer).code(),
            absl::StatusCode::kInvalidArgument);
}

// The click stream's state (recall/realtime_state.h) as the engine reads it.
class RealtimeEngineTest : public EngineTest {
 protected:
  RealtimeEngineTest() : snapshot_(TinySnapshot()), state_(RealtimeOptions{}) {
    state_.SetSnapshot(snapshot_);
  }

  std::unique_ptr<RecallEngine> RealtimeEngine(
      std::vector<ChannelConfig> channels) {
    EngineOptions options;
    options.realtime = &state_;
    for (ChannelConfig& c : channels)
      *options.policy.add_channels() = std::move(c);
    auto engine = RecallEngine::Create(snapshot_, std::move(options));
    EXPECT_TRUE(engine.ok()) << engine.status();
    return std::move(engine).value();
  }

  void Click(const std::string& user, const std::string& item, int64_t ts) {
    ASSERT_TRUE(state_.Add({user, item, ts}));
  }

  static bool HasSource(const RecallAnswer& answer, absl::string_view channel,
                        absl::string_view via) {
    for (const RecalledCandidate& c : answer.items) {
      for (const ItemSource& s : c.sources) {
        if (*s.channel == channel && s.via == via) return true;
      }
    }
    return false;
  }

  std::shared_ptr<const Snapshot> snapshot_;
  RealtimeState state_;
};

TEST_F(RealtimeEngineTest, FreshClicksSeedI2iAheadOfTheSnapshotsAndAreSeen) {
  auto engine = RealtimeEngine({i2i_});
  Click("u1", "d", kNow + 60);
  state_.Publish();
  RecallAnswer answer;
  // Not live yet (the consumer has not caught up): snapshot clicks only.
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  EXPECT_FALSE(HasSource(answer, "i2i_dssm", "d"));
  EXPECT_THAT(Ids(*engine, answer), ::testing::Contains("d"));

  state_.SetLive(true, "");
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  // d (0,1) finds c (.8); the fresh click is a seen item now.
  EXPECT_TRUE(HasSource(answer, "i2i_dssm", "d"));
  EXPECT_THAT(Ids(*engine, answer), ::testing::Not(::testing::Contains("d")));
  ASSERT_GE(answer.user.recent_clicks_size(), 3);
  EXPECT_EQ(answer.user.recent_clicks(0).item_row(), 3u);  // d, newest
  EXPECT_EQ(answer.user.recent_clicks(1).item_row(), 2u);  // c
}

TEST_F(RealtimeEngineTest, AUserOnlyTheStreamKnowsIsSeededByTheirClicks) {
  auto engine = RealtimeEngine({i2i_});
  Click("newcomer", "a", kNow);
  state_.Publish();
  state_.SetLive(true, "");
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "newcomer", .k = 2}, &answer).ok());
  EXPECT_FALSE(answer.user_found);
  EXPECT_TRUE(HasSource(answer, "i2i_dssm", "a"));
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("b", "c"));
}

TEST_F(RealtimeEngineTest, ClusterCfNowAndHotNowReadTheStreamsCounts) {
  ChannelConfig hot_now = Channel("hot_now", "hot_now");
  auto engine =
      RealtimeEngine({ClusterChannelConfig("cluster_cf_now"), hot_now});
  // reader is in km's cluster 1 (stored membership); broken in none.
  Click("reader", "e", kNow);
  Click("reader", "c", kNow);
  Click("broken", "e", kNow);
  state_.Publish();
  state_.SetLive(true, "");
  RecallAnswer answer;
  // The cluster's fresh clicks are reader's own, seen now: found, excluded.
  ASSERT_TRUE(engine->Recall({.user_id = "reader", .k = 5}, &answer).ok());
  ASSERT_EQ(*answer.channels[0].channel, "cluster_cf_now");
  EXPECT_EQ(answer.channels[0].found, 2);
  EXPECT_EQ(answer.channels[0].excluded, 2);
  // For u1, e (two clicks) leads hot_now with similarity 1, c follows at .5.
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 5}, &answer).ok());
  EXPECT_TRUE(HasSource(answer, "hot_now", "*"));
  std::vector<std::pair<std::string, float>> hot;
  for (const RecalledCandidate& c : answer.items) {
    for (const ItemSource& s : c.sources) {
      if (*s.channel == "hot_now")
        hot.emplace_back(engine->snapshot().items().item(c.row).id,
                         s.similarity);
    }
  }
  EXPECT_THAT(hot, ElementsAre(std::pair<std::string, float>{"e", 1.0f},
                               std::pair<std::string, float>{"c", 0.5f}));
}

TEST_F(RealtimeEngineTest, RealtimeChannelsSayWhyWhenTheStreamIsDown) {
  auto engine = RealtimeEngine({Channel("hot_now", "hot_now"), u2i_});
  state_.SetLive(false, "click stream down (connection refused)");
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  ASSERT_EQ(answer.channels.size(), 2u);
  EXPECT_EQ(answer.channels[0].status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(answer.channels[0].status.message(),
              HasSubstr("click stream down (connection refused): snapshot "
                        "signals only"));
  EXPECT_FALSE(answer.partial);  // snapshot signals still answer
  EXPECT_EQ(answer.items.size(), 3u);

  // Live, but mapped to a newer snapshot than this engine's.
  state_.SetSnapshot(TinySnapshot());
  state_.SetLive(true, "");
  ASSERT_TRUE(engine->Recall({.user_id = "u1", .k = 3}, &answer).ok());
  EXPECT_THAT(answer.channels[0].status.message(),
              HasSubstr("has not caught up with this snapshot"));
}

TEST_F(EngineTest, RealtimeChannelsStayOutOfAnswersOfServersWithoutAStream) {
  auto engine = Engine({Channel("hot_now", "hot_now"),
                        ClusterChannelConfig("cluster_cf_now"), u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "reader", .k = 3}, &answer).ok());
  for (const ChannelReport& report : answer.channels)
    EXPECT_THAT(*report.channel, ::testing::Not(HasSubstr("now")));
}

// PlanSize must agree with what Recall runs: the server decides by it
// whether a request is cheap enough to answer on gRPC's thread.
TEST_F(EngineTest, PlanSizeCountsTheChannelsRecallWouldRun) {
  ChannelConfig off = Channel("u2i_off", "u2i", "dssm");
  off.set_disabled(true);
  auto engine = Engine({u2i_, i2i_, off});
  struct Case {
    std::vector<ChannelOverride> overrides;
    bool only_overridden;
    int size;
  };
  const Case cases[] = {
      {{}, false, 2},  // u2i and i2i; u2i_off off by policy
      {{{.channel = "i2i_dssm", .enabled = false}}, false, 1},
      {{{.channel = "u2i_off", .enabled = true}}, false, 3},
      {{{.channel = "u2i_dssm"}}, true, 1},
      {{{.channel = "u2i_off"}}, true, 1},  // named alone: turned on
      {{{.channel = "u2i_off", .enabled = false}}, true, 0},
      {{{.channel = "u2i_dssm", .enabled = false}, {.channel = "u2i_dssm"}},
       true,
       1},  // overrides apply in order
      {{{.channel = "i2i_dssm"}, {.channel = "u2i_dssm", .fetch_k = 7}},
       true,
       2},
  };
  for (const Case& c : cases) {
    RecallQuery query{.user_id = "u1",
                      .k = 3,
                      .overrides = c.overrides,
                      .only_overridden_channels = c.only_overridden};
    SCOPED_TRACE(testing::Message() << "expected " << c.size);
    EXPECT_EQ(engine->PlanSize(query), c.size);
    RecallAnswer answer;
    ASSERT_TRUE(engine->Recall(query, &answer).ok());
    int ran = 0;  // not counting the back-fill
    for (const ChannelReport& report : answer.channels)
      ran += *report.channel != "popular";
    EXPECT_EQ(ran, c.size);
  }
  // Not validated: an unknown channel is skipped (Recall refuses it).
  RecallQuery unknown{
      .user_id = "u1", .k = 3, .overrides = {{.channel = "nope"}}};
  EXPECT_EQ(engine->PlanSize(unknown), 2);
  RecallAnswer answer;
  EXPECT_EQ(engine->Recall(unknown, &answer).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, PlanSizeOfSimilarItemsCountsTheSpacesSearched) {
  auto engine = Engine({u2i_, i2i_});
  auto ran = [&](const SimilarItemsQuery& query) {
    RecallAnswer answer;
    EXPECT_TRUE(engine->SimilarItems(query, &answer).ok());
    return static_cast<int>(answer.channels.size());
  };
  const SimilarItemsQuery policy_spaces{.item_ids = {"c"}, .k = 3};
  EXPECT_EQ(engine->PlanSize(policy_spaces), 1);
  EXPECT_EQ(ran(policy_spaces), 1);
  const SimilarItemsQuery repeated{
      .item_ids = {"c"}, .spaces = {"dssm", "dssm"}, .k = 3};
  EXPECT_EQ(engine->PlanSize(repeated), 1);
  EXPECT_EQ(ran(repeated), 1);
  EXPECT_EQ(engine->PlanSize(SimilarItemsQuery{
                .item_ids = {"c"}, .spaces = {"dssm", "title"}, .k = 3}),
            0);  // refused by SimilarItems

  // Without an i2i channel in the policy, only named spaces are searched.
  auto no_i2i = Engine({u2i_});
  EXPECT_EQ(no_i2i->PlanSize(policy_spaces), 0);
  EXPECT_EQ(no_i2i->PlanSize(SimilarItemsQuery{
                .item_ids = {"c"}, .spaces = {"dssm"}, .k = 3}),
            1);
}

}  // namespace
}  // namespace recall
