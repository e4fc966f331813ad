#include "recall/engine.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1793491200;

// Five items on the unit circle, so every cosine is known by hand:
//   a (1,0)  b (.8,.6)  c (.6,.8)  d (0,1)  e (-1,0)
// Hotness a 1, b 5, c 3, d 10, e 20; e is 5 days old (outside popular's
// 72 h window), the rest are an hour old.
std::shared_ptr<const Snapshot> TinySnapshot() {
  ItemTable items;
  const std::vector<std::pair<std::string, float>> hot = {
      {"a", 1}, {"b", 5}, {"c", 3}, {"d", 10}, {"e", 20}};
  for (const auto& [id, hotness] : hot) {
    Item item;
    item.id = id;
    item.hotness = hotness;
    item.publish_ts = id == "e" ? kNow - 5 * 86400 : kNow - 3600;
    EXPECT_TRUE(items.Add(item).ok());
  }
  v1::Manifest manifest;
  manifest.set_version("tiny");
  manifest.set_reference_time_unix(kNow);
  manifest.mutable_items()->set_count(5);
  v1::SpaceManifest space_manifest;
  space_manifest.set_name("dssm");
  space_manifest.set_dim(2);
  space_manifest.set_count(5);
  space_manifest.set_user_count(2);
  std::vector<Space> spaces;
  spaces.push_back({space_manifest,
                    NewExactIndex(2, {1, 0, .8f, .6f, .6f, .8f, 0, 1, -1, 0})});

  absl::flat_hash_map<std::string, v1::UserRecord> users;
  v1::UserRecord u1;
  v1::UserVector* v = u1.add_vectors();
  v->set_space("dssm");
  v->add_values(1);
  v->add_values(0);
  u1.add_recent_clicks()->set_item_row(2);  // c, newest
  u1.add_recent_clicks()->set_item_row(0);  // a
  users["u1"] = u1;
  v1::UserRecord broken;  // a vector of the wrong dimension
  v = broken.add_vectors();
  v->set_space("dssm");
  v->add_values(1);
  users["broken"] = broken;
  return Snapshot::FromParts(manifest, std::move(items), std::move(spaces),
                             NewInMemoryUserStore(std::move(users)));
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RegisterBuiltinChannels(); }

  std::unique_ptr<RecallEngine> Engine(std::vector<ChannelConfig> channels) {
    auto engine =
        RecallEngine::Create(TinySnapshot(), {.channels = std::move(channels)});
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

  const ChannelConfig u2i_{.name = "u2i_dssm", .kind = "u2i", .space = "dssm"};
  const ChannelConfig i2i_{.name = "i2i_dssm",
                           .kind = "i2i",
                           .space = "dssm",
                           .min_similarity = 0.6f};
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

TEST_F(EngineTest, UnknownUserFallsBackToFreshPopularItems) {
  auto engine = Engine({u2i_});
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall({.user_id = "stranger", .k = 3}, &answer).ok());
  EXPECT_FALSE(answer.user_found);
  // e is the hottest but outside the freshness window.
  EXPECT_THAT(Ids(*engine, answer), ElementsAre("d", "b", "c"));
  EXPECT_FLOAT_EQ(answer.items[0].score, 1.0f);
  EXPECT_FLOAT_EQ(answer.items[1].score, 0.5f);
  ASSERT_EQ(answer.channels.size(), 1u);
  EXPECT_EQ(*answer.channels[0].channel, "popular");
}

TEST_F(EngineTest,
       ThresholdDropsAreCountedAndBackFillScoresBelowEverythingElse) {
  ChannelConfig strict = u2i_;
  strict.min_similarity = 0.5f;
  auto engine = Engine({strict});
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

TEST_F(EngineTest, BadPoliciesAreRefusedByName) {
  auto s = RecallEngine::Create(TinySnapshot(),
                                {.channels = {{.name = "x", .kind = "nope"}}});
  EXPECT_THAT(s.status().message(), HasSubstr("unknown kind \"nope\""));
  s = RecallEngine::Create(
      TinySnapshot(),
      {.channels = {{.name = "y", .kind = "u2i", .space = "title"}}});
  EXPECT_THAT(s.status().message(), HasSubstr("no space \"title\""));
  s = RecallEngine::Create(TinySnapshot(), {.channels = {u2i_, u2i_}});
  EXPECT_THAT(s.status().message(), HasSubstr("duplicate channel"));
}

TEST_F(EngineTest, DefaultPolicyHasU2iAndI2iPerSpace) {
  std::vector<ChannelConfig> policy = DefaultPolicy(*TinySnapshot());
  ASSERT_EQ(policy.size(), 2u);
  EXPECT_EQ(policy[0].name, "u2i_dssm");
  EXPECT_EQ(policy[1].name, "i2i_dssm");
  EXPECT_FLOAT_EQ(policy[1].min_similarity, 0.6f);
}

}  // namespace
}  // namespace recall
