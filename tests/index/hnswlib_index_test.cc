#include "index/hnswlib_index.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "index/faiss_index.h"
#include "index/index_factory.h"
#include "tests/index/index_test_util.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kDim = 32;

// Every query's result, rows and scores, in one list.
std::vector<Neighbor> SearchAll(const IndexHandle& index,
                                const std::vector<float>& queries, int k,
                                const SearchParams& params) {
  std::vector<Neighbor> all, one;
  for (size_t q = 0; q < queries.size() / index.dim(); ++q) {
    EXPECT_TRUE(
        index.Search(queries.data() + q * index.dim(), k, params, &one).ok());
    all.insert(all.end(), one.begin(), one.end());
    all.push_back({-1, 0});  // separator: result sizes must match too
  }
  return all;
}

bool SameResults(const std::vector<Neighbor>& a,
                 const std::vector<Neighbor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].row != b[i].row || a[i].score != b[i].score) return false;
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class HnswlibIndexTest : public ::testing::Test {
 protected:
  static constexpr int kN = 5000;

  static void SetUpTestSuite() {
    data_ = new std::vector<float>(RandomUnitVectors(kN, kDim, 1));
    queries_ = new std::vector<float>(RandomUnitVectors(200, kDim, 2));
    HnswlibBuildOptions options;
    options.m = 16;
    options.ef_construction = 100;
    options.ef_search = 64;
    options.description = "HNSWLIB16";
    auto built = BuildHnswlibIndex(options, kDim, data_->data(), kN);
    ASSERT_TRUE(built.ok()) << built.status();
    index_ = built->release();
    exact_ = (*NewExactIndex(kDim, *data_)).release();
  }
  static void TearDownTestSuite() {
    delete index_;
    delete exact_;
    delete data_;
    delete queries_;
  }

  static std::vector<float>* data_;
  static std::vector<float>* queries_;
  static IndexHandle* index_;
  static IndexHandle* exact_;
  ScopedTempDir tmp_{"hnswlib_index_test"};
  const fs::path dir_{tmp_.dir()};
};
std::vector<float>* HnswlibIndexTest::data_ = nullptr;
std::vector<float>* HnswlibIndexTest::queries_ = nullptr;
IndexHandle* HnswlibIndexTest::index_ = nullptr;
IndexHandle* HnswlibIndexTest::exact_ = nullptr;

TEST_F(HnswlibIndexTest, RecallAgainstExactOracle) {
  EXPECT_EQ(index_->size(), kN);
  EXPECT_EQ(index_->dim(), kDim);
  EXPECT_EQ(index_->description(), "HNSWLIB16");
  EXPECT_GE(RecallAtK(*index_, *exact_, *queries_, 10, {.ef_search = 100}),
            0.9);
  // A vector's nearest neighbour is itself, with score 1.
  std::vector<Neighbor> got;
  ASSERT_TRUE(index_->Search(data_->data() + 42 * kDim, 5, {}, &got).ok());
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].row, 42);
  EXPECT_NEAR(got[0].score, 1.0, 1e-5);
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_GE(got[i - 1].score, got[i].score);
}

TEST_F(HnswlibIndexTest, PerCallEfChangesQuality) {
  const double low =
      RecallAtK(*index_, *exact_, *queries_, 10, {.ef_search = 10});
  const double mid =
      RecallAtK(*index_, *exact_, *queries_, 10, {.ef_search = 40});
  const double high =
      RecallAtK(*index_, *exact_, *queries_, 10, {.ef_search = 400});
  EXPECT_LE(low, mid);
  EXPECT_LE(mid, high);
  EXPECT_LT(low, high);  // the parameter reaches the search
  // 0 means the ef given at build.
  EXPECT_TRUE(
      SameResults(SearchAll(*index_, *queries_, 10, {}),
                  SearchAll(*index_, *queries_, 10, {.ef_search = 64})));
  std::vector<Neighbor> out;
  EXPECT_EQ(index_->Search(queries_->data(), 0, {}, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

// k above ef: the walk is ef wide (as Faiss 1.7.3's HNSW), and the k best
// it measured come back. Its ef best are the ef-wide search's answer.
TEST_F(HnswlibIndexTest, KAboveEfKeepsTheBestTheEfWideWalkMeasured) {
  constexpr int kEf = 20, kK = 200;
  const int dim = index_->dim();
  std::vector<Neighbor> wide, narrow;
  for (size_t q = 0; q < queries_->size() / dim; ++q) {
    const float* query = queries_->data() + q * dim;
    ASSERT_TRUE(index_->Search(query, kK, {.ef_search = kEf}, &wide).ok());
    ASSERT_TRUE(index_->Search(query, kEf, {.ef_search = kEf}, &narrow).ok());
    ASSERT_EQ(wide.size(), static_cast<size_t>(kK));  // M 16: >= 32 per hop
    std::set<int32_t> rows;
    for (size_t i = 0; i < wide.size(); ++i) {
      rows.insert(wide[i].row);
      if (i > 0) {
        EXPECT_GE(wide[i - 1].score, wide[i].score);
      }
    }
    EXPECT_EQ(rows.size(), wide.size());  // no element twice
    wide.resize(narrow.size());
    EXPECT_TRUE(SameResults(wide, narrow)) << "query " << q;
  }
  // The ef reaches the walk: recall@200 grows with it.
  const double at_ef =
      RecallAtK(*index_, *exact_, *queries_, kK, {.ef_search = kEf});
  const double at_k =
      RecallAtK(*index_, *exact_, *queries_, kK, {.ef_search = kK});
  EXPECT_LT(at_ef, at_k);
  EXPECT_GE(at_ef, 0.5);
  EXPECT_GE(at_k, 0.9);
}

TEST_F(HnswlibIndexTest, ConcurrentSearchesWithDifferentEfMatchOneThread) {
  const std::vector<int> efs = {10, 24, 64, 200, 0, 500};
  std::vector<std::vector<Neighbor>> want;
  for (int ef : efs)
    want.push_back(SearchAll(*index_, *queries_, 20, {.ef_search = ef}));
  std::vector<std::vector<Neighbor>> got(efs.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < efs.size(); ++t) {
    threads.emplace_back([&, t] {
      // Several rounds, so that the threads' searches overlap.
      for (int round = 0; round < 3; ++round)
        got[t] = SearchAll(*index_, *queries_, 20, {.ef_search = efs[t]});
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t t = 0; t < efs.size(); ++t) {
    SCOPED_TRACE(efs[t]);
    EXPECT_TRUE(SameResults(got[t], want[t]));
  }
}

TEST_F(HnswlibIndexTest, ReconstructCopiesTheStoredVector) {
  std::vector<float> v(kDim);
  ASSERT_TRUE(index_->Reconstruct(1234, v.data()).ok());
  EXPECT_EQ(0, std::memcmp(v.data(), data_->data() + 1234 * kDim,
                           kDim * sizeof(float)));
  EXPECT_EQ(index_->Reconstruct(kN, v.data()).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(index_->Reconstruct(-1, v.data()).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(HnswlibIndexTest, WriteThenLoadGivesIdenticalResults) {
  const std::string path = dir_ / "dssm.hnswlib";
  ASSERT_TRUE(WriteHnswlibIndex(*index_, path).ok());
  auto loaded = LoadHnswlibIndex(path, "HNSWLIB16", 64);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->size(), kN);
  EXPECT_EQ((*loaded)->dim(), kDim);
  EXPECT_EQ((*loaded)->description(), "HNSWLIB16");
  for (int ef : {0, 10, 100}) {
    SCOPED_TRACE(ef);
    EXPECT_TRUE(
        SameResults(SearchAll(**loaded, *queries_, 30, {.ef_search = ef}),
                    SearchAll(*index_, *queries_, 30, {.ef_search = ef})));
  }
  std::vector<float> a(kDim), b(kDim);
  ASSERT_TRUE((*loaded)->Reconstruct(77, a.data()).ok());
  ASSERT_TRUE(index_->Reconstruct(77, b.data()).ok());
  EXPECT_EQ(a, b);
  // Written again, the loaded graph is the same file.
  const std::string again = dir_ / "again.hnswlib";
  ASSERT_TRUE(WriteHnswlibIndex(**loaded, again).ok());
  EXPECT_EQ(ReadFile(again), ReadFile(path));
}

TEST_F(HnswlibIndexTest, MissingAndCorruptFilesAreStatuses) {
  const std::string missing = dir_ / "missing.hnswlib";
  auto status = LoadHnswlibIndex(missing, "HNSWLIB16", 0).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr(missing));

  const std::string path = dir_ / "good.hnswlib";
  ASSERT_TRUE(WriteHnswlibIndex(*index_, path).ok());
  const std::string good = ReadFile(path);
  const std::string bad = dir_ / "bad.hnswlib";
  auto expect_data_loss = [&](const std::string& bytes,
                              const std::string& why) {
    SCOPED_TRACE(why);
    WriteFile(bad, bytes);
    absl::Status s = LoadHnswlibIndex(bad, "HNSWLIB16", 0).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(s.message(), HasSubstr(bad));
  };
  expect_data_loss("this is not an hnswlib index", "text");
  expect_data_loss(std::string(2000, 'x'), "text longer than a header");
  expect_data_loss(good.substr(0, 50), "shorter than the header");
  expect_data_loss(good.substr(0, good.size() - 100), "truncated");
  expect_data_loss(good + "extra", "trailing bytes");
  // Header fields, in saveIndex order: offsetLevel0_, max_elements_,
  // cur_element_count, size_data_per_element_, label_offset_, ...
  auto with_field = [&good](int field, size_t value) {
    std::string bytes = good;
    std::memcpy(bytes.data() + field * sizeof(size_t), &value, sizeof(value));
    return bytes;
  };
  expect_data_loss(with_field(2, kN + 1), "count one too many");
  expect_data_loss(with_field(2, size_t{1} << 60), "absurd count");
  // label_offset_ = the base-layer links (2M + 1 words) + a dim-20 vector.
  expect_data_loss(with_field(4, (2 * 16 + 1) * 4 + 20 * sizeof(float)),
                   "wrong dim");
  // The first link of element 0 (base layer, after its 4-byte list header)
  // pointing past the last element.
  std::string bytes = good;
  const uint32_t past_end = kN + 5;
  std::memcpy(bytes.data() + 96 + 4, &past_end, sizeof(past_end));
  expect_data_loss(bytes, "link out of range");
  // A Faiss index is not an hnswlib one.
  auto flat = BuildFaissIndex({.factory = "Flat"}, kDim, data_->data(), 100);
  ASSERT_TRUE(flat.ok());
  ASSERT_TRUE(WriteFaissIndex(**flat, bad).ok());
  EXPECT_EQ(LoadHnswlibIndex(bad, "HNSWLIB16", 0).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(HnswlibBuildTest, SubsetOfRowsKeepsItemRowsAsLabels) {
  const int n = 600;
  std::vector<float> data = RandomUnitVectors(n, kDim, 3);
  std::vector<int32_t> rows(n);
  for (int i = 0; i < n; ++i) rows[i] = 3 * i + 1;  // rows 1, 4, 7, ...
  HnswlibBuildOptions options;
  options.threads = 2;
  auto index = BuildHnswlibIndex(options, kDim, data.data(), n, rows);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->size(), n);
  auto exact = *NewExactIndex(kDim, data, rows);
  std::vector<Neighbor> got, want;
  ASSERT_TRUE((*index)->Search(data.data() + 5 * kDim, 10, {}, &got).ok());
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].row, 16);
  for (const Neighbor& nb : got) EXPECT_EQ(nb.row % 3, 1) << nb.row;
  ASSERT_TRUE(exact->Search(data.data() + 5 * kDim, 10, {}, &want).ok());
  EXPECT_EQ(got[1].row, want[1].row);
  std::vector<float> v(kDim);
  ASSERT_TRUE((*index)->Reconstruct(16, v.data()).ok());
  EXPECT_EQ(v[0], data[5 * kDim]);
  EXPECT_EQ((*index)->Reconstruct(5, v.data()).code(),
            absl::StatusCode::kNotFound);

  std::vector<int32_t> repeated = rows;
  repeated[7] = repeated[8];
  EXPECT_EQ(BuildHnswlibIndex(options, kDim, data.data(), n, repeated)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      BuildHnswlibIndex(options, kDim, data.data(), n,
                        std::vector<int32_t>(rows.begin(), rows.end() - 1))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(HnswlibBuildTest, ASingleVectorIsAGraph) {
  std::vector<float> data = RandomUnitVectors(1, kDim, 4);
  auto index = BuildHnswlibIndex({}, kDim, data.data(), 1, {9});
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<Neighbor> got;
  ASSERT_TRUE((*index)->Search(data.data(), 10, {}, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].row, 9);
}

TEST(IndexFactoryTest, HnswlibFactoryStringSelectsHnswlib) {
  ScopedTempDir tmp("index_factory_test");
  const int n = 1000;
  std::vector<float> data = RandomUnitVectors(n, kDim, 5);
  auto exact = *NewExactIndex(kDim, data);
  for (const std::string factory : {"HNSWLIB8", "HNSW16"}) {
    SCOPED_TRACE(factory);
    IndexBuildOptions options;
    options.factory = factory;
    options.hnsw_ef_search = 128;
    auto built = BuildIndex(options, kDim, data.data(), n);
    ASSERT_TRUE(built.ok()) << built.status();
    EXPECT_EQ((*built)->description(), factory);
    const std::string path = tmp.dir() + "/space.hnswlib";
    ASSERT_TRUE(WriteIndex(**built, path).ok());
    auto loaded = LoadIndex(path, factory, 128);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ((*loaded)->description(), factory);
    EXPECT_GE(RecallAtK(**loaded, *exact, data, 10, {}), 0.9);
    // The other backend cannot read it.
    const std::string other = factory == "HNSW16" ? "HNSWLIB16" : "HNSW16";
    EXPECT_EQ(LoadIndex(path, other, 128).status().code(),
              absl::StatusCode::kDataLoss);
  }
  EXPECT_TRUE(IsHnswlibFactory("HNSWLIB32"));
  EXPECT_FALSE(IsHnswlibFactory("HNSW32"));
  EXPECT_FALSE(IsHnswlibFactory("hnswlib32"));
  for (const std::string factory :
       {"HNSWLIB", "HNSWLIBx", "HNSWLIB32,Flat", "HNSWLIB1", "HNSWLIB99999"}) {
    SCOPED_TRACE(factory);
    IndexBuildOptions options;
    options.factory = factory;
    absl::Status s = BuildIndex(options, kDim, data.data(), n).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
  auto hnswlib = BuildIndex({.factory = "HNSWLIB8"}, kDim, data.data(), n);
  ASSERT_TRUE(hnswlib.ok());
  const std::string unwritable = tmp.dir() + "/no/such/dir/space.hnswlib";
  absl::Status s = WriteIndex(**hnswlib, unwritable);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(unwritable), HasSubstr("write")));
}

}  // namespace
}  // namespace recall
