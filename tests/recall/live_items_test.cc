// The live segment (recall/live_items.h) alone, and through the engine: new
// items searchable at once, overrides, takedowns, the bound, the handover
// to a snapshot that contains them, and the real-time state's clicks on
// live items.
#include "recall/live_items.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "recall/engine.h"
#include "recall/realtime_state.h"
#include "tests/recall/tiny_snapshot.h"

namespace recall {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using Outcome = ApplyResult::Outcome;

ItemEvent Upsert(const std::string& id, std::vector<float> dssm,
                 int64_t stream_ms = 1000, float hotness = 1,
                 const std::string& media = "m1") {
  ItemEvent event;
  event.item.id = id;
  event.item.cat1 = "news";
  event.item.media_id = media;
  event.item.publish_ts = kNow + stream_ms / 1000;
  event.item.hotness = hotness;
  if (!dssm.empty()) event.vectors.emplace_back("dssm", std::move(dssm));
  event.stream_ms = stream_ms;
  return event;
}

ItemEvent Delete(const std::string& id) {
  ItemEvent event;
  event.op = ItemEvent::Op::kDelete;
  event.item.id = id;
  event.stream_ms = 5000;
  return event;
}

// A snapshot of `ids` with 2-d dssm vectors, created at `created_s`.
std::shared_ptr<const Snapshot> SmallSnapshot(
    const std::vector<std::pair<std::string, std::vector<float>>>& rows,
    int64_t created_s) {
  ItemTable items;
  std::vector<float> vectors;
  for (const auto& [id, v] : rows) {
    Item item;
    item.id = id;
    item.publish_ts = kNow;
    EXPECT_TRUE(items.Add(item).ok());
    vectors.insert(vectors.end(), v.begin(), v.end());
  }
  v1::Manifest manifest;
  manifest.set_version("small");
  manifest.set_created_at_unix(created_s);
  manifest.set_reference_time_unix(kNow);
  v1::SpaceManifest space;
  space.set_name("dssm");
  space.set_dim(2);
  space.set_count(static_cast<int64_t>(rows.size()));
  std::vector<Space> spaces;
  spaces.push_back({space, *NewExactIndex(2, vectors)});
  return Snapshot::FromParts(manifest, std::move(items), std::move(spaces),
                             NewInMemoryUserStore({}));
}

std::vector<ItemRow> Rows(const std::vector<Neighbor>& neighbors) {
  std::vector<ItemRow> rows;
  for (const Neighbor& n : neighbors) rows.push_back(n.row);
  return rows;
}

class LiveItemsTest : public ::testing::Test {
 protected:
  LiveItemsTest() : live_(Options()) {}

  static LiveItemsOptions Options() {
    LiveItemsOptions options;
    options.max_items = 100;
    options.absorbed_grace = absl::ZeroDuration();
    return options;
  }

  void SetUp() override {
    snapshot_ = TinySnapshot();
    ASSERT_TRUE(live_.SetSnapshot(snapshot_).ok());
  }

  // The snapshot index's best k for `query`, merged with the live segment.
  std::vector<Neighbor> Search(const LiveView& view, std::vector<float> query,
                               int k) {
    const Snapshot& snapshot = *view.binding()->snapshot;
    std::vector<Neighbor> out;
    EXPECT_TRUE(
        snapshot.spaces()[0].index->Search(query.data(), k, {}, &out).ok());
    EXPECT_TRUE(view.MergeSearch("dssm", query.data(), k, &out).ok());
    return out;
  }

  std::shared_ptr<const Snapshot> snapshot_;
  LiveItems live_;
};

TEST_F(LiveItemsTest, ANewItemIsSearchableAtOnceAndFoundById) {
  const ApplyResult result = live_.Apply(Upsert("n1", {0.99f, 0.14f}));
  ASSERT_EQ(result.outcome, Outcome::kUpserted) << result.problem;
  const ItemRow row = live_.FindLive("n1");
  EXPECT_TRUE(IsLiveRow(row));
  const LiveView view = live_.View(*snapshot_);
  EXPECT_EQ(view.Find("n1"), row);
  EXPECT_EQ(view.Find("a"), 0);
  EXPECT_EQ(view.Find("nobody"), kNoItem);
  // a (1.0), n1 (0.99), b (0.8): the live item between snapshot items.
  const std::vector<Neighbor> found = Search(view, {1, 0}, 3);
  EXPECT_THAT(Rows(found), ElementsAre(0, row, 1));
  EXPECT_NEAR(found[1].score, 0.99f / std::hypot(0.99f, 0.14f), 1e-5);
  std::shared_ptr<const LiveItem> pin;
  const Item* item = view.ItemOf(row, &pin);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(item->id, "n1");
  const LiveItems::Stats stats = live_.stats();
  EXPECT_EQ(stats.items, 1);
  ASSERT_EQ(stats.spaces.size(), 1u);
  EXPECT_EQ(stats.spaces[0].items, 1);
  EXPECT_GT(stats.memory_bytes, 0);
}

TEST_F(LiveItemsTest, BadUpsertsAreRefusedWithTheirReasonAndChangeNothing) {
  struct Case {
    ItemEvent event;
    std::string reason;
    std::string message;
  };
  ItemEvent unknown_space = Upsert("x1", {});
  unknown_space.vectors.push_back({"title2vec", {1, 0}});
  ItemEvent bad_field = Upsert("x\t5", {1, 0});
  std::vector<Case> cases = {
      {Upsert("x2", {1, 0, 0}), "dimension", "3 values, the space has 2"},
      {Upsert("x3", {0, 0}), "zero_vector", "zero vector"},
      {Upsert("x4", {NAN, 1}), "not_finite", "not finite"},
      {unknown_space, "unknown_space", "no such space"},
      {bad_field, "field", "tab or newline"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reason);
    const ApplyResult result = live_.Apply(c.event);
    EXPECT_EQ(result.outcome, Outcome::kRefused);
    EXPECT_EQ(result.reason, c.reason);
    EXPECT_THAT(std::string(result.problem.message()), HasSubstr(c.message));
  }
  EXPECT_EQ(live_.stats().items, 0);
  LiveItems unbound(Options());
  EXPECT_EQ(unbound.Apply(Upsert("n1", {1, 0})).reason, "no_snapshot");
}

TEST_F(LiveItemsTest, AnUpsertOfASnapshotItemReplacesItsVectorAndFields) {
  // d is (0, 1) in the snapshot; its new version points at (0.96, 0.28).
  ASSERT_EQ(live_.Apply(Upsert("d", {0.96f, 0.28f}, 1000, 99)).outcome,
            Outcome::kUpserted);
  // Before the binding is published the live hit already replaces the
  // stale one (no duplicate of d).
  EXPECT_THAT(Rows(Search(live_.View(*snapshot_), {1, 0}, 5)),
              ElementsAre(0, 3, 1, 2, 4));
  live_.Publish();
  const LiveView view = live_.View(*snapshot_);
  EXPECT_EQ(view.Find("d"), 3);
  EXPECT_THAT(Rows(Search(view, {1, 0}, 3)), ElementsAre(0, 3, 1));
  std::shared_ptr<const LiveItem> pin;
  EXPECT_EQ(view.ItemOf(3, &pin)->hotness, 99);
  EXPECT_EQ(view.ItemOf(2, &pin)->hotness, 3);  // c: the snapshot's
  EXPECT_EQ(live_.stats().overrides, 1);
}

TEST_F(LiveItemsTest, AReplayedUpsertOlderThanTheSnapshotIsAlreadyInIt) {
  auto snapshot = SmallSnapshot({{"a", {1, 0}}}, /*created_s=*/100);
  ASSERT_TRUE(live_.SetSnapshot(snapshot).ok());
  EXPECT_EQ(live_.Apply(Upsert("a", {0, 1}, /*stream_ms=*/50000)).outcome,
            Outcome::kUnchanged);
  EXPECT_EQ(live_.FindLive("a"), kNoItem);
  EXPECT_EQ(live_.Apply(Upsert("a", {0, 1}, /*stream_ms=*/150000)).outcome,
            Outcome::kUpserted);
}

TEST_F(LiveItemsTest, TakedownsRemoveLiveItemsAndDenySnapshotOnes) {
  ASSERT_EQ(live_.Apply(Upsert("n1", {1, 0})).outcome, Outcome::kUpserted);
  const ItemRow n1 = live_.FindLive("n1");
  ApplyResult result = live_.Apply(Delete("n1"));
  EXPECT_EQ(result.outcome, Outcome::kTakenDown);
  EXPECT_THAT(result.removed, ElementsAre("n1"));
  EXPECT_THAT(result.removed_live_rows, ElementsAre(n1));
  EXPECT_EQ(live_.FindLive("n1"), kNoItem);
  result = live_.Apply(Delete("a"));
  EXPECT_EQ(result.outcome, Outcome::kTakenDown);
  EXPECT_EQ(live_.Apply(Delete("nobody")).outcome, Outcome::kUnknownDelete);
  live_.Publish();
  const LiveView view = live_.View(*snapshot_);
  EXPECT_TRUE(view.Denied(0));
  EXPECT_EQ(view.Find("a"), kNoItem);
  EXPECT_THAT(Rows(Search(view, {1, 0}, 2)), Not(Contains(n1)));
  EXPECT_EQ(live_.stats().denied, 1);
  // Published again, the item is back.
  ASSERT_EQ(live_.Apply(Upsert("a", {1, 0})).outcome, Outcome::kUpserted);
  live_.Publish();
  EXPECT_FALSE(live_.View(*snapshot_).Denied(0));
  EXPECT_EQ(live_.View(*snapshot_).Find("a"), 0);
}

TEST_F(LiveItemsTest, TheBoundEvictsTheOldestByPublishTime) {
  LiveItemsOptions options = Options();
  options.max_items = 2;
  LiveItems live(options);
  ASSERT_TRUE(live.SetSnapshot(snapshot_).ok());
  ASSERT_EQ(live.Apply(Upsert("n2", {1, 0}, 2000)).outcome, Outcome::kUpserted);
  ASSERT_EQ(live.Apply(Upsert("n1", {1, 0}, 1000)).outcome, Outcome::kUpserted);
  const ApplyResult third = live.Apply(Upsert("n3", {1, 0}, 3000));
  EXPECT_EQ(third.outcome, Outcome::kUpserted);
  // n1 was published first; its live row leaves the real-time lists.
  EXPECT_THAT(third.removed, ::testing::IsEmpty());
  EXPECT_EQ(third.removed_live_rows.size(), 1u);
  EXPECT_EQ(live.FindLive("n1"), kNoItem);
  EXPECT_NE(live.FindLive("n2"), kNoItem);
  EXPECT_EQ(live.stats().items, 2);
  EXPECT_EQ(live.stats().evicted, 1);
}

TEST_F(LiveItemsTest, TheSameUpsertTwiceChangesNothing) {
  ASSERT_EQ(live_.Apply(Upsert("n1", {1, 0})).outcome, Outcome::kUpserted);
  const int64_t bytes = live_.stats().memory_bytes;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(live_.Apply(Upsert("n1", {1, 0}, 1000 + i)).outcome,
              Outcome::kUnchanged);
  }
  EXPECT_EQ(live_.stats().items, 1);
  EXPECT_EQ(live_.stats().memory_bytes, bytes);
}

TEST_F(LiveItemsTest, ASnapshotThatContainsALiveItemTakesItOverInOneSwap) {
  ASSERT_EQ(live_.Apply(Upsert("n1", {1, 0}, 1000)).outcome,
            Outcome::kUpserted);
  ASSERT_EQ(live_.Apply(Upsert("b", {0, 1}, 3000)).outcome, Outcome::kUpserted);
  ASSERT_EQ(live_.Apply(Delete("c")).outcome, Outcome::kTakenDown);
  ASSERT_EQ(live_.Apply(Delete("e")).outcome, Outcome::kTakenDown);
  live_.Publish();
  const ItemRow n1 = live_.FindLive("n1");
  // Built at 2 s: it has n1 (upserted at 1 s) but not b's new version (3 s),
  // still has c, no longer has e.
  auto next = SmallSnapshot(
      {{"a", {1, 0}}, {"b", {.8f, .6f}}, {"c", {.6f, .8f}}, {"n1", {1, 0}}},
      /*created_s=*/2);
  ASSERT_TRUE(live_.SetSnapshot(next).ok());
  const LiveView old_view = live_.View(*snapshot_);
  const LiveView new_view = live_.View(*next);
  ASSERT_FALSE(old_view.empty());
  ASSERT_FALSE(new_view.empty());
  // On the old snapshot n1 is live; on the new one it is the snapshot's.
  EXPECT_EQ(old_view.Find("n1"), n1);
  EXPECT_EQ(new_view.Find("n1"), 3);
  std::vector<Neighbor> found = Search(new_view, {1, 0}, 4);
  EXPECT_THAT(Rows(found), ElementsAre(0, 3, 2, 1));  // b moved to (0, 1)
  EXPECT_TRUE(new_view.Denied(2));                    // c still taken down
  EXPECT_EQ(live_.stats().denied, 1);                 // e left the deny set
  // The grace (0 here) passes: n1 leaves the live segment.
  live_.Publish();
  EXPECT_EQ(live_.FindLive("n1"), kNoItem);
  EXPECT_NE(live_.FindLive("b"), kNoItem);
  // Requests on the snapshot before the previous one see no live segment.
  ASSERT_TRUE(live_.SetSnapshot(SmallSnapshot({{"a", {1, 0}}}, 3)).ok());
  EXPECT_FALSE(live_.View(*next).empty());
  EXPECT_TRUE(live_.View(*snapshot_).empty());
}

// The engine reads the live segment: u2i, SimilarItems for a live seed,
// popular, media2vec, takedowns, and a new reader's back-fill from what
// the click stream says is hot now.
class LiveEngineTest : public LiveItemsTest {
 protected:
  static void SetUpTestSuite() { RegisterBuiltinChannels(); }

  std::unique_ptr<RecallEngine> Engine(std::vector<ChannelConfig> channels,
                                       const RealtimeState* realtime = nullptr,
                                       bool backfill_hot_now = false) {
    EngineOptions options;
    for (ChannelConfig& c : channels)
      *options.policy.add_channels() = std::move(c);
    options.policy.set_backfill_from_hot_now(backfill_hot_now);
    options.live = &live_;
    options.realtime = realtime;
    auto engine = RecallEngine::Create(snapshot_, std::move(options));
    EXPECT_TRUE(engine.ok()) << engine.status();
    return std::move(*engine);
  }

  static std::vector<std::string> Ids(const RecallAnswer& answer) {
    std::vector<std::string> ids;
    for (const RecalledCandidate& c : answer.items) ids.push_back(c.item->id);
    return ids;
  }
};

TEST_F(LiveEngineTest, U2iAndSimilarItemsFindALiveItem) {
  auto engine = Engine({Channel("u2i", "u2i", "dssm")});
  ASSERT_EQ(live_.Apply(Upsert("n1", {0.99f, 0.14f})).outcome,
            Outcome::kUpserted);
  RecallQuery query;
  query.user_id = "u1";  // vector (1, 0); seen nothing
  query.k = 3;
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  EXPECT_THAT(Ids(answer), ElementsAre("a", "n1", "b"));
  SimilarItemsQuery similar;
  similar.item_ids = {"n1"};
  similar.spaces = {"dssm"};
  similar.k = 2;
  ASSERT_TRUE(engine->SimilarItems(similar, &answer).ok());
  EXPECT_THAT(Ids(answer), ElementsAre("a", "b"));
  EXPECT_EQ(answer.items[0].sources[0].via, "n1");
}

TEST_F(LiveEngineTest, ATakedownLeavesEveryAnswerAndSeedsNothing) {
  auto engine =
      Engine({Channel("u2i", "u2i", "dssm"), Channel("i2i", "i2i", "dssm")});
  ASSERT_EQ(live_.Apply(Delete("a")).outcome, Outcome::kTakenDown);
  ASSERT_EQ(live_.Apply(Delete("c")).outcome, Outcome::kTakenDown);
  live_.Publish();
  RecallQuery query;
  query.user_id = "u1";  // clicked c (newest) and a: both taken down
  query.k = 5;
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  EXPECT_THAT(Ids(answer), Not(Contains("a")));
  EXPECT_THAT(Ids(answer), Not(Contains("c")));
  for (const ChannelReport& report : answer.channels) {
    if (*report.channel == "i2i") {
      EXPECT_TRUE(absl::IsNotFound(report.status)) << report.status;
    }
  }
  SimilarItemsQuery similar;
  similar.item_ids = {"b"};
  similar.spaces = {"dssm"};
  similar.k = 4;
  similar.min_similarity = -1;
  ASSERT_TRUE(engine->SimilarItems(similar, &answer).ok());
  EXPECT_THAT(Ids(answer), ElementsAre("d", "e"));
}

TEST_F(LiveEngineTest, PopularAndMedia2vecSeeLiveItems) {
  auto engine = Engine({Channel("media", "media2vec")});
  // Hotter than every snapshot item in popular's window but d (10), by m2.
  ASSERT_EQ(live_.Apply(Upsert("hot", {0, 1}, 1000, 8, "m2")).outcome,
            Outcome::kUpserted);
  live_.Publish();
  RecallQuery query;
  query.user_id = "stranger";
  query.k = 2;
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  EXPECT_THAT(Ids(answer), ElementsAre("d", "hot"));
  // u1's newest click c is by m2: m2's live item first, then its own.
  query.user_id = "u1";
  query.k = 10;
  query.overrides = {{.channel = "media"}};
  query.only_overridden_channels = true;
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  EXPECT_THAT(Ids(answer), Contains("hot"));
}

TEST_F(LiveEngineTest, ANewReaderGetsWhatIsHotNowIncludingALiveItem) {
  RealtimeState realtime(RealtimeOptions{}, &live_);
  realtime.SetSnapshot(snapshot_);
  auto engine = Engine({Channel("u2i", "u2i", "dssm")}, &realtime,
                       /*backfill_hot_now=*/true);
  ASSERT_EQ(live_.Apply(Upsert("fresh", {0, 1})).outcome, Outcome::kUpserted);
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(realtime.Add({absl::StrCat("r", i), "fresh", kNow + i}));
  }
  ASSERT_TRUE(realtime.Add({"r0", "e", kNow}));
  realtime.Publish();
  realtime.SetLive(true, "");
  RecallQuery query;
  query.user_id = "brand-new";
  query.k = 3;
  RecallAnswer answer;
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  ASSERT_FALSE(answer.items.empty());
  // fresh, then e (hot now too), then d (the snapshot's popular): the
  // policy's back-fill stays below what is hot now.
  EXPECT_THAT(Ids(answer), ElementsAre("fresh", "e", "d"));
  EXPECT_EQ(*answer.items[0].sources[0].channel, "hot_now_backfill");
  EXPECT_EQ(answer.items[0].sources[0].via, "backfill");
  EXPECT_EQ(*answer.items[1].sources[0].channel, "hot_now_backfill");
  EXPECT_EQ(*answer.items[2].sources[0].channel, "popular");
  EXPECT_LT(answer.items[2].score, answer.items[1].score);
  EXPECT_EQ(answer.backfilled, 3);
  // Taken down, it leaves the real-time lists at once.
  const ApplyResult gone = live_.Apply(Delete("fresh"));
  realtime.Remove(gone.removed, gone.removed_live_rows);
  ASSERT_TRUE(engine->Recall(query, &answer).ok());
  EXPECT_THAT(Ids(answer), Not(Contains("fresh")));
  EXPECT_EQ(answer.channels[0].kept, 1);  // e alone is hot now
}

}  // namespace
}  // namespace recall
