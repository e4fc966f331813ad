// The two HNSW implementations side by side for the peer benchmark
// (recallctl bench-peer): Faiss's HNSW with efSearch set on the graph, and
// hnswlib (Debian libhnswlib-dev, header-only) through the hnswlib
// IndexHandle the service can serve (index/hnswlib_index.h, factory
// "HNSWLIB<M>"), which takes ef per call.
#ifndef RECALL_INDEX_PEER_HNSW_H_
#define RECALL_INDEX_PEER_HNSW_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_handle.h"

namespace recall {

// Faiss's HNSW (IndexHNSWFlat, inner product) with efSearch set on the graph
// before each search, which Faiss 1.7.3 needs for an ef above k to take
// effect (a per-call SearchParametersHNSW is capped there). Not thread-safe:
// Search writes efSearch into the graph; the benchmark searches from one
// thread.
class PeerFaissHnsw {
 public:
  static absl::StatusOr<std::unique_ptr<PeerFaissHnsw>> Build(
      const float* vectors, int64_t n, int dim, int m, int ef_construction);
  ~PeerFaissHnsw();
  void Search(const float* query, int k, int ef, std::vector<Neighbor>* out);

 private:
  struct Impl;
  explicit PeerFaissHnsw(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class PeerHnsw {
 public:
  // Builds over `n` rows of `dim` floats (inner product; vector i is row i)
  // with M neighbours per node and construction depth ef_construction, on
  // all cores (BuildHnswlibIndex).
  static absl::StatusOr<std::unique_ptr<PeerHnsw>> Build(const float* vectors,
                                                         int64_t n, int dim,
                                                         int m,
                                                         int ef_construction);
  ~PeerHnsw();

  // The k best rows by inner product, best first, searching with ef
  // (IndexHandle::Search with a per-call ef_search; k above ef keeps the k
  // best the ef-wide walk measured).
  void Search(const float* query, int k, int ef, std::vector<Neighbor>* out);

 private:
  struct Impl;
  explicit PeerHnsw(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace recall

#endif  // RECALL_INDEX_PEER_HNSW_H_
