// Spherical k-means (Faiss's Clustering with an inner-product assignment
// index): the one Faiss algorithm the pipeline uses besides indexes, kept in
// index/ so that Faiss stays behind this folder.
#ifndef RECALL_INDEX_KMEANS_H_
#define RECALL_INDEX_KMEANS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace recall {

// Runs `iterations` of spherical k-means on `n` rows of `dim` floats
// (normalised), starting from `initial` (k rows of `dim` floats, e.g.
// k-means++ seeds); `seed` fixes Faiss's own randomness. Uses every row
// given: callers sample beforehand. Returns k rows of `dim` floats (Faiss
// normalises spherical centroids after each iteration). INVALID_ARGUMENT for
// inconsistent sizes, INTERNAL when Faiss fails.
absl::StatusOr<std::vector<float>> TrainSphericalKMeans(
    const float* vectors, int64_t n, int dim, int k, std::vector<float> initial,
    int iterations, uint64_t seed);

}  // namespace recall

#endif  // RECALL_INDEX_KMEANS_H_
