// RealtimeState on small in-memory snapshots built with Snapshot::FromParts.
#include "recall/realtime_state.h"

#include <malloc.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr int64_t kNow = 1793491200;
constexpr int64_t kHour = 3600;

struct ItemSpec {
  std::string id;
  std::string cat1;
};

// A user clustering "c" (kind "rules", stored memberships only) with one
// cluster per label.
Clustering RulesClustering(const std::vector<std::string>& labels) {
  Clustering clustering;
  clustering.manifest.mutable_spec()->set_name("c");
  clustering.manifest.mutable_spec()->set_kind("rules");
  clustering.manifest.set_k(static_cast<int32_t>(labels.size()));
  for (size_t i = 0; i < labels.size(); ++i) {
    v1::Cluster* cluster = clustering.table.add_clusters();
    cluster->set_id(static_cast<int32_t>(i));
    cluster->set_label(labels[i]);
  }
  IndexClustering(&clustering);
  return clustering;
}

// Items in row order; users "m1" and "m2" are stored members of clusters 1
// and 2 of clustering "c" (when `labels` is not empty; their labels).
std::shared_ptr<const Snapshot> MakeSnapshot(
    const std::vector<ItemSpec>& specs,
    const std::vector<std::string>& labels = {"l0", "l1", "l2"}) {
  ItemTable items;
  for (const ItemSpec& spec : specs) {
    Item item;
    item.id = spec.id;
    item.cat1 = spec.cat1;
    item.publish_ts = kNow - kHour;
    EXPECT_TRUE(items.Add(item).ok());
  }
  v1::Manifest manifest;
  manifest.set_version("rt");
  manifest.set_reference_time_unix(kNow);
  manifest.mutable_items()->set_count(items.size());
  std::vector<Clustering> clusterings;
  absl::flat_hash_map<std::string, v1::UserRecord> users;
  if (!labels.empty()) {
    clusterings.push_back(RulesClustering(labels));
    // The manifest describes the parts.
    *manifest.add_clusterings() = clusterings.back().manifest;
    for (int cluster : {1, 2}) {
      v1::UserRecord member;
      v1::ClusterMembership* membership = member.add_clusters();
      membership->set_clustering("c");
      membership->set_cluster(cluster);
      membership->set_weight(1);
      users[absl::StrCat("m", cluster)] = member;
    }
  }
  return Snapshot::FromParts(manifest, std::move(items), {},
                             NewInMemoryUserStore(std::move(users)), {},
                             std::move(clusterings));
}

// a, b (news), c, d (sports).
std::shared_ptr<const Snapshot> FourItems() {
  return MakeSnapshot(
      {{"a", "news"}, {"b", "news"}, {"c", "sports"}, {"d", "sports"}});
}

RealtimeOptions Options() {
  RealtimeOptions options;
  options.clicks_per_user = 20;
  options.click_ttl = absl::Hours(6);
  options.max_users = 1000;
  options.items_per_list = 100;
  options.half_life = absl::Hours(2);
  return options;
}

// The state mapped to `snapshot` and live.
std::unique_ptr<RealtimeState> LiveState(
    const std::shared_ptr<const Snapshot>& snapshot,
    RealtimeOptions options = Options()) {
  auto state = std::make_unique<RealtimeState>(std::move(options));
  state->SetSnapshot(snapshot);
  state->SetLive(true, "");
  return state;
}

void Click(RealtimeState& state, const std::string& user,
           const std::string& item, int64_t ts) {
  EXPECT_TRUE(state.Add({user, item, ts})) << user << " " << item;
}

// The user's fresh clicks as item ids, newest first.
std::vector<std::string> FreshIds(const RealtimeState& state,
                                  const Snapshot& snapshot,
                                  const std::string& user) {
  std::vector<v1::Click> clicks;
  state.FreshClicks(snapshot, user, &clicks);
  std::vector<std::string> ids;
  for (const v1::Click& c : clicks) {
    EXPECT_LT(c.item_row(), static_cast<uint32_t>(snapshot.items().size()));
    if (c.item_row() >= static_cast<uint32_t>(snapshot.items().size()))
      continue;
    ids.push_back(snapshot.items().item(c.item_row()).id);
  }
  return ids;
}

std::vector<std::string> Ids(const Snapshot& snapshot,
                             absl::Span<const Neighbor> list) {
  std::vector<std::string> ids;
  for (const Neighbor& n : list) ids.push_back(snapshot.items().item(n.row).id);
  return ids;
}

// The published hot list `key` as item ids, best first.
std::vector<std::string> HotIds(const RealtimeState& state,
                                const Snapshot& snapshot,
                                const std::string& key) {
  std::shared_ptr<const RealtimeLists> lists = state.Lists(snapshot);
  if (lists == nullptr) {
    ADD_FAILURE() << "no lists";
    return {};
  }
  return Ids(snapshot, lists->Hot(key));
}

std::vector<std::string> ClusterIds(const RealtimeState& state,
                                    const Snapshot& snapshot, int32_t cluster) {
  std::shared_ptr<const RealtimeLists> lists = state.Lists(snapshot);
  if (lists == nullptr) {
    ADD_FAILURE() << "no lists";
    return {};
  }
  return Ids(snapshot, lists->Cluster("c", cluster));
}

TEST(RealtimeStateTest, FreshClicksAreNewestFirstAndOnePerItem) {
  auto snapshot = FourItems();
  auto state = LiveState(snapshot);
  Click(*state, "u", "a", kNow);
  Click(*state, "u", "b", kNow + 10);
  Click(*state, "u", "c", kNow + 20);
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("c", "b", "a"));
  // A re-click moves the item to the front instead of adding a second entry.
  Click(*state, "u", "a", kNow + 30);
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("a", "c", "b"));
  std::vector<v1::Click> clicks;
  state->FreshClicks(*snapshot, "u", &clicks);
  ASSERT_EQ(clicks.size(), 3u);
  EXPECT_EQ(clicks[0].ts(), kNow + 30);
  EXPECT_EQ(clicks[0].item_row(), 0u);
  EXPECT_EQ(state->stats().users, 1);
  EXPECT_EQ(state->stats().clicks, 3);
  EXPECT_EQ(state->stats().newest_event_ts, kNow + 30);
  // Other users are separate; unknown users get nothing.
  EXPECT_THAT(FreshIds(*state, *snapshot, "nobody"), IsEmpty());
}

TEST(RealtimeStateTest, ALateOlderClickDoesNotMoveAnItemBack) {
  // Stream order is not event-time order: a click of a that happened before
  // the one already folded must not replace it with its older time.
  auto snapshot = FourItems();
  auto state = LiveState(snapshot);
  Click(*state, "u", "a", kNow + 100);
  Click(*state, "u", "b", kNow + 90);
  Click(*state, "u", "a", kNow + 50);  // late
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("a", "b"));
  std::vector<v1::Click> clicks;
  state->FreshClicks(*snapshot, "u", &clicks);
  ASSERT_EQ(clicks.size(), 2u);
  EXPECT_EQ(clicks[0].ts(), kNow + 100);
  EXPECT_EQ(state->stats().clicks, 2);
}

TEST(RealtimeStateTest, FreshClicksAppendToTheOutput) {
  auto snapshot = FourItems();
  auto state = LiveState(snapshot);
  Click(*state, "u", "a", kNow);
  std::vector<v1::Click> clicks(1);
  state->FreshClicks(*snapshot, "u", &clicks);
  ASSERT_EQ(clicks.size(), 2u);
  EXPECT_EQ(clicks[1].item_row(), 0u);
}

TEST(RealtimeStateTest, KeepsAtMostClicksPerUserNewest) {
  std::vector<ItemSpec> specs;
  for (int i = 0; i < 10; ++i) specs.push_back({absl::StrCat("i", i), "x"});
  auto snapshot = MakeSnapshot(specs);
  RealtimeOptions options = Options();
  options.clicks_per_user = 3;
  auto state = LiveState(snapshot, options);
  for (int i = 0; i < 10; ++i)
    Click(*state, "u", absl::StrCat("i", i), kNow + i);
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("i9", "i8", "i7"));
  EXPECT_EQ(state->stats().clicks, 3);
}

TEST(RealtimeStateTest,
     ClicksOlderThanTheTtlBeforeTheNewestEventAreNotReturned) {
  auto snapshot = FourItems();
  RealtimeOptions options = Options();
  options.click_ttl = absl::Hours(1);
  auto state = LiveState(snapshot, options);
  Click(*state, "u", "a", kNow - 2 * kHour);
  Click(*state, "u", "b", kNow - kHour / 2);
  // Exactly at the cutoff (the newest event, b, less the TTL): kept.
  Click(*state, "u", "c", kNow - kHour / 2 - kHour);
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("b", "c"));
  // The clock is the newest event of any user, not the user's own.
  Click(*state, "other", "d", kNow + kHour / 4);
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("b"));
  Click(*state, "other", "d", kNow + 2 * kHour);
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), IsEmpty());
  EXPECT_THAT(FreshIds(*state, *snapshot, "other"), ElementsAre("d"));
}

TEST(RealtimeStateTest, NothingIsReturnedUntilLive) {
  auto snapshot = FourItems();
  RealtimeState state(Options());
  state.SetSnapshot(snapshot);
  Click(state, "u", "a", kNow);
  state.Publish();
  EXPECT_THAT(FreshIds(state, *snapshot, "u"), IsEmpty());
  EXPECT_EQ(state.Lists(*snapshot), nullptr);
  EXPECT_EQ(state.Live().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(state.Live().message()),
              ::testing::HasSubstr("click stream"));

  state.SetLive(true, "");
  EXPECT_TRUE(state.Live().ok());
  EXPECT_THAT(FreshIds(state, *snapshot, "u"), ElementsAre("a"));
  EXPECT_THAT(HotIds(state, *snapshot, "*"), ElementsAre("a"));

  state.SetLive(false, "click stream down (test)");
  EXPECT_EQ(state.Live().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(state.Live().message(), "click stream down (test)");
  EXPECT_THAT(FreshIds(state, *snapshot, "u"), IsEmpty());
  EXPECT_EQ(state.Lists(*snapshot), nullptr);
}

TEST(RealtimeStateTest, NothingIsReturnedForAnotherSnapshotObject) {
  auto snapshot = FourItems();
  auto same_content = FourItems();  // equal data, a different object
  auto state = LiveState(snapshot);
  Click(*state, "u", "a", kNow);
  state->Publish();
  EXPECT_THAT(FreshIds(*state, *snapshot, "u"), ElementsAre("a"));
  EXPECT_THAT(FreshIds(*state, *same_content, "u"), IsEmpty());
  EXPECT_EQ(state->Lists(*same_content), nullptr);
  ASSERT_NE(state->Lists(*snapshot), nullptr);
  EXPECT_EQ(state->Lists(*snapshot)->snapshot, snapshot.get());
}

TEST(RealtimeStateTest, ClicksOfItemsNotInTheSnapshotAreRefused) {
  RealtimeState state(Options());
  // No snapshot yet: everything is refused.
  EXPECT_FALSE(state.Add({"u", "a", kNow}));
  auto snapshot = FourItems();
  state.SetSnapshot(snapshot);
  state.SetLive(true, "");
  EXPECT_FALSE(state.Add({"u", "zzz", kNow}));
  EXPECT_EQ(state.stats().users, 0);
  EXPECT_EQ(state.stats().clicks, 0);
  EXPECT_EQ(state.stats().newest_event_ts, 0);
  EXPECT_TRUE(state.Add({"u", "a", kNow}));
  EXPECT_FALSE(state.Add({"u", "zzz", kNow + 10}));
  state.Publish();
  EXPECT_THAT(FreshIds(state, *snapshot, "u"), ElementsAre("a"));
  EXPECT_THAT(HotIds(state, *snapshot, "*"), ElementsAre("a"));
  EXPECT_EQ(state.stats().newest_event_ts, kNow);
}

// Bytes in use on the malloc heap.
int64_t HeapBytes() { return static_cast<int64_t>(mallinfo2().uordblks); }

// Users with ids longer than the inline string buffer, so the estimate
// counts their heap bytes too.
std::string LongUserId(int i) {
  return absl::StrFormat("a-rather-long-user-id-%08d", i);
}

TEST(RealtimeStateTest, UsersStayWithinTheBoundUnderTenTimesAsManyUsers) {
  auto snapshot = FourItems();
  RealtimeOptions options = Options();
  options.max_users = 6400;  // 100 per shard; the bound is exactly 6400
  options.clicks_per_user = 4;
  auto state = LiveState(snapshot, options);
  const int64_t bound = 6400;
  const int total = 10 * 6400;
  int64_t memory_at_bound = 0;
  const int64_t heap_before = HeapBytes();
  int64_t heap_at_bound = 0;
  // Each user clicks once, one second after the previous user: user i is
  // more recently active than every user before it.
  for (int i = 0; i < total; ++i) {
    Click(*state, LongUserId(i), i % 2 == 0 ? "a" : "c", kNow + i);
    if (i + 1 == options.max_users) {
      memory_at_bound = state->stats().memory_bytes;
      heap_at_bound = HeapBytes() - heap_before;
    }
  }
  const int64_t heap_after = HeapBytes() - heap_before;
  const RealtimeState::Stats stats = state->stats();
  EXPECT_LE(stats.users, bound);
  EXPECT_GE(stats.users, bound / 2);
  EXPECT_EQ(stats.clicks, stats.users);  // one click each
  EXPECT_EQ(stats.evicted_users, total - stats.users);
  // Memory: about what it was at the bound, nowhere near ten times that.
  // (Churn may double a shard's hash table capacity once: erased slots are
  // tombstones until a rehash, so allow up to twice.)
  EXPECT_GT(memory_at_bound, 0);
  EXPECT_LE(stats.memory_bytes, memory_at_bound * 2)
      << "at the bound " << memory_at_bound;
  EXPECT_GE(stats.memory_bytes, memory_at_bound / 2)
      << "at the bound " << memory_at_bound;
  // The estimate follows what the heap really holds (where mallinfo2 sees
  // the allocator: not under the sanitizers), and that is bounded too.
  if (heap_at_bound > 0) {
    EXPECT_GE(stats.memory_bytes, heap_after / 2) << "heap " << heap_after;
    EXPECT_LE(stats.memory_bytes, heap_after * 3 / 2) << "heap " << heap_after;
    EXPECT_LE(heap_after, heap_at_bound * 2)
        << "at the bound " << heap_at_bound;
  }
  // The most recently active users survive (a quarter of the bound, so that
  // the uneven spread over shards does not matter), the oldest are gone.
  int newest_missing = 0;
  for (int i = total - bound / 4; i < total; ++i) {
    if (FreshIds(*state, *snapshot, LongUserId(i)).empty()) ++newest_missing;
  }
  EXPECT_EQ(newest_missing, 0);
  int oldest_kept = 0;
  for (int i = 0; i < bound; ++i) {
    if (!FreshIds(*state, *snapshot, LongUserId(i)).empty()) ++oldest_kept;
  }
  EXPECT_EQ(oldest_kept, 0);
}

TEST(RealtimeStateTest, UsersBoundIsMaxUsersRoundedUpToSixtyFourShards) {
  auto snapshot = FourItems();
  RealtimeOptions options = Options();
  options.max_users = 100;  // 2 per shard: the bound is 128
  auto state = LiveState(snapshot, options);
  for (int i = 0; i < 2000; ++i) Click(*state, LongUserId(i), "a", kNow + i);
  EXPECT_LE(state->stats().users, 128);
  EXPECT_GT(state->stats().evicted_users, 0);
  EXPECT_THAT(FreshIds(*state, *snapshot, LongUserId(1999)), ElementsAre("a"));
}

TEST(RealtimeStateTest, HotListsHoldAtMostItemsPerListBestFirst) {
  std::vector<ItemSpec> specs;
  for (int i = 0; i < 60; ++i) specs.push_back({absl::StrCat("i", i), "x"});
  auto snapshot = MakeSnapshot(specs);
  RealtimeOptions options = Options();
  options.items_per_list = 5;
  auto state = LiveState(snapshot, options);
  // Item i clicked i + 1 times, all at one time: i59 is the hottest. The
  // hottest come first, so evicting the lowest counts never loses theirs.
  for (int i = 59; i >= 0; --i) {
    for (int n = 0; n <= i; ++n)
      Click(*state, absl::StrCat("u", n), absl::StrCat("i", i), kNow);
  }
  state->Publish();
  EXPECT_THAT(HotIds(*state, *snapshot, "*"),
              ElementsAre("i59", "i58", "i57", "i56", "i55"));
  EXPECT_THAT(HotIds(*state, *snapshot, "x"),
              ElementsAre("i59", "i58", "i57", "i56", "i55"));
  // Counted entries per list stay within twice the bound ("*", "x").
  EXPECT_LE(state->stats().counted_items, 2 * 2 * options.items_per_list);
}

TEST(RealtimeStateTest,
     CountsDecayWithTheHalfLifeAndScoresAreRelativeToTheTop) {
  auto snapshot = FourItems();
  RealtimeOptions options = Options();
  options.half_life = absl::Hours(1);
  options.click_ttl = absl::Hours(24);
  auto state = LiveState(snapshot, options);
  const int64_t old = kNow - 10 * kHour;
  Click(*state, "u1", "a", old);
  Click(*state, "u2", "a", old);
  Click(*state, "u3", "a", old);
  Click(*state, "u4", "c", kNow);
  state->Publish();
  std::shared_ptr<const RealtimeLists> lists = state->Lists(*snapshot);
  ASSERT_NE(lists, nullptr);
  absl::Span<const Neighbor> hot = lists->Hot("*");
  EXPECT_THAT(Ids(*snapshot, hot), ElementsAre("c", "a"));
  ASSERT_EQ(hot.size(), 2u);
  EXPECT_FLOAT_EQ(hot[0].score, 1.0f);
  EXPECT_NEAR(hot[1].score, 3.0 / 1024.0, 1e-6);  // 3 x 2^-10
}

TEST(RealtimeStateTest, DecayedCountsSurviveTheRescaleOfALongStream) {
  auto snapshot = FourItems();
  RealtimeOptions options = Options();
  options.half_life = absl::Hours(1);
  auto state = LiveState(snapshot, options);
  // 200 hours of stream (past the internal rescale point): a is clicked
  // every hour, b twice every hour; finally c three times.
  for (int h = 0; h <= 200; ++h) {
    const int64_t ts = kNow + h * kHour;
    Click(*state, "u1", "a", ts);
    Click(*state, "u1", "b", ts);
    Click(*state, "u2", "b", ts);
  }
  const int64_t end = kNow + 200 * kHour;
  for (int n = 0; n < 3; ++n) Click(*state, absl::StrCat("c", n), "c", end);
  state->Publish();
  std::shared_ptr<const RealtimeLists> lists = state->Lists(*snapshot);
  ASSERT_NE(lists, nullptr);
  absl::Span<const Neighbor> hot = lists->Hot("*");
  // Steady state of an hourly click with a 1 h half-life: 1 + 1/2 + ... = 2.
  // So a ~ 2, b ~ 4, c = 3.
  ASSERT_EQ(hot.size(), 3u);
  EXPECT_THAT(Ids(*snapshot, hot), ElementsAre("b", "c", "a"));
  EXPECT_FLOAT_EQ(hot[0].score, 1.0f);
  EXPECT_NEAR(hot[1].score, 0.75, 1e-5);
  EXPECT_NEAR(hot[2].score, 0.5, 1e-5);
}

TEST(RealtimeStateTest, CategoryListsFollowTheItemsCat1) {
  auto snapshot = FourItems();
  auto state = LiveState(snapshot);
  Click(*state, "u1", "a", kNow);
  Click(*state, "u2", "b", kNow);
  Click(*state, "u3", "b", kNow);
  Click(*state, "u4", "d", kNow);
  state->Publish();
  EXPECT_THAT(HotIds(*state, *snapshot, "news"), ElementsAre("b", "a"));
  EXPECT_THAT(HotIds(*state, *snapshot, "sports"), ElementsAre("d"));
  EXPECT_THAT(HotIds(*state, *snapshot, "*"), ElementsAre("b", "a", "d"));
  EXPECT_THAT(HotIds(*state, *snapshot, "tech"), IsEmpty());
  std::shared_ptr<const RealtimeLists> lists = state->Lists(*snapshot);
  ASSERT_NE(lists, nullptr);
  EXPECT_FLOAT_EQ(lists->Hot("news")[0].score, 1.0f);
  EXPECT_FLOAT_EQ(lists->Hot("news")[1].score, 0.5f);
  EXPECT_FLOAT_EQ(lists->Hot("sports")[0].score, 1.0f);
}

TEST(RealtimeStateTest, ClusterListsCountTheStoredMembersClicks) {
  auto snapshot = FourItems();
  auto state = LiveState(snapshot);
  Click(*state, "m2", "b", kNow);  // a member of cluster 2
  Click(*state, "m1", "c", kNow);  // a member of cluster 1
  Click(*state, "m1", "d", kNow);
  Click(*state, "stranger", "a", kNow);  // not in the store: hot lists only
  state->Publish();
  EXPECT_THAT(ClusterIds(*state, *snapshot, 2), ElementsAre("b"));
  EXPECT_THAT(ClusterIds(*state, *snapshot, 1), UnorderedElementsAre("c", "d"));
  EXPECT_THAT(ClusterIds(*state, *snapshot, 0), IsEmpty());
  EXPECT_THAT(ClusterIds(*state, *snapshot, 7), IsEmpty());
  std::shared_ptr<const RealtimeLists> lists = state->Lists(*snapshot);
  ASSERT_NE(lists, nullptr);
  EXPECT_THAT(lists->Cluster("other", 2), IsEmpty());
  EXPECT_FLOAT_EQ(lists->Cluster("c", 2)[0].score, 1.0f);
  EXPECT_THAT(HotIds(*state, *snapshot, "*"),
              UnorderedElementsAre("a", "b", "c", "d"));
}

TEST(RealtimeStateTest, ASwapRemapsRowsByItemIdAndDropsGoneItems) {
  auto before = FourItems();
  // b is gone; the others moved to other rows.
  auto after = MakeSnapshot({{"d", "sports"}, {"c", "sports"}, {"a", "news"}});
  auto state = LiveState(before);
  Click(*state, "u", "a", kNow);
  Click(*state, "u", "b", kNow + 1);
  Click(*state, "u", "c", kNow + 2);
  Click(*state, "v", "a", kNow + 3);
  Click(*state, "w", "a", kNow + 4);
  Click(*state, "v", "c", kNow + 5);
  Click(*state, "only_b", "b", kNow + 6);
  Click(*state, "m2", "c", kNow + 7);
  Click(*state, "x", "a", kNow + 8);
  state->Publish();
  // Counts: a 4, c 3, b 2.
  ASSERT_THAT(FreshIds(*state, *before, "u"), ElementsAre("c", "b", "a"));
  ASSERT_THAT(HotIds(*state, *before, "*"), ElementsAre("a", "c", "b"));
  ASSERT_THAT(ClusterIds(*state, *before, 2), ElementsAre("c"));

  state->SetSnapshot(after);
  EXPECT_THAT(FreshIds(*state, *after, "u"), ElementsAre("c", "a"));
  EXPECT_THAT(FreshIds(*state, *after, "only_b"), IsEmpty());
  EXPECT_THAT(HotIds(*state, *after, "*"), ElementsAre("a", "c"));
  EXPECT_THAT(HotIds(*state, *after, "news"), ElementsAre("a"));
  EXPECT_THAT(HotIds(*state, *after, "sports"), ElementsAre("c"));
  // The same clustering in both: its counts carry over, remapped.
  EXPECT_THAT(ClusterIds(*state, *after, 2), ElementsAre("c"));
  // The user who clicked only the gone item is gone too.
  EXPECT_EQ(state->stats().users, 5);
  EXPECT_EQ(state->stats().clicks, 2 + 2 + 1 + 1 + 1);
  // The old snapshot's readers get nothing now.
  EXPECT_THAT(FreshIds(*state, *before, "u"), IsEmpty());
  EXPECT_EQ(state->Lists(*before), nullptr);
  // New clicks land on the new rows.
  Click(*state, "u", "d", kNow + 9);
  EXPECT_FALSE(state->Add({"u", "b", kNow + 10}));
  state->Publish();
  EXPECT_THAT(FreshIds(*state, *after, "u"), ElementsAre("d", "c", "a"));
  EXPECT_THAT(HotIds(*state, *after, "sports"), ElementsAre("c", "d"));
}

TEST(RealtimeStateTest, ASwapDropsClusterCountsOfChangedClusterings) {
  struct Case {
    std::string what;
    std::vector<std::string> labels;
    bool kept;
  };
  for (const Case& c : {Case{"identical", {"l0", "l1", "l2"}, true},
                        Case{"relabelled", {"l0", "l1", "x2"}, false},
                        Case{"other k", {"l0", "l1", "l2", "l3"}, false},
                        Case{"gone", {}, false}}) {
    SCOPED_TRACE(c.what);
    auto before = FourItems();
    auto state = LiveState(before);
    Click(*state, "m2", "b", kNow);
    state->Publish();
    ASSERT_THAT(ClusterIds(*state, *before, 2), ElementsAre("b"));
    auto after = MakeSnapshot(
        {{"a", "news"}, {"b", "news"}, {"c", "sports"}, {"d", "sports"}},
        c.labels);
    state->SetSnapshot(after);
    if (c.kept) {
      EXPECT_THAT(ClusterIds(*state, *after, 2), ElementsAre("b"));
    } else {
      EXPECT_THAT(ClusterIds(*state, *after, 2), IsEmpty());
    }
    // The hot lists and the user's clicks are kept either way.
    EXPECT_THAT(HotIds(*state, *after, "*"), ElementsAre("b"));
    EXPECT_THAT(FreshIds(*state, *after, "m2"), ElementsAre("b"));
  }
}

TEST(RealtimeStateTest, ClicksBecomeVisibleInTheListsOnlyOnPublish) {
  auto snapshot = FourItems();
  auto state = LiveState(snapshot);
  std::shared_ptr<const RealtimeLists> empty = state->Lists(*snapshot);
  ASSERT_NE(empty, nullptr);  // SetSnapshot published the (empty) lists
  EXPECT_THAT(empty->Hot("*"), IsEmpty());

  Click(*state, "m2", "a", kNow);
  EXPECT_THAT(HotIds(*state, *snapshot, "*"), IsEmpty());
  EXPECT_THAT(HotIds(*state, *snapshot, "news"), IsEmpty());
  EXPECT_THAT(ClusterIds(*state, *snapshot, 2), IsEmpty());
  // Fresh clicks are not batched.
  EXPECT_THAT(FreshIds(*state, *snapshot, "m2"), ElementsAre("a"));

  state->Publish();
  std::shared_ptr<const RealtimeLists> first = state->Lists(*snapshot);
  EXPECT_THAT(HotIds(*state, *snapshot, "*"), ElementsAre("a"));
  EXPECT_THAT(HotIds(*state, *snapshot, "news"), ElementsAre("a"));
  EXPECT_THAT(ClusterIds(*state, *snapshot, 2), ElementsAre("a"));
  // A published view never changes: a reader holding it keeps its view.
  EXPECT_THAT(empty->Hot("*"), IsEmpty());

  Click(*state, "u", "c", kNow + 1);
  Click(*state, "v", "c", kNow + 1);
  EXPECT_THAT(Ids(*snapshot, first->Hot("*")), ElementsAre("a"));
  state->Publish();
  EXPECT_THAT(HotIds(*state, *snapshot, "*"), ElementsAre("c", "a"));
  EXPECT_THAT(Ids(*snapshot, first->Hot("*")), ElementsAre("a"));
  // Lists that did not change are carried over to the next view.
  EXPECT_THAT(HotIds(*state, *snapshot, "news"), ElementsAre("a"));
  EXPECT_THAT(ClusterIds(*state, *snapshot, 2), ElementsAre("a"));
}

}  // namespace
}  // namespace recall
