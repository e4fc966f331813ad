// hnswlib-backed IndexHandle: hnswlib's HierarchicalNSW (Debian
// libhnswlib-dev 0.6.2, header-only) over L2-normalised vectors with
// hnswlib's InnerProductSpace, so scores are cosine similarities as in the
// Faiss indexes. hnswlib labels are item rows. Selected by the factory string
// "HNSWLIB<M>" (index/index_factory.h); bench-peer measured it faster than
// Faiss's HNSW at equal recall (docs/PERFORMANCE.md).
//
// Search is const and safe for concurrent calls with different ef: it does
// not use hnswlib's searchKnn (which reads the ef_ set on the graph by
// setEf) but runs the same greedy descent and base-layer search with the
// call's ef. hnswlib's visited-list pool hands each concurrent search its
// own scratch. The ef is the walk's width whatever k: with k above ef the
// search keeps the k best of the elements the ef-wide walk measured, as
// Faiss 1.7.3's HNSW does (hnswlib's searchKnn would walk max(ef, k) wide),
// so it may return fewer than k when the walk measures fewer.
//
// File format: hnswlib 0.6.2's saveIndex output, unchanged (no dim, no ef;
// the dim follows from the element layout and the default ef comes from the
// MANIFEST at load). Loading checks the layout, the file length and every
// link before the graph is searched.
#ifndef RECALL_INDEX_HNSWLIB_INDEX_H_
#define RECALL_INDEX_HNSWLIB_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_handle.h"

namespace recall {

struct HnswlibBuildOptions {
  // Neighbours per node (2M on the base layer). Higher: better recall,
  // more memory, slower build.
  int m = 32;
  // Construction depth. Higher: better graph, slower build.
  int ef_construction = 80;
  // The ef of searches whose SearchParams::ef_search is 0 (the builder
  // passes the MANIFEST's). Not stored in the file.
  int ef_search = 16;
  // Threads adding points; 0: one per core.
  int threads = 0;
  // hnswlib's level generator seed. With more than one thread the graph
  // still depends on the insertion order, so builds are not bit-identical.
  uint64_t seed = 100;
  // description() of the handle, e.g. "HNSWLIB32".
  std::string description = "HNSWLIB32";
};

// Builds a graph over `n` vectors of `dim` floats (row-major, already
// L2-normalised). Vector i gets label rows[i], or i when `rows` is empty.
// INVALID_ARGUMENT for n, dim, M or efConstruction out of range, or rows
// that are negative, repeated or not n long; INTERNAL when hnswlib fails.
absl::StatusOr<std::unique_ptr<IndexHandle>> BuildHnswlibIndex(
    const HnswlibBuildOptions& options, int dim, const float* vectors,
    int64_t n, const std::vector<int32_t>& rows = {});

// Writes an index made by BuildHnswlibIndex or LoadHnswlibIndex to `path`.
// INVALID_ARGUMENT for another kind of index; INTERNAL naming the path when
// the file cannot be written in full.
absl::Status WriteHnswlibIndex(const IndexHandle& index,
                               const std::string& path);

// Loads a file written by WriteHnswlibIndex. `description` becomes the
// handle's description() (the factory string from the MANIFEST) and
// `ef_search` the ef of searches without a per-call one (0: 16, Faiss's
// default). NOT_FOUND when the file does not exist; DATA_LOSS naming the
// path when it is not a readable hnswlib graph: a header whose layout does
// not hold (M, dim), a length that does not match its element count, or a
// link, level or label out of range.
absl::StatusOr<std::unique_ptr<IndexHandle>> LoadHnswlibIndex(
    const std::string& path, std::string description, int ef_search);

// A graph that grows and shrinks: LiveIndex's (index/live_index.h), kept
// here because this is the only file that may include hnswlib. Labels are
// int32. A removed label's element is marked deleted and taken over by the
// next new label (relabelled, then moved with hnswlib's updatePoint), so the
// graph holds at most as many elements as it ever held labels at once; it
// doubles its capacity when full.
//
// Thread safety: none; LiveIndex serialises changes against searches.
class GrowingGraph {
 public:
  virtual ~GrowingGraph() = default;
  // Adds `label` or moves it to `vector`. INTERNAL when hnswlib fails.
  virtual absl::Status Upsert(int32_t label, const float* vector) = 0;
  // Marks the label deleted; a no-op when it is not held.
  virtual void Remove(int32_t label) = 0;
  // The graph search above with this ef (k above ef: the k best the walk
  // measured), deleted elements skipped.
  virtual void Search(const float* query, int k, int ef,
                      std::vector<Neighbor>* out) const = 0;
  virtual int64_t MemoryBytes() const = 0;
};

// An empty graph for `capacity` elements (it grows past it).
// INVALID_ARGUMENT for dim <= 0, M outside [2, 1024] or efConstruction <= 0.
absl::StatusOr<std::unique_ptr<GrowingGraph>> NewGrowingGraph(
    int dim, int m, int ef_construction, int64_t capacity);

}  // namespace recall

#endif  // RECALL_INDEX_HNSWLIB_INDEX_H_
