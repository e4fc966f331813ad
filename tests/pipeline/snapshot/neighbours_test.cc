#include "pipeline/snapshot/neighbours.h"

#include <atomic>
#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "tests/index/index_test_util.h"

namespace recall {
namespace build_neighbours {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::IsEmpty;

v1::ChannelPolicy I2i(const std::string& space, int fetch_k,
                      float min_similarity, int ef_search = 0) {
  v1::ChannelPolicy c;
  c.set_name("i2i_" + space);
  c.set_kind("i2i");
  c.set_space(space);
  c.set_fetch_k(fetch_k);
  c.set_min_similarity(min_similarity);
  c.set_ef_search(ef_search);
  return c;
}

TEST(SpecForTest, ServesEveryI2iChannelOverTheSpace) {
  v1::Policy policy;
  *policy.add_channels() = I2i("item2vec", 300, 0.6f);
  *policy.add_channels() = I2i("item2vec", 500, 0.5f, 64);
  policy.mutable_channels(1)->set_disabled(true);  // a request may enable it
  *policy.add_channels() = I2i("dssm", 0, 0.7f);   // fetch_k per request
  v1::ChannelPolicy u2i = I2i("title2vec", 100, 0.6f);
  u2i.set_kind("u2i");
  *policy.add_channels() = u2i;

  auto space = [](const std::string& name) {
    v1::SpaceManifest m;
    m.set_name(name);
    m.set_ef_search(128);  // the default a channel without its own takes
    m.set_nprobe(32);
    return m;
  };
  std::optional<TableSpec> spec = SpecFor(policy, space("item2vec"), 1000);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->k, 500);
  EXPECT_FLOAT_EQ(spec->min_similarity, 0.5f);
  EXPECT_EQ(spec->search.ef_search, 128);  // max(the default, 64)
  EXPECT_EQ(spec->search.nprobe, 32);
  policy.mutable_channels(1)->set_ef_search(256);
  EXPECT_EQ(SpecFor(policy, space("item2vec"), 1000)->search.ef_search, 256);
  EXPECT_EQ(SpecFor(policy, space("item2vec"), 400)->k, 400);  // capped
  EXPECT_EQ(SpecFor(policy, space("dssm"), 1000)->k, 1000);    // the cap
  EXPECT_FALSE(SpecFor(policy, space("title2vec"), 1000).has_value());
  EXPECT_FALSE(SpecFor(policy, space("item2vec"), 0).has_value());
}

std::vector<int32_t> AllRows(int n) {
  std::vector<int32_t> rows(n);
  for (int i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

TEST(ComputeTableTest, EachListIsTheExactSearchWithoutTheItemCutAndCapped) {
  constexpr int kItems = 400, kDim = 4;
  auto index = *NewExactIndex(kDim, RandomUnitVectors(kItems, kDim, 7));
  // One search of k + 1; k over 256 with a cut every item passes (each list
  // needs the second, larger search); and with a cut that ends most lists
  // within the first.
  for (const TableSpec& spec :
       {TableSpec{5, 0.5f, {}}, TableSpec{200, 0.1f, {}},
        TableSpec{300, -1.0f, {}}, TableSpec{399, 0.7f, {}}}) {
    absl::StatusOr<RankedLists> table =
        ComputeTable(*index, AllRows(kItems), spec, /*threads=*/2);
    ASSERT_TRUE(table.ok()) << table.status();
    ASSERT_EQ(table->size(), kItems);
    std::vector<Neighbor> exact;
    std::vector<float> query(kDim);
    for (int32_t row = 0; row < kItems; row += 37) {
      ASSERT_TRUE(index->Reconstruct(row, query.data()).ok());
      ASSERT_TRUE(index->Search(query.data(), kItems, {}, &exact).ok());
      std::vector<uint32_t> want;
      for (const Neighbor& n : exact) {
        if (n.row == row) continue;
        if (n.score < spec.min_similarity ||
            static_cast<int>(want.size()) == spec.k)
          break;
        want.push_back(static_cast<uint32_t>(n.row));
      }
      std::vector<uint32_t> got;
      for (const RankedEntry& e : table->List(row)) got.push_back(e.row);
      EXPECT_EQ(got, want) << "row " << row << " k " << spec.k;
    }
    absl::StatusOr<double> recall = RecallAgainstLive(*index, *table, spec, 50);
    ASSERT_TRUE(recall.ok()) << recall.status();
    EXPECT_DOUBLE_EQ(*recall, 1.0);
  }
}

// Counts the searches made through it.
class CountingIndex final : public ForwardingIndex {
 public:
  using ForwardingIndex::ForwardingIndex;
  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    searches_.fetch_add(1);
    return ForwardingIndex::Search(query, k, params, out);
  }
  int64_t searches() const { return searches_.load(); }

 private:
  mutable std::atomic<int64_t> searches_{0};
};

// k over 256: the short first search is tried on 512 rows and kept for the
// others only where the cut ends enough lists within it.
TEST(ComputeTableTest, KeepsTheShortFirstSearchOnlyWhereItPays) {
  constexpr int kItems = 2048, kDim = 4;
  std::shared_ptr<const IndexHandle> exact =
      *NewExactIndex(kDim, RandomUnitVectors(kItems, kDim, 11));
  {  // every list fills past 129: the sample searches twice, the rest once
    CountingIndex index(exact);
    ASSERT_TRUE(ComputeTable(index, AllRows(kItems), TableSpec{300, -1.0f, {}},
                             /*threads=*/2)
                    .ok());
    EXPECT_EQ(index.searches(), 512 * 2 + (kItems - 512));
  }
  {  // a cut that ends every list within 129: one short search each
    CountingIndex index(exact);
    ASSERT_TRUE(ComputeTable(index, AllRows(kItems), TableSpec{300, 0.95f, {}},
                             /*threads=*/2)
                    .ok());
    EXPECT_EQ(index.searches(), kItems);
  }
}

TEST(ComputeTableTest, CoversTheRowsAskedForThatTheSpaceHolds) {
  // Rows 0, 2 and 4 hold vectors; rows 1 and 3 have none in this space.
  auto index = *NewExactIndex(2, {1, 0, .8f, .6f, 0, 1}, {0, 2, 4});
  absl::StatusOr<RankedLists> table =
      ComputeTable(*index, {0, 1, 2, 3}, TableSpec{10, 0.0f, {}}, 1);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_THAT(table->rows(), ElementsAre(0u, 2u));
  ASSERT_EQ(table->FindRow(0), 0);
  ASSERT_EQ(table->List(0).size(), 2u);
  EXPECT_EQ(table->List(0)[0].row, 2u);
  EXPECT_THAT(table->List(0)[0].score, FloatEq(0.8f));
  EXPECT_EQ(table->List(0)[1].row, 4u);  // 0 similarity: at the 0.0 cut
  EXPECT_EQ(table->FindRow(1), -1);
  EXPECT_EQ(table->List(table->FindRow(2))[0].row, 0u);
  EXPECT_EQ(table->FindRow(4), -1);  // not asked for
}

TEST(SeedRowsTest, EachUsersNewestClicksAndTheHotItems) {
  ClickLog log;
  const int32_t a = log.AddUser("a"), b = log.AddUser("b");
  for (int i = 0; i < 5; ++i) log.AddClick(a, /*item=*/i, /*ts=*/100 + i);
  log.AddClick(b, 9, 50);
  log.Finish();
  RankedLists hot(/*named=*/true);
  hot.Add("*", {{7, 2.0f}});
  v1::Policy policy;
  *policy.add_channels() = I2i("item2vec", 300, 0.6f);
  // The i2i default: each user's newest 3 (a: 4, 3, 2; b: 9), and 7.
  EXPECT_THAT(SeedRows(policy, log, &hot, 10, false),
              ElementsAre(2, 3, 4, 7, 9));
  policy.mutable_channels(0)->set_seeds_from_clicks(1);
  EXPECT_THAT(SeedRows(policy, log, nullptr, 10, false), ElementsAre(4, 9));
  EXPECT_THAT(SeedRows(policy, log, nullptr, 3, true), ElementsAre(0, 1, 2));
}

TEST(RecallAgainstLiveTest, CountsWhatTheTableMisses) {
  auto index = *NewExactIndex(2, {1, 0, .8f, .6f, .6f, .8f, 0, 1});
  const TableSpec spec{3, 0.5f, {}};
  RankedLists partial(ListKeys::kItemRows);  // the best neighbour only
  absl::StatusOr<RankedLists> full = ComputeTable(*index, AllRows(4), spec, 1);
  ASSERT_TRUE(full.ok());
  int64_t live = 0;
  for (int row = 0; row < 4; ++row) {
    auto list = full->List(row);
    live += static_cast<int64_t>(list.size());
    partial.AddRow(static_cast<uint32_t>(row),
                   {list.begin(), list.begin() + 1});
  }
  // a: b .8, c .6; b: c .96, a .8, d .6; c: b .96, d .8, a .6; d: c .8, b .6.
  EXPECT_EQ(live, 10);
  absl::StatusOr<double> recall = RecallAgainstLive(*index, partial, spec, 4);
  ASSERT_TRUE(recall.ok());
  EXPECT_DOUBLE_EQ(*recall, 4.0 / 10.0);
}

}  // namespace
}  // namespace build_neighbours
}  // namespace recall
