// LiveIndex: a flat array, and an hnswlib graph beside it from graph_min on;
// see index/live_index.h.
#include "index/live_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "index/faiss_index.h"
#include "index/hnswlib_index.h"
#include "util/status_macros.h"

namespace recall {
namespace {

class LiveIndexImpl final : public LiveIndex {
 public:
  explicit LiveIndexImpl(const LiveIndexOptions& options)
      : options_(options), dim_(options.dim) {}

  int dim() const override { return dim_; }

  int64_t size() const override {
    absl::ReaderMutexLock lock(&mu_);
    return static_cast<int64_t>(labels_.size());
  }

  bool uses_graph() const override {
    absl::ReaderMutexLock lock(&mu_);
    return graph_ != nullptr;
  }

  int64_t MemoryBytes() const override {
    absl::ReaderMutexLock lock(&mu_);
    int64_t bytes =
        static_cast<int64_t>(data_.capacity() * sizeof(float) +
                             labels_.capacity() * sizeof(int32_t) +
                             position_.capacity() * (2 * sizeof(int32_t) + 1));
    if (graph_ != nullptr) bytes += graph_->MemoryBytes();
    return bytes;
  }

  absl::Status Upsert(int32_t label, const float* vector) override {
    if (label < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("live index: negative label ", label));
    }
    for (int j = 0; j < dim_; ++j) {
      if (!std::isfinite(vector[j])) {
        return absl::InvalidArgumentError(
            absl::StrCat("live index: value ", j, " is not finite"));
      }
    }
    // The one writer may read its own state without the lock; a graph is
    // built off the lock, while searches go on scanning the array.
    if (graph_ == nullptr && options_.graph_min > 0 &&
        static_cast<int64_t>(labels_.size()) + 1 >= options_.graph_min &&
        !position_.contains(label)) {
      ASSIGN_OR_RETURN(std::unique_ptr<GrowingGraph> graph, BuildGraph());
      absl::MutexLock lock(&mu_);
      graph_ = std::move(graph);
    }
    if (auto it = position_.find(label);
        it != position_.end() &&
        std::memcmp(data_.data() + static_cast<size_t>(it->second) * dim_,
                    vector, dim_ * sizeof(float)) == 0) {
      return absl::OkStatus();  // unchanged: a repeated upsert costs no move
    }
    absl::MutexLock lock(&mu_);
    if (graph_ != nullptr) RETURN_IF_ERROR(graph_->Upsert(label, vector));
    auto [it, inserted] =
        position_.try_emplace(label, static_cast<int32_t>(labels_.size()));
    if (inserted) {
      labels_.push_back(label);
      data_.insert(data_.end(), vector, vector + dim_);
    } else {
      std::memcpy(data_.data() + static_cast<size_t>(it->second) * dim_, vector,
                  dim_ * sizeof(float));
    }
    return absl::OkStatus();
  }

  bool Remove(int32_t label) override {
    absl::MutexLock lock(&mu_);
    auto it = position_.find(label);
    if (it == position_.end()) return false;
    // The last entry moves into the hole.
    const int32_t hole = it->second;
    const int32_t last = static_cast<int32_t>(labels_.size()) - 1;
    position_.erase(it);
    if (hole != last) {
      labels_[hole] = labels_[last];
      position_[labels_[hole]] = hole;
      std::memcpy(data_.data() + static_cast<size_t>(hole) * dim_,
                  data_.data() + static_cast<size_t>(last) * dim_,
                  dim_ * sizeof(float));
    }
    labels_.pop_back();
    data_.resize(labels_.size() * dim_);
    if (graph_ != nullptr) graph_->Remove(label);
    return true;
  }

  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    out->clear();
    if (k <= 0) return absl::InvalidArgumentError("k must be positive");
    absl::ReaderMutexLock lock(&mu_);
    if (graph_ != nullptr) {
      graph_->Search(
          query, k,
          params.ef_search > 0 ? params.ef_search : options_.ef_search, out);
      return absl::OkStatus();
    }
    out->reserve(labels_.size());
    for (size_t i = 0; i < labels_.size(); ++i) {
      out->push_back(
          {labels_[i], InnerProduct(query, data_.data() + i * dim_, dim_)});
    }
    KeepBest(k, out);
    return absl::OkStatus();
  }

  bool Reconstruct(int32_t label, float* out) const override {
    absl::ReaderMutexLock lock(&mu_);
    auto it = position_.find(label);
    if (it == position_.end()) return false;
    std::memcpy(out, data_.data() + static_cast<size_t>(it->second) * dim_,
                dim_ * sizeof(float));
    return true;
  }

 private:
  // A graph over the array's vectors (called by the writer, unlocked).
  absl::StatusOr<std::unique_ptr<GrowingGraph>> BuildGraph() const
      ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ASSIGN_OR_RETURN(std::unique_ptr<GrowingGraph> graph,
                     NewGrowingGraph(dim_, options_.m, options_.ef_construction,
                                     2 * static_cast<int64_t>(labels_.size())));
    for (size_t i = 0; i < labels_.size(); ++i)
      RETURN_IF_ERROR(graph->Upsert(labels_[i], data_.data() + i * dim_));
    return graph;
  }

  const LiveIndexOptions options_;
  const int dim_;
  mutable absl::Mutex mu_;
  // Entry i: labels_[i], vector data_[i * dim_, (i + 1) * dim_).
  std::vector<float> data_ ABSL_GUARDED_BY(mu_);
  std::vector<int32_t> labels_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int32_t, int32_t> position_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<GrowingGraph> graph_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<LiveIndex>> NewLiveIndex(
    const LiveIndexOptions& options) {
  if (options.dim <= 0 || options.graph_min < 0 || options.m < 2 ||
      options.m > 1024 || options.ef_construction <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "live index: dim ", options.dim, ", graph_min ", options.graph_min,
        ", M ", options.m, ", efConstruction ", options.ef_construction,
        " (want dim > 0, graph_min >= 0, M in [2, 1024], efConstruction > 0)"));
  }
  return std::unique_ptr<LiveIndex>(new LiveIndexImpl(options));
}

}  // namespace recall
