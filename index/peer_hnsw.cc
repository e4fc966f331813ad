#include "index/peer_hnsw.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "faiss/IndexHNSW.h"
// hnswlib 0.6.2's SSE path prefetches through the element one past the end
// of a link list (`*(datal + j + 1)` in searchBaseLayer): AddressSanitizer
// reports it as a heap overflow. Sanitizer builds use its plain C++ path; the
// benchmark's figures come from the normal build, with SSE.
#ifdef RECALL_SANITIZED_BUILD
#define NO_MANUAL_VECTORIZATION
#endif
#include "hnswlib/hnswlib.h"
#include "index/faiss_util.h"

namespace recall {

struct PeerHnsw::Impl {
  explicit Impl(int dim) : space(dim) {}
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

PeerHnsw::PeerHnsw(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerHnsw::~PeerHnsw() = default;

absl::StatusOr<std::unique_ptr<PeerHnsw>> PeerHnsw::Build(const float* vectors,
                                                          int64_t n, int dim,
                                                          int m,
                                                          int ef_construction) {
  if (n <= 0 || dim <= 0 || m <= 0 || ef_construction <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("hnswlib: ", n, " vectors of dim ", dim, ", M ", m,
                     ", efConstruction ", ef_construction));
  }
  auto impl = std::make_unique<Impl>(dim);
  try {
    impl->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        &impl->space, static_cast<size_t>(n), static_cast<size_t>(m),
        static_cast<size_t>(ef_construction));
    // The first point alone, then the rest in parallel (hnswlib's addPoint
    // is thread-safe once the graph has an entry point).
    impl->graph->addPoint(vectors, 0);
#pragma omp parallel for schedule(dynamic, 256)
    for (int64_t i = 1; i < n; ++i) {
      impl->graph->addPoint(vectors + i * dim, static_cast<size_t>(i));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnswlib: ", e.what()));
  }
  return std::unique_ptr<PeerHnsw>(new PeerHnsw(std::move(impl)));
}

void PeerHnsw::Search(const float* query, int k, int ef,
                      std::vector<Neighbor>* out) {
  impl_->graph->setEf(static_cast<size_t>(ef));
  auto result = impl_->graph->searchKnn(query, static_cast<size_t>(k));
  out->resize(result.size());
  // The queue holds the worst first; distance = 1 - inner product.
  for (size_t i = result.size(); i-- > 0;) {
    (*out)[i] = {static_cast<int32_t>(result.top().second),
                 1.0f - result.top().first};
    result.pop();
  }
}

struct PeerFaissHnsw::Impl {
  std::unique_ptr<faiss::IndexHNSWFlat> index;
  std::vector<float> distances;
  std::vector<faiss::Index::idx_t> labels;
};

PeerFaissHnsw::PeerFaissHnsw(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
PeerFaissHnsw::~PeerFaissHnsw() = default;

absl::StatusOr<std::unique_ptr<PeerFaissHnsw>> PeerFaissHnsw::Build(
    const float* vectors, int64_t n, int dim, int m, int ef_construction) {
  auto impl = std::make_unique<Impl>();
  absl::Status status =
      CatchFaiss(absl::StatusCode::kInternal, "faiss HNSW", [&] {
        impl->index = std::make_unique<faiss::IndexHNSWFlat>(
            dim, m, faiss::METRIC_INNER_PRODUCT);
        impl->index->hnsw.efConstruction = ef_construction;
        impl->index->add(n, vectors);
      });
  if (!status.ok()) return status;
  return std::unique_ptr<PeerFaissHnsw>(new PeerFaissHnsw(std::move(impl)));
}

void PeerFaissHnsw::Search(const float* query, int k, int ef,
                           std::vector<Neighbor>* out) {
  impl_->index->hnsw.efSearch = ef;
  impl_->distances.resize(k);
  impl_->labels.resize(k);
  impl_->index->search(1, query, k, impl_->distances.data(),
                       impl_->labels.data());
  out->clear();
  for (int i = 0; i < k; ++i) {
    if (impl_->labels[i] >= 0)
      out->push_back(
          {static_cast<int32_t>(impl_->labels[i]), impl_->distances[i]});
  }
}

}  // namespace recall
