// NewExactIndex, the brute-force oracle: answers against inner products
// computed here on random data, best-first order with ties by row, k beyond
// the count, bad k, explicit item rows, Reconstruct, and empty indexes.
#include "index/exact_index.h"

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// `count` vectors of `dim` floats in [-1, 1), row-major.
std::vector<float> RandomVectors(int count, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> v(static_cast<size_t>(count) * dim);
  for (float& x : v) x = uniform(rng);
  return v;
}

// Every (row, inner product) pair, best first, computed independently.
std::vector<Neighbor> BruteForce(const std::vector<float>& vectors, int dim,
                                 const float* query) {
  const int count = static_cast<int>(vectors.size()) / dim;
  std::vector<Neighbor> all;
  for (int i = 0; i < count; ++i) {
    double dot = 0;
    for (int j = 0; j < dim; ++j)
      dot += double{query[j]} * vectors[i * dim + j];
    all.push_back({i, static_cast<float>(dot)});
  }
  std::sort(all.begin(), all.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.score > b.score;
  });
  return all;
}

std::vector<int32_t> Rows(const std::vector<Neighbor>& neighbors) {
  std::vector<int32_t> rows;
  for (const Neighbor& n : neighbors) rows.push_back(n.row);
  return rows;
}

TEST(ExactIndexTest, DescribesItself) {
  auto index = *NewExactIndex(3, RandomVectors(7, 3, 1));
  EXPECT_EQ(index->dim(), 3);
  EXPECT_EQ(index->size(), 7);
  EXPECT_EQ(index->description(), "exact");
}

TEST(ExactIndexTest, MatchesBruteForceInnerProductsOnRandomData) {
  constexpr int kDim = 16;
  constexpr int kCount = 300;
  constexpr int kK = 25;
  const std::vector<float> vectors = RandomVectors(kCount, kDim, 42);
  auto index = *NewExactIndex(kDim, vectors);
  const std::vector<float> queries = RandomVectors(20, kDim, 7);
  std::vector<Neighbor> got;
  for (int q = 0; q < 20; ++q) {
    const float* query = queries.data() + q * kDim;
    ASSERT_TRUE(index->Search(query, kK, {}, &got).ok());
    const std::vector<Neighbor> want = BruteForce(vectors, kDim, query);
    ASSERT_EQ(got.size(), static_cast<size_t>(kK));
    for (int i = 0; i < kK; ++i) {
      EXPECT_EQ(got[i].row, want[i].row) << "query " << q << " rank " << i;
      EXPECT_NEAR(got[i].score, want[i].score, 1e-5)
          << "query " << q << " rank " << i;
    }
  }
}

TEST(ExactIndexTest, ResultsAreBestFirst) {
  constexpr int kDim = 8;
  auto index = *NewExactIndex(kDim, RandomVectors(100, kDim, 3));
  const std::vector<float> query = RandomVectors(1, kDim, 4);
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query.data(), 100, {}, &got).ok());
  ASSERT_EQ(got.size(), 100u);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_GE(got[i - 1].score, got[i].score) << "rank " << i;
  }
}

TEST(ExactIndexTest, KnownScoresByHand) {
  // Unit vectors a (1,0), b (.8,.6), c (0,1), d (-1,0).
  auto index = *NewExactIndex(2, {1, 0, .8f, .6f, 0, 1, -1, 0});
  const float query[] = {.6f, .8f};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 4, {}, &got).ok());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_THAT(Rows(got), ElementsAre(1, 2, 0, 3));
  EXPECT_FLOAT_EQ(got[0].score, .96f);
  EXPECT_FLOAT_EQ(got[1].score, .8f);
  EXPECT_FLOAT_EQ(got[2].score, .6f);
  EXPECT_FLOAT_EQ(got[3].score, -.6f);
}

TEST(ExactIndexTest, TiesAreBrokenByRow) {
  // Rows 0, 2 and 3 score 1; row 1 scores 0.
  auto index = *NewExactIndex(2, {1, 0, 0, 1, 1, 0, 1, 0});
  const float query[] = {1, 0};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 2, {}, &got).ok());
  EXPECT_THAT(Rows(got), ElementsAre(0, 2));
  ASSERT_TRUE(index->Search(query, 4, {}, &got).ok());
  EXPECT_THAT(Rows(got), ElementsAre(0, 2, 3, 1));
}

TEST(ExactIndexTest, KBeyondTheCountReturnsEveryVector) {
  auto index = *NewExactIndex(2, {1, 0, 0, 1, -1, 0});
  const float query[] = {0, 1};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 1000, {}, &got).ok());
  EXPECT_THAT(Rows(got), ElementsAre(1, 0, 2));
}

TEST(ExactIndexTest, KOfOneIsTheBest) {
  auto index = *NewExactIndex(2, {1, 0, 0, 1, -1, 0});
  const float query[] = {-1, .1f};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 1, {}, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].row, 2);
  EXPECT_FLOAT_EQ(got[0].score, 1);
}

TEST(ExactIndexTest, NonPositiveKIsInvalidAndClearsTheOutput) {
  auto index = *NewExactIndex(2, {1, 0, 0, 1});
  const float query[] = {1, 0};
  for (int k : {0, -1, -100}) {
    std::vector<Neighbor> got = {{9, 9.0f}};
    const absl::Status status = index->Search(query, k, {}, &got);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << k;
    EXPECT_THAT(status.message(), HasSubstr("k must be positive"));
    EXPECT_TRUE(got.empty()) << k;
  }
}

TEST(ExactIndexTest, SearchClearsTheOutputFirst) {
  auto index = *NewExactIndex(2, {1, 0, 0, 1});
  const float query[] = {1, 0};
  std::vector<Neighbor> got = {{7, 5.0f}, {8, 4.0f}, {9, 3.0f}};
  ASSERT_TRUE(index->Search(query, 1, {}, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].row, 0);
}

TEST(ExactIndexTest, SearchParamsAreIgnored) {
  constexpr int kDim = 4;
  auto index = *NewExactIndex(kDim, RandomVectors(50, kDim, 11));
  const std::vector<float> query = RandomVectors(1, kDim, 12);
  std::vector<Neighbor> plain;
  std::vector<Neighbor> tuned;
  ASSERT_TRUE(index->Search(query.data(), 10, {}, &plain).ok());
  SearchParams params;
  params.ef_search = 1;
  params.nprobe = 1;
  ASSERT_TRUE(index->Search(query.data(), 10, params, &tuned).ok());
  EXPECT_EQ(Rows(plain), Rows(tuned));
}

TEST(ExactIndexTest, ExplicitRowsAreWhatSearchReturns) {
  // Vector i has item row rows[i].
  auto index = *NewExactIndex(2, {1, 0, 0, 1, -1, 0}, {40, 7, 13});
  EXPECT_EQ(index->size(), 3);
  const float query[] = {1, .5f};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 3, {}, &got).ok());
  EXPECT_THAT(Rows(got), ElementsAre(40, 7, 13));
  EXPECT_FLOAT_EQ(got[0].score, 1);
  EXPECT_FLOAT_EQ(got[1].score, .5f);
  EXPECT_FLOAT_EQ(got[2].score, -1);
}

TEST(ExactIndexTest, TiesAmongExplicitRowsAreBrokenByItemRow) {
  // Equal vectors stored in descending row order come back ascending.
  auto index = *NewExactIndex(1, {1, 1, 1}, {30, 20, 10});
  const float query[] = {1};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 3, {}, &got).ok());
  EXPECT_THAT(Rows(got), ElementsAre(10, 20, 30));
}

TEST(ExactIndexTest, ReconstructCopiesTheStoredVector) {
  const std::vector<float> vectors = RandomVectors(5, 3, 21);
  auto index = *NewExactIndex(3, vectors);
  for (int32_t row = 0; row < 5; ++row) {
    float out[3] = {0, 0, 0};
    ASSERT_TRUE(index->Reconstruct(row, out).ok()) << row;
    EXPECT_THAT(out, ElementsAre(vectors[row * 3], vectors[row * 3 + 1],
                                 vectors[row * 3 + 2]))
        << row;
  }
}

TEST(ExactIndexTest, ReconstructFindsExplicitRows) {
  auto index = *NewExactIndex(2, {1, 2, 3, 4}, {100, 5});
  float out[2] = {0, 0};
  ASSERT_TRUE(index->Reconstruct(5, out).ok());
  EXPECT_THAT(out, ElementsAre(3, 4));
  ASSERT_TRUE(index->Reconstruct(100, out).ok());
  EXPECT_THAT(out, ElementsAre(1, 2));
  // Positions are not rows.
  EXPECT_EQ(index->Reconstruct(0, out).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(index->Reconstruct(1, out).code(), absl::StatusCode::kNotFound);
}

TEST(ExactIndexTest, ReconstructOfAnUnknownRowIsNotFoundNamingIt) {
  auto index = *NewExactIndex(2, {1, 2, 3, 4});
  float out[2] = {-7, -7};
  for (int32_t row : {2, -1, 1000}) {
    const absl::Status status = index->Reconstruct(row, out);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << row;
    EXPECT_THAT(status.message(),
                HasSubstr("row " + std::to_string(row) + " is not indexed"));
  }
  EXPECT_THAT(out, ElementsAre(-7, -7));  // untouched
}

// Issue 21: a dimension of 0 divided by zero; vectors and rows that do not
// match were read out of bounds.
TEST(ExactIndexTest, RefusesWhatIsNotWholeVectors) {
  for (const auto& [dim, floats, rows] :
       std::vector<std::tuple<int, std::vector<float>, std::vector<int32_t>>>{
           {0, {}, {}},
           {-1, {1}, {}},
           {2, {1, 2, 3}, {}},
           {2, {1, 2, 3, 4}, {7}}}) {
    auto index = NewExactIndex(dim, floats, rows);
    EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument)
        << dim << " " << floats.size() << " " << rows.size();
    EXPECT_THAT(std::string(index.status().message()),
                HasSubstr("exact index"));
  }
}

TEST(ExactIndexTest, EmptyIndexFindsNothing) {
  auto index = *NewExactIndex(4, {});
  EXPECT_EQ(index->dim(), 4);
  EXPECT_EQ(index->size(), 0);
  const float query[] = {1, 2, 3, 4};
  std::vector<Neighbor> got = {{1, 1.0f}};
  ASSERT_TRUE(index->Search(query, 10, {}, &got).ok());
  EXPECT_TRUE(got.empty());
  float out[4];
  EXPECT_EQ(index->Reconstruct(0, out).code(), absl::StatusCode::kNotFound);
}

TEST(ExactIndexTest, ZeroQueryScoresEveryVectorZero) {
  auto index = *NewExactIndex(2, {1, 0, 0, 1, -1, 0});
  const float query[] = {0, 0};
  std::vector<Neighbor> got;
  ASSERT_TRUE(index->Search(query, 3, {}, &got).ok());
  EXPECT_THAT(Rows(got), ElementsAre(0, 1, 2));  // all tie: by row
  for (const Neighbor& n : got) EXPECT_EQ(n.score, 0);
}

TEST(ExactIndexTest, ConcurrentSearchesAgree) {
  constexpr int kDim = 8;
  const std::vector<float> vectors = RandomVectors(200, kDim, 5);
  auto index = *NewExactIndex(kDim, vectors);
  const std::vector<float> query = RandomVectors(1, kDim, 6);
  std::vector<Neighbor> want;
  ASSERT_TRUE(index->Search(query.data(), 10, {}, &want).ok());
  std::vector<std::vector<int32_t>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Neighbor> got;
      for (int i = 0; i < 50; ++i) {
        if (!index->Search(query.data(), 10, {}, &got).ok()) return;
      }
      results[t] = Rows(got);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& rows : results) EXPECT_EQ(rows, Rows(want));
}

}  // namespace
}  // namespace recall
