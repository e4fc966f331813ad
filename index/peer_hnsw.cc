#include "index/peer_hnsw.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "faiss/IndexHNSW.h"
#include "index/faiss_util.h"
#include "index/hnswlib_index.h"

namespace recall {

struct PeerHnsw::Impl {
  std::unique_ptr<IndexHandle> index;
};

PeerHnsw::PeerHnsw(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PeerHnsw::~PeerHnsw() = default;

absl::StatusOr<std::unique_ptr<PeerHnsw>> PeerHnsw::Build(const float* vectors,
                                                          int64_t n, int dim,
                                                          int m,
                                                          int ef_construction) {
  HnswlibBuildOptions options;
  options.m = m;
  options.ef_construction = ef_construction;
  options.description = absl::StrCat("HNSWLIB", m);
  auto impl = std::make_unique<Impl>();
  absl::StatusOr<std::unique_ptr<IndexHandle>> index =
      BuildHnswlibIndex(options, dim, vectors, n);
  if (!index.ok()) return index.status();
  impl->index = std::move(*index);
  return std::unique_ptr<PeerHnsw>(new PeerHnsw(std::move(impl)));
}

void PeerHnsw::Search(const float* query, int k, int ef,
                      std::vector<Neighbor>* out) {
  // Fails only for k <= 0, which leaves `out` empty.
  impl_->index->Search(query, k, {.ef_search = ef}, out).IgnoreError();
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
