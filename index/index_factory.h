// Builds, writes and loads a space's IndexHandle with the backend its
// factory string names:
//   "HNSWLIB<M>"  hnswlib's HNSW graph with M neighbours per node, e.g.
//                 "HNSWLIB32" (index/hnswlib_index.h); upper case, M from 2
//                 to 1024;
//   anything else a Faiss index_factory string, e.g. "HNSW32", "Flat",
//                 "IVF1024,PQ16" (index/faiss_index.h).
// The snapshot MANIFEST records the factory of each space, so the loader
// knows the file's format from it.
#ifndef RECALL_INDEX_INDEX_FACTORY_H_
#define RECALL_INDEX_INDEX_FACTORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "index/index_handle.h"

namespace recall {

struct IndexBuildOptions {
  // Factory string, see the file comment.
  std::string factory = "HNSW32";
  // HNSW construction depth (both backends). Higher: better graph, slower
  // build.
  int hnsw_ef_construction = 80;
  // HNSW ef of searches without a per-call ef_search: Faiss stores it in the
  // index file, hnswlib takes it again at load (LoadIndex's ef_search). The
  // builder uses the MANIFEST's. Faiss 1.7.3 sizes its candidate heap by
  // max(it, k), so there a per-call ef_search above max(it, k) has no effect
  // (docs/PERFORMANCE.md, "bench-peer").
  int hnsw_ef_search = 16;
  // Faiss: at most this many vectors train IVF/PQ/SQ quantizers (a random
  // sample of them when there are more; Faiss wants about 39 per IVF list),
  // and the sampling seed, so builds are reproducible.
  int64_t max_training_vectors = 200000;
  uint64_t seed = 1234;
};

// True when `factory` names the hnswlib backend (starts with "HNSWLIB").
bool IsHnswlibFactory(absl::string_view factory);

// The file extension of an index of `factory`, one per backend: "hnswlib"
// for hnswlib's graphs, "faiss" for Faiss's index files.
const char* IndexFileExtension(absl::string_view factory);

// Builds an index over `n` vectors of `dim` floats (row-major, already
// L2-normalised); vector i gets item row rows[i], or i when `rows` is empty.
// INVALID_ARGUMENT for a factory string neither backend accepts
// ("HNSWLIB" followed by anything but an M from 2 to 1024, or one Faiss
// rejects) or too few vectors to train it.
absl::StatusOr<std::unique_ptr<IndexHandle>> BuildIndex(
    const IndexBuildOptions& options, int dim, const float* vectors, int64_t n,
    const std::vector<int32_t>& rows = {});

// Writes an index made by BuildIndex to `path`, in its backend's format.
absl::Status WriteIndex(const IndexHandle& index, const std::string& path);

// Loads a file written by WriteIndex for `factory` (which becomes the
// handle's description()). `ef_search` is the ef of searches without a
// per-call one for hnswlib (0: 16); Faiss reads its own from the file.
// NOT_FOUND when the file does not exist; DATA_LOSS when it is not a
// readable index of that backend.
absl::StatusOr<std::unique_ptr<IndexHandle>> LoadIndex(
    const std::string& path, const std::string& factory, int ef_search = 0);

}  // namespace recall

#endif  // RECALL_INDEX_INDEX_FACTORY_H_
