// Vectors, a recall measure and a wrapper index shared by the index tests
// (and the builder's neighbour-table and the engine's tests).
#ifndef RECALL_TESTS_INDEX_INDEX_TEST_UTIL_H_
#define RECALL_TESTS_INDEX_INDEX_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "index/faiss_index.h"
#include "index/index_handle.h"

namespace recall {

// `n` random unit vectors of `dim` floats (Gaussian, normalised): harder
// for an approximate index than clustered embeddings, so recall on them is
// a floor.
inline std::vector<float> RandomUnitVectors(int n, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> v(static_cast<size_t>(n) * dim);
  for (float& x : v) x = normal(rng);
  EXPECT_TRUE(NormalizeRows(v.data(), n, dim).ok());
  return v;
}

// Mean fraction of the exact top-k that `index` finds, over `queries`.
inline double RecallAtK(const IndexHandle& index, const IndexHandle& exact,
                        const std::vector<float>& queries, int k,
                        const SearchParams& params) {
  const int dim = index.dim();
  const int nq = static_cast<int>(queries.size() / dim);
  double total = 0;
  std::vector<Neighbor> got, want;
  for (int q = 0; q < nq; ++q) {
    EXPECT_TRUE(index.Search(queries.data() + q * dim, k, params, &got).ok());
    EXPECT_TRUE(exact.Search(queries.data() + q * dim, k, {}, &want).ok());
    std::set<int32_t> truth;
    for (const Neighbor& n : want) truth.insert(n.row);
    int hits = 0;
    for (const Neighbor& n : got) hits += truth.count(n.row);
    total += static_cast<double>(hits) / want.size();
  }
  return total / nq;
}

// An index that hands every call to `inner`; tests override Search to
// count or slow down the searches.
class ForwardingIndex : public IndexHandle {
 public:
  explicit ForwardingIndex(std::shared_ptr<const IndexHandle> inner)
      : inner_(std::move(inner)) {}
  int dim() const override { return inner_->dim(); }
  int64_t size() const override { return inner_->size(); }
  const std::string& description() const override {
    return inner_->description();
  }
  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    return inner_->Search(query, k, params, out);
  }
  absl::Status Reconstruct(int32_t row, float* out) const override {
    return inner_->Reconstruct(row, out);
  }

 private:
  std::shared_ptr<const IndexHandle> inner_;
};

}  // namespace recall

#endif  // RECALL_TESTS_INDEX_INDEX_TEST_UTIL_H_
