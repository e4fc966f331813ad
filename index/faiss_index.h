// Faiss-backed IndexHandle, and the builder that writes Faiss index files.
//
// File format: whatever faiss::write_index writes (Faiss 1.7.3). Every index
// uses METRIC_INNER_PRODUCT over L2-normalised vectors, so scores are cosine
// similarities. Search runs on the calling thread only: it sets that
// thread's OpenMP team size to 1 (Faiss would otherwise start a team per
// query and oversubscribe the cores), so parallelism comes from concurrent
// requests. An index covering every item row 0..n-1 in order is stored as
// the factory made it; one covering a subset is wrapped in IndexIDMap2 so that
// Faiss ids are still item rows.
#ifndef RECALL_INDEX_FAISS_INDEX_H_
#define RECALL_INDEX_FAISS_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_factory.h"
#include "index/index_handle.h"

namespace recall {

// The Faiss backend's build options are the general ones
// (index/index_factory.h): `factory` is a Faiss index_factory string
// ("HNSW32", "Flat", "IVF1024,Flat", "IVF1024,PQ16", "SQ8", ...).
using FaissBuildOptions = IndexBuildOptions;

// Builds an index over `n` vectors of `dim` floats (row-major, already
// L2-normalised). Vector i gets id rows[i], or i when `rows` is empty.
// INVALID_ARGUMENT for a factory string Faiss rejects or too few vectors to
// train it (the message says how many are needed).
absl::StatusOr<std::unique_ptr<IndexHandle>> BuildFaissIndex(
    const FaissBuildOptions& options, int dim, const float* vectors, int64_t n,
    const std::vector<int32_t>& rows = {});

// Writes an index made by BuildFaissIndex to `path`.
absl::Status WriteFaissIndex(const IndexHandle& index, const std::string& path);

// Loads an index file written by WriteFaissIndex; `description` becomes the
// handle's description() (the factory string from the MANIFEST). DATA_LOSS
// when the file is not a readable inner-product Faiss index; NOT_FOUND when it
// does not exist.
absl::StatusOr<std::unique_ptr<IndexHandle>> LoadFaissIndex(
    const std::string& path, std::string description);

// Scales each of `n` vectors to unit L2 norm in place. INVALID_ARGUMENT naming
// the first vector (0-based) whose norm is zero or not finite; its index also
// goes to `*bad_row` when given.
absl::Status NormalizeRows(float* vectors, int64_t n, int dim,
                           int64_t* bad_row = nullptr);

// The inner-product kernel Faiss searches run with: "avx2-fma" when this CPU
// has them, else "faiss-generic" (see index/simd_inner_product.cc).
const char* InnerProductKernel();

// The inner product of two vectors of `d` floats with that kernel (the live
// segment's scan, index/live_index.h).
float InnerProduct(const float* x, const float* y, size_t d);

}  // namespace recall

#endif  // RECALL_INDEX_FAISS_INDEX_H_
