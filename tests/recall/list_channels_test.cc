// item_cf and hot on a four-item snapshot whose lists are written by hand.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recall/channel.h"
#include "recall/engine.h"

namespace recall {
namespace {

constexpr int64_t kNow = 1700000000;

// Items a, b (news), c, d (sports).
std::shared_ptr<const Snapshot> ListSnapshot() {
  ItemTable items;
  for (const char* id : {"a", "b", "c", "d"}) {
    Item item;
    item.id = id;
    item.cat1 = (id[0] < 'c') ? "news" : "sports";
    item.publish_ts = kNow;
    EXPECT_TRUE(items.Add(item).ok());
  }
  v1::Manifest manifest;
  manifest.set_version("lists");
  manifest.set_reference_time_unix(kNow);
  std::vector<NamedLists> lists(2);
  lists[0].manifest.set_name("itemcf");
  lists[0].lists.Add({{1, 0.8f}, {2, 0.2f}});  // a
  lists[0].lists.Add({{0, 0.8f}, {3, 0.5f}});  // b
  lists[0].lists.Add({{3, 0.9f}});             // c
  lists[0].lists.Add({});                      // d
  lists[1].manifest.set_name("hot");
  lists[1].lists = RankedLists(/*named=*/true);
  lists[1].lists.Add("*", {{1, 5}, {0, 3}});
  lists[1].lists.Add("news", {{1, 5}, {0, 3}});
  lists[1].lists.Add("sports", {{3, 2}});

  absl::flat_hash_map<std::string, v1::UserRecord> users;
  v1::UserRecord u1;
  v1::Click* click = u1.add_recent_clicks();  // a, newest
  click->set_item_row(0);
  click->set_ts(kNow);
  click = u1.add_recent_clicks();  // c, a day earlier
  click->set_item_row(2);
  click->set_ts(kNow - 86400);
  for (auto [tag, category, weight] :
       {std::tuple{"t_s", "sports", 0.9f}, {"t_n", "news", 0.5f}}) {
    v1::TagWeight* t = u1.add_tags();
    t->set_tag(tag);
    t->set_category(category);
    t->set_weight(weight);
  }
  users["u1"] = u1;
  users["quiet"] = v1::UserRecord();
  return Snapshot::FromParts(manifest, std::move(items), {},
                             NewInMemoryUserStore(std::move(users)), {}, {},
                             std::move(lists));
}

struct Got {
  std::string id;
  float score;
  std::string via;
};

// Runs channel `config` alone for `user` (and `seeds`).
std::vector<Got> RunAlone(const v1::ChannelPolicy& config,
                          const std::string& user,
                          std::vector<std::string> seeds = {}) {
  RegisterBuiltinChannels();
  EngineOptions options;
  *options.policy.add_channels() = config;
  auto engine = RecallEngine::Create(ListSnapshot(), options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  RecallQuery query;
  query.user_id = user;
  query.seed_item_ids = std::move(seeds);
  query.k = 10;
  query.only_overridden_channels = true;
  query.overrides.push_back({config.name()});
  RecallAnswer answer;
  EXPECT_TRUE((*engine)->Recall(query, &answer).ok());
  std::vector<Got> got;
  for (const RecalledCandidate& c : answer.items) {
    got.push_back({(*engine)->snapshot().items().item(c.row).id, c.score,
                   std::string(c.sources[0].via)});
  }
  return got;
}

v1::ChannelPolicy Channel(const std::string& kind) {
  v1::ChannelPolicy c;
  c.set_name(kind);
  c.set_kind(kind);
  return c;
}

TEST(ItemCfChannelTest, SumsTheClickedItemsListsNormalisedToTheBest) {
  // Sums: d 0.9 (from c), b 0.8 (from a), c 0.2 (from a).
  const std::vector<Got> got = RunAlone(Channel("item_cf"), "u1");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "d");
  EXPECT_FLOAT_EQ(got[0].score, 1.0f);
  EXPECT_EQ(got[0].via, "c");
  EXPECT_EQ(got[1].id, "b");
  EXPECT_NEAR(got[1].score, 0.8 / 0.9, 1e-6);
  EXPECT_EQ(got[1].via, "a");
  EXPECT_EQ(got[2].id, "c");
  EXPECT_NEAR(got[2].score, 0.2 / 0.9, 1e-6);
}

TEST(ItemCfChannelTest, RecencyHalfLifeWeighsOlderSeedsDown) {
  v1::ChannelPolicy config = Channel("item_cf");
  config.set_seed_half_life_hours(24);  // c counts half: d 0.45
  const std::vector<Got> got = RunAlone(config, "u1");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "b");
  EXPECT_EQ(got[1].id, "d");
  EXPECT_NEAR(got[1].score, 0.45 / 0.8, 1e-6);
}

TEST(ItemCfChannelTest, RequestSeedsReplaceTheClicksAndAreExcluded) {
  const std::vector<Got> got = RunAlone(Channel("item_cf"), "", {"b"});
  ASSERT_EQ(got.size(), 2u);  // a and d; b itself is the seed
  EXPECT_EQ(got[0].id, "a");
  EXPECT_EQ(got[1].id, "d");
  EXPECT_NEAR(got[1].score, 0.5 / 0.8, 1e-6);
  EXPECT_TRUE(RunAlone(Channel("item_cf"), "", {"d"}).empty());
}

TEST(HotChannelTest, OverallAndInTheUsersCategories) {
  std::vector<Got> got = RunAlone(Channel("hot"), "quiet");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, "b");
  EXPECT_FLOAT_EQ(got[1].score, 0.6f);
  EXPECT_EQ(got[0].via, "*");

  v1::ChannelPolicy by_category = Channel("hot");
  by_category.set_max_groups(1);  // sports only
  got = RunAlone(by_category, "u1");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "d");
  EXPECT_EQ(got[0].via, "sports");

  by_category.set_max_groups(2);  // news weighs 0.5 / 0.9 of sports
  got = RunAlone(by_category, "u1");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "d");
  EXPECT_EQ(got[1].id, "b");
  EXPECT_NEAR(got[1].score, 0.5 / 0.9, 1e-6);
  EXPECT_NEAR(got[2].score, 0.5 / 0.9 * 0.6, 1e-6);
  // A user without a profile gets nothing by category.
  EXPECT_TRUE(RunAlone(by_category, "quiet").empty());
}

TEST(ListChannelsTest, MissingListsAreAClearError) {
  RegisterBuiltinChannels();
  v1::ChannelPolicy config = Channel("item_cf");
  config.set_lists("nope");
  EngineOptions options;
  *options.policy.add_channels() = config;
  auto engine = RecallEngine::Create(ListSnapshot(), options);
  ASSERT_FALSE(engine.ok());
  EXPECT_THAT(std::string(engine.status().message()),
              ::testing::HasSubstr("no per-item ranked lists \"nope\""));
  // "hot" is named, not per item.
  config.set_lists("hot");
  *options.policy.mutable_channels(0) = config;
  EXPECT_FALSE(RecallEngine::Create(ListSnapshot(), options).ok());
}

TEST(ListChannelsTest, DefaultPolicyUsesThemAndBackfillsFromHot) {
  const v1::Policy policy = DefaultPolicy(*ListSnapshot());
  std::vector<std::string> kinds;
  for (const auto& c : policy.channels()) kinds.push_back(c.kind());
  EXPECT_THAT(kinds, ::testing::ElementsAre("item_cf", "hot"));
  EXPECT_EQ(policy.backfill().kind(), "hot");
}

}  // namespace
}  // namespace recall
