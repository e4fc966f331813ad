// util/percentile.h: nearest-rank percentiles.
#include "util/percentile.h"

#include <vector>

#include "gtest/gtest.h"

namespace recall {
namespace {

TEST(NearestRankTest, PicksTheCeilingRank) {
  const std::vector<int> v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRank(v, 1), 10);     // rank ceil(0.01) = 1
  EXPECT_EQ(NearestRank(v, 100), 10);   // rank 1
  EXPECT_EQ(NearestRank(v, 101), 20);   // rank ceil(1.01) = 2
  EXPECT_EQ(NearestRank(v, 500), 50);   // the median: rank 5
  EXPECT_EQ(NearestRank(v, 990), 100);  // p99: rank ceil(9.9) = 10
  EXPECT_EQ(NearestRank(v, 1000), 100);
}

TEST(NearestRankTest, EdgeCases) {
  EXPECT_EQ(NearestRank(std::vector<double>{}, 500), 0.0);
  EXPECT_EQ(NearestRank(std::vector<double>{7.5}, 1), 7.5);
  EXPECT_EQ(NearestRank(std::vector<double>{7.5}, 1000), 7.5);
  // Out of range per-mille values clamp to the ends.
  const std::vector<int> v = {1, 2, 3};
  EXPECT_EQ(NearestRank(v, 0), 1);
  EXPECT_EQ(NearestRank(v, 5000), 3);
  // Exact: 1000 values, p99.9 is the 999th, not a rounding neighbour.
  std::vector<int> many(1000);
  for (int i = 0; i < 1000; ++i) many[i] = i + 1;
  EXPECT_EQ(NearestRank(many, 999), 999);
  EXPECT_EQ(NearestRank(many, 500), 500);
}

}  // namespace
}  // namespace recall
