#include "index/faiss_index.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "tests/index/index_test_util.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

// n unit vectors around `clusters` random centres: the shape of real
// embeddings, where approximate indexes behave as they do in production.
// Queries drawn with the same `clusters` and a different `seed` share the
// centres (which depend on `clusters` only).
std::vector<float> ClusteredVectors(int n, int dim, int clusters,
                                    uint64_t seed) {
  std::mt19937_64 centre_rng(clusters);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> centres(static_cast<size_t>(clusters) * dim);
  for (float& x : centres) x = normal(centre_rng);
  std::vector<float> v(static_cast<size_t>(n) * dim);
  for (int i = 0; i < n; ++i) {
    const float* c = centres.data() + (i % clusters) * dim;
    for (int j = 0; j < dim; ++j) v[i * dim + j] = c[j] + 0.5f * normal(rng);
  }
  EXPECT_TRUE(NormalizeRows(v.data(), n, dim).ok());
  return v;
}

class FaissIndexTest : public ::testing::Test {
 protected:
  static constexpr int kDim = 32;
  ScopedTempDir tmp_{"faiss_index_test"};
  const std::filesystem::path dir_{tmp_.dir()};
};

TEST_F(FaissIndexTest, HnswRecallAgainstExactOracle) {
  const int n = 10000;
  std::vector<float> data = ClusteredVectors(n, kDim, 50, 1);
  std::vector<float> queries = ClusteredVectors(100, kDim, 50, 2);
  auto hnsw = BuildFaissIndex({.factory = "HNSW32"}, kDim, data.data(), n);
  ASSERT_TRUE(hnsw.ok()) << hnsw.status();
  auto exact = *NewExactIndex(kDim, data);
  EXPECT_EQ((*hnsw)->size(), n);
  EXPECT_EQ((*hnsw)->dim(), kDim);
  const double recall =
      RecallAtK(**hnsw, *exact, queries, 100, {.ef_search = 128});
  EXPECT_GE(recall, 0.95);
  // A smaller efSearch through SearchParams is visibly worse: the parameter
  // reaches Faiss per call.
  const double low = RecallAtK(**hnsw, *exact, queries, 10, {.ef_search = 1});
  const double high =
      RecallAtK(**hnsw, *exact, queries, 10, {.ef_search = 256});
  EXPECT_LT(low, high);
}

TEST_F(FaissIndexTest, FlatMatchesOracleExactly) {
  const int n = 2000;
  std::vector<float> data = ClusteredVectors(n, kDim, 20, 3);
  auto flat = BuildFaissIndex({.factory = "Flat"}, kDim, data.data(), n);
  ASSERT_TRUE(flat.ok()) << flat.status();
  auto exact = *NewExactIndex(kDim, data);
  std::vector<Neighbor> got, want;
  ASSERT_TRUE((*flat)->Search(data.data(), 50, {}, &got).ok());
  ASSERT_TRUE(exact->Search(data.data(), 50, {}, &want).ok());
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got[0].row, 0);
  EXPECT_NEAR(got[0].score, 1.0, 1e-5);
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i].score, want[i].score, 1e-5);
}

TEST_F(FaissIndexTest, EveryFactoryBuildsWritesLoadsAndSearches) {
  const int n = 5000;
  std::vector<float> data = ClusteredVectors(n, kDim, 40, 4);
  std::vector<float> queries = ClusteredVectors(30, kDim, 40, 5);
  auto exact = *NewExactIndex(kDim, data);
  struct Case {
    std::string factory;
    SearchParams params;
    double min_recall;
  };
  for (const Case& c :
       {Case{"HNSW32", {.ef_search = 64}, 0.9}, Case{"Flat", {}, 0.999},
        Case{"IVF1024,Flat", {.nprobe = 64}, 0.8},
        Case{"IVF1024,PQ16", {.nprobe = 64}, 0.3}, Case{"SQ8", {}, 0.9}}) {
    SCOPED_TRACE(c.factory);
    auto built = BuildFaissIndex({.factory = c.factory}, kDim, data.data(), n);
    ASSERT_TRUE(built.ok()) << built.status();
    const std::string path = dir_ / "index.faiss";
    ASSERT_TRUE(WriteFaissIndex(**built, path).ok());
    auto loaded = LoadFaissIndex(path, c.factory);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ((*loaded)->description(), c.factory);
    EXPECT_EQ((*loaded)->size(), n);
    EXPECT_GE(RecallAtK(**loaded, *exact, queries, 20, c.params), c.min_recall);
    std::vector<float> v(kDim);
    EXPECT_TRUE((*loaded)->Reconstruct(7, v.data()).ok());
  }
}

TEST_F(FaissIndexTest, SubsetOfRowsKeepsItemRowsAsIds) {
  const int n = 500;
  std::vector<float> data = ClusteredVectors(n, kDim, 10, 6);
  std::vector<int32_t> rows(n);
  for (int i = 0; i < n; ++i) rows[i] = 3 * i + 1;  // rows 1, 4, 7, ...
  auto index =
      BuildFaissIndex({.factory = "HNSW32"}, kDim, data.data(), n, rows);
  ASSERT_TRUE(index.ok()) << index.status();
  const std::string path = dir_ / "subset.faiss";
  ASSERT_TRUE(WriteFaissIndex(**index, path).ok());
  auto loaded = LoadFaissIndex(path, "HNSW32");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<Neighbor> got;
  ASSERT_TRUE((*loaded)->Search(data.data() + 5 * kDim, 5, {}, &got).ok());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].row, 16);
  std::vector<float> v(kDim);
  EXPECT_TRUE((*loaded)->Reconstruct(16, v.data()).ok());
  EXPECT_FLOAT_EQ(v[0], data[5 * kDim]);
  EXPECT_FALSE((*loaded)->Reconstruct(2, v.data()).ok());
}

TEST_F(FaissIndexTest, ErrorsAreStatusesNotExceptions) {
  std::vector<float> data = ClusteredVectors(100, kDim, 5, 7);
  auto bad =
      BuildFaissIndex({.factory = "NoSuchIndex99"}, kDim, data.data(), 100);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("NoSuchIndex99"));

  auto few =
      BuildFaissIndex({.factory = "IVF1024,Flat"}, kDim, data.data(), 100);
  EXPECT_EQ(few.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(few.status().message(), HasSubstr("needs at least 1024"));

  EXPECT_EQ(LoadFaissIndex(dir_ / "missing.faiss", "Flat").status().code(),
            absl::StatusCode::kNotFound);
  const std::string garbage = dir_ / "garbage.faiss";
  std::ofstream(garbage) << "this is not a faiss index";
  EXPECT_EQ(LoadFaissIndex(garbage, "Flat").status().code(),
            absl::StatusCode::kDataLoss);

  auto flat = BuildFaissIndex({.factory = "Flat"}, kDim, data.data(), 100);
  ASSERT_TRUE(flat.ok());
  std::vector<Neighbor> out;
  EXPECT_EQ((*flat)->Search(data.data(), 0, {}, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NormalizeRowsTest, RejectsZeroVectorByIndex) {
  std::vector<float> v = {3, 4, 0, 0};
  absl::Status s = NormalizeRows(v.data(), 2, 2);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("vector 1"));
  EXPECT_FLOAT_EQ(v[0], 0.6f);
}

}  // namespace
}  // namespace recall
