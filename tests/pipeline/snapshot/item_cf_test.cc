// Item-CF lists against values computed by hand (cosine) and by an
// independent dense inverse (EASE); the hot lists' decay and categories.
#include "pipeline/snapshot/item_cf.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace recall {
namespace {

// u0 {0,1}, u1 {0,1,2}, u2 {2}, u3 {1,3}
Histories SmallHistories() { return {{0, 1}, {0, 1, 2}, {2}, {1, 3}}; }

TEST(CosineNeighborsTest, MatchesHandComputedSimilarities) {
  // n = (2, 3, 2, 1); c(0,1) = 2, c(0,2) = 1, c(1,2) = 1, c(1,3) = 1.
  const RankedLists lists = CosineNeighbors(SmallHistories(), 5, 10, 100, 2);
  ASSERT_EQ(lists.size(), 5);
  ASSERT_EQ(lists.List(0).size(), 2u);
  EXPECT_EQ(lists.List(0)[0].row, 1u);
  EXPECT_NEAR(lists.List(0)[0].score, 2 / std::sqrt(6.0), 1e-6);
  EXPECT_EQ(lists.List(0)[1].row, 2u);
  EXPECT_NEAR(lists.List(0)[1].score, 1 / std::sqrt(4.0), 1e-6);
  ASSERT_EQ(lists.List(3).size(), 1u);
  EXPECT_EQ(lists.List(3)[0].row, 1u);
  EXPECT_NEAR(lists.List(3)[0].score, 1 / std::sqrt(3.0), 1e-6);
  EXPECT_TRUE(lists.List(4).empty());  // never clicked
  // top_n cuts each list.
  EXPECT_EQ(CosineNeighbors(SmallHistories(), 5, 1, 100, 1).List(1).size(), 1u);
}

// Gauss-Jordan inverse of a small dense matrix (the test's own oracle).
std::vector<std::vector<double>> Inverse(std::vector<std::vector<double>> a) {
  const size_t n = a.size();
  std::vector<std::vector<double>> inv(n, std::vector<double>(n, 0));
  for (size_t i = 0; i < n; ++i) inv[i][i] = 1;
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t r = c; r < n; ++r)
      if (std::fabs(a[r][c]) > std::fabs(a[p][c])) p = r;
    std::swap(a[c], a[p]);
    std::swap(inv[c], inv[p]);
    const double d = a[c][c];
    for (size_t j = 0; j < n; ++j) {
      a[c][j] /= d;
      inv[c][j] /= d;
    }
    for (size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r][c];
      for (size_t j = 0; j < n; ++j) {
        a[r][j] -= f * a[c][j];
        inv[r][j] -= f * inv[c][j];
      }
    }
  }
  return inv;
}

TEST(EaseNeighborsTest, MatchesADenseInverse) {
  const Histories histories = SmallHistories();
  const double lambda = 0.5;
  const int n = 4;
  std::vector<std::vector<double>> g(n, std::vector<double>(n, 0));
  for (const auto& h : histories)
    for (ItemRow a : h)
      for (ItemRow b : h) g[a][b] += 1;
  for (int i = 0; i < n; ++i) g[i][i] += lambda;
  const auto p = Inverse(g);
  auto lists = EaseNeighbors(histories, 6, lambda, 10);
  ASSERT_TRUE(lists.ok()) << lists.status();
  ASSERT_EQ(lists->size(), 6);
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<double, int>> expected;
    for (int j = 0; j < n; ++j) {
      const double b = -p[i][j] / p[j][j];
      if (j != i && b > 0) expected.emplace_back(b, j);
    }
    std::sort(expected.rbegin(), expected.rend());
    ASSERT_EQ(lists->List(i).size(), expected.size()) << i;
    for (size_t k = 0; k < expected.size(); ++k) {
      EXPECT_EQ(lists->List(i)[k].row,
                static_cast<uint32_t>(expected[k].second));
      EXPECT_NEAR(lists->List(i)[k].score, expected[k].first, 1e-4);
    }
  }
  EXPECT_TRUE(lists->List(5).empty());
}

TEST(ItemCfListsTest, AutoPicksEaseForSmallCataloguesAndCosineBeyond) {
  ItemCfOptions options;
  std::string description;
  ASSERT_TRUE(ItemCfLists(SmallHistories(), 4, options, &description).ok());
  EXPECT_EQ(description.rfind("ease", 0), 0u) << description;
  options.ease_max_items = 3;
  ASSERT_TRUE(ItemCfLists(SmallHistories(), 4, options, &description).ok());
  EXPECT_EQ(description.rfind("cosine", 0), 0u) << description;
  options.method = "ease";
  EXPECT_EQ(
      ItemCfLists(SmallHistories(), 4, options, &description).status().code(),
      absl::StatusCode::kInvalidArgument);
  options.method = "magic";
  EXPECT_FALSE(ItemCfLists(SmallHistories(), 4, options, &description).ok());
}

TEST(HotListsTest, DecaysOlderClicksAndSplitsByCategory) {
  ItemTable items;
  for (const char* id : {"a", "b", "c"}) {
    Item item;
    item.id = id;
    item.cat1 = std::string(id) == "c" ? "sports" : "news";
    ASSERT_TRUE(items.Add(item).ok());
  }
  ClickLog log;
  const int64_t now = 1000000;
  // "a": two clicks a day ago; "b": one click now; "c": one click now.
  log.AddClick(log.AddUser("u1"), 0, now - 86400);
  log.AddClick(log.AddUser("u2"), 0, now - 86400);
  log.AddClick(log.AddUser("u3"), 1, now);
  log.AddClick(log.AddUser("u4"), 2, now);
  log.Finish();
  // Half-life 6 h: "a" weighs 2/16, under "b".
  RankedLists hot = HotLists(log, items, 6, 10);
  ASSERT_TRUE(hot.named());
  const auto all = hot.List(hot.Find("*"));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].row, 0u);
  EXPECT_NEAR(all[2].score, 2.0 / 16, 1e-6);
  const auto news = hot.List(hot.Find("news"));
  ASSERT_EQ(news.size(), 2u);
  EXPECT_EQ(news[0].row, 1u);
  EXPECT_EQ(hot.List(hot.Find("sports")).size(), 1u);
  // No decay: plain counts, "a" first.
  EXPECT_EQ(HotLists(log, items, 0, 10).List(0)[0].row, 0u);
}

}  // namespace
}  // namespace recall
