#include "pipeline/eval/tune.h"

#include <cmath>
#include <map>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "pipeline/data/gen_world.h"
#include "recall/channel.h"
#include "store/snapshot_files.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

TEST(ParseMetricTest, AcceptsTheThreeMetrics) {
  auto m = ParseMetric("Recall@100");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "recall");
  EXPECT_EQ(m->k, 100);
  EXPECT_EQ(ParseMetric("ndcg@10")->name, "ndcg");
  EXPECT_EQ(ParseMetric("hr@5")->k, 5);
  for (const char* bad : {"recall", "mrr@10", "recall@0", "recall@x", ""})
    EXPECT_FALSE(ParseMetric(bad).ok()) << bad;
}

v1::Policy ThreeChannels() {
  v1::Policy policy;
  for (const char* name : {"a", "b", "c"}) {
    v1::ChannelPolicy* c = policy.add_channels();
    c->set_name(name);
    c->set_kind("u2i");
  }
  return policy;
}

float WeightOf(const v1::ChannelPolicy& c) {
  return c.disabled() ? 0.0f : (c.weight() != 0 ? c.weight() : 1.0f);
}

// A world where the best weights are known: the score peaks at a = 1.5,
// b = 0.2, c off, a's quota 100, hotness 3, freshness half-life 24 h (all
// on the search's grids).
double KnownOptimum(const v1::Policy& p) {
  const std::map<std::string, double> target = {
      {"a", 1.5}, {"b", 0.2}, {"c", 0}};
  double loss = 0;
  for (const v1::ChannelPolicy& c : p.channels()) {
    const double d = WeightOf(c) - target.at(c.name());
    loss += d * d;
  }
  const double h = p.features().hotness_weight() - 3;
  const double q = p.channels(0).quota() - 100.0;  // a's quota: 100
  const double f = p.features().freshness_half_life_hours() - 24;
  return 10 - loss - 0.01 * h * h - 1e-6 * q * q - 1e-6 * f * f;
}

TEST(SearchWeightsTest, FindsTheKnownBestWeights) {
  WeightSearchOptions options;
  options.rounds = 3;
  const WeightSearchResult r =
      SearchWeights(ThreeChannels(), KnownOptimum, options);
  ASSERT_EQ(r.policy.channels_size(), 3);
  EXPECT_FLOAT_EQ(WeightOf(r.policy.channels(0)), 1.5f);
  EXPECT_FLOAT_EQ(WeightOf(r.policy.channels(1)), 0.2f);
  EXPECT_TRUE(r.policy.channels(2).disabled());
  EXPECT_FLOAT_EQ(r.policy.features().hotness_weight(), 3);
  EXPECT_EQ(r.policy.channels(0).quota(), 100);
  EXPECT_EQ(r.policy.channels(1).quota(), 0);  // the score ignores it
  EXPECT_FLOAT_EQ(r.policy.features().freshness_half_life_hours(), 24);
  EXPECT_NEAR(r.score, 10, 1e-9);
  EXPECT_GE(r.score, r.best_single_score);
  EXPECT_GE(r.score, r.start_score);
  EXPECT_EQ(r.best_single, "a");
  EXPECT_GT(r.evaluations, 3);
}

TEST(SearchWeightsTest, NeverReturnsLessThanTheBestSingleChannel) {
  // Any mix scores 0; only "b" alone scores 1.
  auto only_b = [](const v1::Policy& p) {
    int on = 0;
    bool b = false;
    for (const v1::ChannelPolicy& c : p.channels()) {
      if (c.disabled()) continue;
      ++on;
      b = c.name() == "b";
    }
    return on == 1 && b ? 1.0 : 0.0;
  };
  const WeightSearchResult r =
      SearchWeights(ThreeChannels(), only_b, WeightSearchOptions());
  EXPECT_EQ(r.best_single, "b");
  EXPECT_EQ(r.score, 1.0);
  EXPECT_FALSE(r.policy.channels(1).disabled());
  EXPECT_TRUE(r.policy.channels(0).disabled());
}

TEST(SearchWeightsTest, StopsAtTheTimeBudget) {
  WeightSearchOptions options;
  options.max_seconds = 0;
  const WeightSearchResult r =
      SearchWeights(ThreeChannels(), KnownOptimum, options);
  // The start and the channels alone, then nothing.
  EXPECT_EQ(r.evaluations, 4);
}

TEST(TuneTest, FitsAPolicyOnASyntheticWorldAndWritesIt) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("tune");
  GenWorldOptions gen;
  gen.items = 1500;
  gen.users = 300;
  gen.dim = 16;
  ASSERT_TRUE(GenerateWorld(gen, tmp.Path("world")).ok());
  TuneOptions options;
  options.input = tmp.Path("world");
  options.out_policy = tmp.Path("policy.textproto");
  options.work_dir = tmp.Path("work");
  options.last_n = 2;
  options.build.factory = "Flat";
  options.train.spaces = {};  // the generator's vectors are not learnt
  options.threads = 2;
  options.search.rounds = 1;
  options.search.grid = {0, 0.3f, 1};
  options.search.hotness_grid = {0, 1};
  options.search.quota_grid = {0, 50};
  options.search.ctr_grid = {};
  options.search.freshness_grid = {};
  auto report = Tune(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->validation_users, 100);
  EXPECT_GE(report->search.score, report->search.best_single_score);
  EXPECT_GE(report->search.score, report->search.start_score);
  EXPECT_GT(report->search.score, 0.0);

  const std::string text = ReadFile(options.out_policy);
  EXPECT_THAT(text, HasSubstr("# Validation recall@100: start policy"));
  v1::Policy written;
  ASSERT_TRUE(ReadTextProto(options.out_policy, &written).ok());
  EXPECT_EQ(written.channels_size(), report->search.policy.channels_size());

  // Bad input names the stage.
  options.input = tmp.Path("nothing");
  auto missing = Tune(options);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("split"));
}

// On a time split the items published after the cut-off are not in the
// validation snapshot but served as live items: a policy is fitted on what
// a server following the item stream would answer.
TEST(TuneTest, ATimeSplitServesTheNewerItemsAsLiveItems) {
  RegisterBuiltinChannels();
  ScopedTempDir tmp("tune_time");
  GenWorldOptions gen;
  gen.items = 1500;
  gen.users = 300;
  gen.dim = 16;
  gen.extra_spaces = false;
  ASSERT_TRUE(GenerateWorld(gen, tmp.Path("world")).ok());
  TuneOptions options;
  options.input = tmp.Path("world");
  options.out_policy = tmp.Path("policy.textproto");
  options.work_dir = tmp.Path("work");
  options.split = "time";
  options.time_fraction = 0.2;
  options.realtime.click_ttl = absl::Hours(24 * 365);
  options.build.factory = "Flat";
  options.train.spaces = {};
  options.threads = 2;
  options.search.rounds = 1;
  options.search.grid = {0, 1};
  options.search.hotness_grid = {0};
  options.search.quota_grid = {};
  options.search.ctr_grid = {};
  options.search.freshness_grid = {};
  auto report = Tune(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->cutoff_unix, 0);
  EXPECT_GT(report->judged_from_unix, report->cutoff_unix);
  EXPECT_GT(report->live_items, 0);
  EXPECT_GE(report->search.score, report->search.best_single_score);
  EXPECT_GT(report->search.score, 0.0);
  EXPECT_THAT(ReadFile(options.out_policy), HasSubstr("served as live items"));
  // The validation snapshot lacks them; the clicks between the cut-off and
  // the judged ones were the click stream's.
  EXPECT_THAT(ReadFile(tmp.Path("work/new_early/items.tsv")),
              HasSubstr("item_id"));
  EXPECT_THAT(ReadFile(tmp.Path("work/val_stream.tsv")), HasSubstr("\nu0"));
  options.time_fraction = 0.5;
  EXPECT_FALSE(Tune(options).ok());
}

}  // namespace
}  // namespace recall
