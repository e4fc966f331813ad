// LiveIndex: the growing part of one space (DESIGN.md, "Freshness"): the
// vectors of items that arrived after the snapshot was built, searched beside
// the snapshot's immutable index. Entries are keyed by an int32 label the
// caller chooses (recall/live_items.h uses live item ids); Search returns
// labels in Neighbor::row.
//
// Structure, chosen by measurement (docs/PERFORMANCE.md, "Live segment"):
// every vector is kept in a flat array, which is scanned exactly while the
// index holds fewer than `graph_min` vectors; from the first time it reaches
// that size an hnswlib graph is kept beside the array (built from it once,
// then every change applied to both) and searched with ef instead. Removed
// labels leave the array at once and are marked deleted in the graph, whose
// element the next new label reuses, so the graph never holds more elements
// than the index's peak size.
//
// Scores are inner products: cosine similarities for the L2-normalised
// vectors the caller stores, as in every snapshot index.
//
// Thread safety: Search, Reconstruct, size, uses_graph and MemoryBytes are
// safe from any number of threads concurrently with one writer at a time
// (Upsert, Remove). Readers share a reader lock for the duration of a
// search; a change holds the writer lock for as long as hnswlib takes to
// insert or move one point (about 0.1 ms at 100k vectors of 64 dims), so a
// storm of changes delays searches by that much each.
#ifndef RECALL_INDEX_LIVE_INDEX_H_
#define RECALL_INDEX_LIVE_INDEX_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "index/index_handle.h"

namespace recall {

struct LiveIndexOptions {
  int dim = 0;
  // The size from which the index is searched through an hnswlib graph
  // instead of a scan: a scan of 64-d vectors costs about 10 ns a vector,
  // a graph search about what a scan of a few thousand costs, plus the
  // graph's upkeep on every change. 0 never builds a graph.
  int graph_min = 4096;
  // The graph's neighbours per node and construction depth.
  int m = 16;
  int ef_construction = 64;
  // The graph's ef for searches whose SearchParams::ef_search is 0.
  int ef_search = 64;
};

class LiveIndex {
 public:
  virtual ~LiveIndex() = default;

  virtual int dim() const = 0;
  // Labels held.
  virtual int64_t size() const = 0;
  // Whether searches go through the graph.
  virtual bool uses_graph() const = 0;
  // Bytes held: the array, the label map and the graph.
  virtual int64_t MemoryBytes() const = 0;

  // Stores `vector` (dim() floats) under `label`, replacing what the label
  // held. INVALID_ARGUMENT for a negative label or a value that is not
  // finite; INTERNAL when hnswlib fails (nothing is changed then).
  virtual absl::Status Upsert(int32_t label, const float* vector) = 0;

  // Removes `label`; false when it was not held.
  virtual bool Remove(int32_t label) = 0;

  // Up to k labels best first (highest inner product), as
  // IndexHandle::Search: exact below graph_min, with ef = max(k,
  // params.ef_search or the options' ef_search) through the graph.
  // INVALID_ARGUMENT for k <= 0.
  virtual absl::Status Search(const float* query, int k,
                              const SearchParams& params,
                              std::vector<Neighbor>* out) const = 0;

  // Copies label's vector into `out`; false when the label is not held.
  virtual bool Reconstruct(int32_t label, float* out) const = 0;
};

// INVALID_ARGUMENT for dim <= 0, graph_min < 0, M outside [2, 1024] or
// efConstruction <= 0.
absl::StatusOr<std::unique_ptr<LiveIndex>> NewLiveIndex(
    const LiveIndexOptions& options);

}  // namespace recall

#endif  // RECALL_INDEX_LIVE_INDEX_H_
