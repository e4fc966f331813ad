// IndexHandle: nearest-neighbour search over one embedding space's item
// vectors. Ids are item rows (store/item_table.h). The Faiss and hnswlib
// implementations serve traffic (index/index_factory.h picks one by factory
// string); the exact brute-force one is the oracle in tests.
#ifndef RECALL_INDEX_INDEX_HANDLE_H_
#define RECALL_INDEX_INDEX_HANDLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace recall {

struct Neighbor {
  int32_t row;  // item row
  float score;  // inner product; cosine similarity on normalised vectors
};

// Keeps the `k` best of `out` (highest score; ties: lower row first), best
// first: what an exact scan returns.
void KeepBest(int k, std::vector<Neighbor>* out);

// Per-call search parameters. Zero means "the index's own default"; a
// parameter that does not apply to the index type is ignored.
struct SearchParams {
  int ef_search =
      0;  // HNSW: candidate list size. Higher: better recall, slower.
  int nprobe =
      0;  // IVF: inverted lists visited. Higher: better recall, slower.
};

// Thread safety: every method is const and safe for concurrent calls from
// multiple threads without external synchronization. Search never mutates the
// index: per-call parameters go through `SearchParams`.
class IndexHandle {
 public:
  virtual ~IndexHandle() = default;

  virtual int dim() const = 0;
  // Number of vectors indexed.
  virtual int64_t size() const = 0;
  // Human-readable index type, e.g. "HNSW32" or "exact".
  virtual const std::string& description() const = 0;

  // Writes up to `k` neighbours of `query` (dim() floats) into `*out`, best
  // first (highest score); `*out` is cleared first. Fewer than k come back
  // when the index holds fewer or an approximate search finds fewer. Runs on
  // the calling thread only. INVALID_ARGUMENT for k <= 0; INTERNAL when the
  // underlying library fails.
  virtual absl::Status Search(const float* query, int k,
                              const SearchParams& params,
                              std::vector<Neighbor>* out) const = 0;

  // Copies the stored vector of item `row` into `out` (dim() floats); lossy
  // for compressed indexes (PQ, SQ). NOT_FOUND when the row is not indexed.
  virtual absl::Status Reconstruct(int32_t row, float* out) const = 0;
};

}  // namespace recall

#endif  // RECALL_INDEX_INDEX_HANDLE_H_
