#include "index/live_index.h"

#include <atomic>
#include <cmath>
#include <set>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "tests/index/index_test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

constexpr int kDim = 32;

// A LiveIndex seen as an IndexHandle, for RecallAtK.
class LiveIndexAsHandle final : public IndexHandle {
 public:
  explicit LiveIndexAsHandle(const LiveIndex& index) : index_(index) {}
  int dim() const override { return index_.dim(); }
  int64_t size() const override { return index_.size(); }
  const std::string& description() const override { return description_; }
  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    return index_.Search(query, k, params, out);
  }
  absl::Status Reconstruct(int32_t row, float* out) const override {
    return index_.Reconstruct(row, out) ? absl::OkStatus()
                                        : absl::NotFoundError("no such label");
  }

 private:
  const LiveIndex& index_;
  const std::string description_ = "live";
};

std::unique_ptr<LiveIndex> MakeIndex(int graph_min) {
  LiveIndexOptions options;
  options.dim = kDim;
  options.graph_min = graph_min;
  options.ef_search = 128;
  auto index = NewLiveIndex(options);
  EXPECT_TRUE(index.ok()) << index.status();
  return std::move(*index);
}

// Labels 1000 + i for vectors i.
void AddAll(LiveIndex& index, const std::vector<float>& data) {
  for (size_t i = 0; i < data.size() / kDim; ++i) {
    ASSERT_TRUE(
        index.Upsert(1000 + static_cast<int32_t>(i), data.data() + i * kDim)
            .ok());
  }
}

// The exact oracle over the same vectors and labels.
std::unique_ptr<IndexHandle> Oracle(const std::vector<float>& data) {
  std::vector<int32_t> rows;
  for (size_t i = 0; i < data.size() / kDim; ++i)
    rows.push_back(1000 + static_cast<int32_t>(i));
  return *NewExactIndex(kDim, data, rows);
}

TEST(LiveIndexTest, BelowGraphMinItScansExactly) {
  const std::vector<float> data = RandomUnitVectors(500, kDim, 1);
  auto index = MakeIndex(/*graph_min=*/1000);
  AddAll(*index, data);
  EXPECT_EQ(index->size(), 500);
  EXPECT_FALSE(index->uses_graph());
  auto oracle = Oracle(data);
  const std::vector<float> queries = RandomUnitVectors(20, kDim, 2);
  std::vector<Neighbor> got, want;
  for (int q = 0; q < 20; ++q) {
    ASSERT_TRUE(index->Search(queries.data() + q * kDim, 10, {}, &got).ok());
    ASSERT_TRUE(oracle->Search(queries.data() + q * kDim, 10, {}, &want).ok());
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].row, want[i].row);
      EXPECT_NEAR(got[i].score, want[i].score, 1e-5);
    }
  }
}

TEST(LiveIndexTest, FromGraphMinItSearchesAGraphWithHighRecall) {
  const std::vector<float> data = RandomUnitVectors(3000, kDim, 3);
  auto index = MakeIndex(/*graph_min=*/1000);
  AddAll(*index, data);
  EXPECT_TRUE(index->uses_graph());
  LiveIndexAsHandle handle(*index);
  auto oracle = Oracle(data);
  const std::vector<float> queries = RandomUnitVectors(50, kDim, 4);
  EXPECT_GT(RecallAtK(handle, *oracle, queries, 10, {}), 0.9);
}

TEST(LiveIndexTest, RemovedLabelsAreNeverFoundAndTheirSlotsAreReused) {
  for (int graph_min : {0, 100}) {
    SCOPED_TRACE(graph_min);
    const std::vector<float> data = RandomUnitVectors(400, kDim, 5);
    auto index = MakeIndex(graph_min);
    AddAll(*index, data);
    for (int i = 0; i < 400; i += 2) EXPECT_TRUE(index->Remove(1000 + i));
    EXPECT_FALSE(index->Remove(1000));  // already gone
    EXPECT_EQ(index->size(), 200);
    std::vector<Neighbor> got;
    for (int i = 0; i < 400; i += 2) {
      ASSERT_TRUE(index->Search(data.data() + i * kDim, 5, {}, &got).ok());
      for (const Neighbor& n : got) EXPECT_NE(n.row % 2, 0) << n.row;
    }
    // k above ef: the k best the ef-wide walk measured, none removed.
    ASSERT_TRUE(index->Search(data.data(), 150, {.ef_search = 8}, &got).ok());
    EXPECT_GT(got.size(), 8u);
    for (const Neighbor& n : got) EXPECT_NE(n.row % 2, 0) << n.row;
    // New labels take the removed ones' places; the old vectors are found
    // under the new labels, and a moved label under its new vector.
    for (int i = 0; i < 400; i += 2)
      ASSERT_TRUE(index->Upsert(5000 + i, data.data() + i * kDim).ok());
    ASSERT_TRUE(index->Upsert(1001, data.data() + 2 * kDim).ok());
    ASSERT_TRUE(index->Search(data.data() + 10 * kDim, 1, {}, &got).ok());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].row, 5010);
    std::vector<float> v(kDim);
    ASSERT_TRUE(index->Reconstruct(1001, v.data()));
    EXPECT_EQ(v[0], data[2 * kDim]);
    EXPECT_FALSE(index->Reconstruct(1000, v.data()));
    EXPECT_EQ(index->size(), 400);
  }
}

TEST(LiveIndexTest, RefusesBadInput) {
  auto index = MakeIndex(0);
  std::vector<float> v(kDim, 0.1f);
  EXPECT_THAT(index->Upsert(-1, v.data()).message(), HasSubstr("negative"));
  v[3] = NAN;
  EXPECT_THAT(index->Upsert(1, v.data()).message(), HasSubstr("not finite"));
  EXPECT_EQ(index->size(), 0);
  std::vector<Neighbor> out;
  EXPECT_FALSE(index->Search(v.data(), 0, {}, &out).ok());
  EXPECT_TRUE(index->Search(v.data(), 5, {}, &out).ok());
  EXPECT_TRUE(out.empty());
  LiveIndexOptions bad;
  bad.dim = 0;
  EXPECT_FALSE(NewLiveIndex(bad).ok());
}

// Searches on several threads while one writer adds, moves and removes
// labels across the scan-to-graph switch: every answer holds labels that
// were added at some point, best first (TSan checks the locking).
TEST(LiveIndexTest, SearchesRunConcurrentlyWithOneWriter) {
  const std::vector<float> data = RandomUnitVectors(1500, kDim, 6);
  auto index = MakeIndex(/*graph_min=*/500);
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<int64_t> searches{0};
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::vector<Neighbor> got;
      std::vector<float> v(kDim);
      for (int q = 0; !done; ++q) {
        const float* query = data.data() + ((q * 7 + t) % 1500) * kDim;
        ASSERT_TRUE(index->Search(query, 10, {}, &got).ok());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_GE(got[i].row, 1000);
          ASSERT_LT(got[i].row, 2500);
          if (i > 0) {
            ASSERT_GE(got[i - 1].score, got[i].score - 1e-6);
          }
        }
        index->Reconstruct(1000 + q % 1500, v.data());
        ++searches;
      }
    });
  }
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(index->Upsert(1000 + i, data.data() + i * kDim).ok());
    if (i % 3 == 0) index->Remove(1000 + i / 2);
    if (i % 5 == 0) {
      ASSERT_TRUE(index->Upsert(1000 + i / 3, data.data() + i * kDim).ok());
    }
  }
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_TRUE(index->uses_graph());
  EXPECT_GT(searches, 0);
  EXPECT_GT(index->MemoryBytes(), 1500 * kDim * 4 / 2);
}

}  // namespace
}  // namespace recall
