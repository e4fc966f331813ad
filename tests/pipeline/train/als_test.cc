// Implicit ALS: users who click the same items end up near those items and
// far from the others; users and items without clicks get zero rows; the
// same seed gives the same factors.
#include "pipeline/train/als.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace recall {
namespace {

double Dot(const AlsFactors& f, int32_t user, int32_t item) {
  double dot = 0;
  for (int j = 0; j < f.dim; ++j)
    dot += double{f.users[user * f.dim + j]} * f.items[item * f.dim + j];
  return dot;
}

// Users 0-9 click items 0-4, users 10-19 click items 5-9; user 20 clicks
// nothing; item 10 is never clicked.
std::vector<std::vector<int32_t>> TwoGroups() {
  std::vector<std::vector<int32_t>> histories(21);
  for (int32_t u = 0; u < 20; ++u) {
    const int32_t first = u < 10 ? 0 : 5;
    for (int32_t i = 0; i < 4; ++i) histories[u].push_back(first + (u + i) % 5);
  }
  histories[3].push_back(histories[3][0]);  // a repeat counts once
  return histories;
}

TEST(AlsTest, SeparatesTwoGroupsOfUsersAndItems) {
  AlsOptions options;
  options.dim = 8;
  options.iterations = 10;
  const AlsFactors f = TrainAls(TwoGroups(), 11, options);
  ASSERT_EQ(f.dim, 8);
  ASSERT_EQ(f.users.size(), 21u * 8);
  ASSERT_EQ(f.items.size(), 11u * 8);
  for (int32_t u = 0; u < 20; ++u) {
    const int32_t own = u < 10 ? 0 : 5, other = u < 10 ? 5 : 0;
    double own_score = 0, other_score = 0;
    for (int32_t i = 0; i < 5; ++i) {
      own_score += Dot(f, u, own + i) / 5;
      other_score += Dot(f, u, other + i) / 5;
    }
    EXPECT_GT(own_score, 0.5) << "user " << u;
    EXPECT_LT(other_score, 0.1) << "user " << u;
  }
}

TEST(AlsTest, UsersAndItemsWithoutClicksGetZeroRows) {
  AlsOptions options;
  options.dim = 4;
  const AlsFactors f = TrainAls(TwoGroups(), 11, options);
  for (int j = 0; j < f.dim; ++j) {
    EXPECT_EQ(f.users[20 * f.dim + j], 0.0f);
    EXPECT_EQ(f.items[10 * f.dim + j], 0.0f);
  }
}

TEST(AlsTest, TheSameSeedGivesTheSameFactors) {
  AlsOptions options;
  options.dim = 4;
  options.iterations = 3;
  options.threads = 2;
  const AlsFactors a = TrainAls(TwoGroups(), 11, options);
  const AlsFactors b = TrainAls(TwoGroups(), 11, options);
  EXPECT_EQ(a.users, b.users);
  EXPECT_EQ(a.items, b.items);
}

}  // namespace
}  // namespace recall
