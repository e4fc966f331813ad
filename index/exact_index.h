// A brute-force IndexHandle: exact inner-product search by scanning every
// vector. Written without Faiss so that it can serve as an independent oracle
// for the approximate indexes in tests, and as a tiny-snapshot index.
#ifndef RECALL_INDEX_EXACT_INDEX_H_
#define RECALL_INDEX_EXACT_INDEX_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "index/index_handle.h"

namespace recall {

// `vectors` holds rows.size() * dim floats, row-major; vector i has item row
// rows[i]. When `rows` is empty, vector i has row i. INVALID_ARGUMENT when
// dim < 1 or the floats are not that many whole vectors. The index is
// immutable: Search and Reconstruct are safe from any number of threads.
absl::StatusOr<std::unique_ptr<IndexHandle>> NewExactIndex(
    int dim, std::vector<float> vectors, std::vector<int32_t> rows = {});

}  // namespace recall

#endif  // RECALL_INDEX_EXACT_INDEX_H_
