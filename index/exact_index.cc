#include "index/exact_index.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace recall {
namespace {

class ExactIndex final : public IndexHandle {
 public:
  ExactIndex(int dim, std::vector<float> vectors, std::vector<int32_t> rows)
      : dim_(dim), vectors_(std::move(vectors)), rows_(std::move(rows)) {
    if (rows_.empty()) {
      rows_.resize(vectors_.size() / dim_);
      std::iota(rows_.begin(), rows_.end(), 0);
    }
    for (size_t i = 0; i < rows_.size(); ++i) position_[rows_[i]] = i;
  }

  int dim() const override { return dim_; }
  int64_t size() const override { return static_cast<int64_t>(rows_.size()); }
  const std::string& description() const override { return description_; }

  absl::Status Search(const float* query, int k, const SearchParams& /*params*/,
                      std::vector<Neighbor>* out) const override {
    out->clear();
    if (k <= 0) return absl::InvalidArgumentError("k must be positive");
    out->reserve(rows_.size());
    for (size_t i = 0; i < rows_.size(); ++i) {
      const float* v = vectors_.data() + i * dim_;
      double dot = 0;
      for (int j = 0; j < dim_; ++j) dot += double{query[j]} * v[j];
      out->push_back({rows_[i], static_cast<float>(dot)});
    }
    // Ties broken by row so that the oracle's answer is unique.
    KeepBest(k, out);
    return absl::OkStatus();
  }

  absl::Status Reconstruct(int32_t row, float* out) const override {
    auto it = position_.find(row);
    if (it == position_.end()) {
      return absl::NotFoundError(absl::StrCat("row ", row, " is not indexed"));
    }
    std::copy_n(vectors_.data() + it->second * dim_, dim_, out);
    return absl::OkStatus();
  }

 private:
  const int dim_;
  const std::vector<float> vectors_;
  std::vector<int32_t> rows_;
  absl::flat_hash_map<int32_t, size_t> position_;
  const std::string description_ = "exact";
};

}  // namespace

void KeepBest(int k, std::vector<Neighbor>* out) {
  auto better = [](const Neighbor& a, const Neighbor& b) {
    return a.score != b.score ? a.score > b.score : a.row < b.row;
  };
  const size_t keep = std::min<size_t>(std::max(k, 0), out->size());
  std::partial_sort(out->begin(), out->begin() + keep, out->end(), better);
  out->resize(keep);
}

absl::StatusOr<std::unique_ptr<IndexHandle>> NewExactIndex(
    int dim, std::vector<float> vectors, std::vector<int32_t> rows) {
  if (dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("exact index: dimension ", dim, ", want at least 1"));
  }
  if (vectors.size() % static_cast<size_t>(dim) != 0 ||
      (!rows.empty() && rows.size() * dim != vectors.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exact index: ", vectors.size(), " floats are not ",
        rows.empty() ? "whole vectors" : absl::StrCat(rows.size(), " vectors"),
        " of dimension ", dim));
  }
  return std::make_unique<ExactIndex>(dim, std::move(vectors), std::move(rows));
}

}  // namespace recall
