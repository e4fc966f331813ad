// hnswlib's HNSW (Debian libhnswlib-dev, header-only) over normalised
// vectors, for the peer benchmark against Faiss's HNSW (recallctl
// bench-peer). Not an IndexHandle: hnswlib keeps efSearch in the graph
// (setEf), so concurrent searches with different ef would race; the
// benchmark searches from one thread. If it ever serves, it needs a
// per-call ef first.
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
// effect (a per-call SearchParametersHNSW is capped there). Single-threaded,
// like PeerHnsw.
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
  // all OpenMP threads.
  static absl::StatusOr<std::unique_ptr<PeerHnsw>> Build(const float* vectors,
                                                         int64_t n, int dim,
                                                         int m,
                                                         int ef_construction);
  ~PeerHnsw();

  // The k best rows by inner product, best first, searching with `ef`.
  // Not thread-safe (see the file comment).
  void Search(const float* query, int k, int ef, std::vector<Neighbor>* out);

 private:
  struct Impl;
  explicit PeerHnsw(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace recall

#endif  // RECALL_INDEX_PEER_HNSW_H_
