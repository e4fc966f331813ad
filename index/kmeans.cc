#include "index/kmeans.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "faiss/Clustering.h"
#include "faiss/IndexFlat.h"
#include "index/faiss_util.h"
#include "util/status_macros.h"

namespace recall {
namespace {

// Faiss seeds are ints: fold the 64-bit seed into a non-negative int.
int FaissSeed(uint64_t seed) {
  const uint32_t folded = static_cast<uint32_t>(seed ^ (seed >> 32));
  return static_cast<int>(folded & 0x7fffffffu);
}

}  // namespace

absl::StatusOr<std::vector<float>> TrainSphericalKMeans(
    const float* vectors, int64_t n, int dim, int k, std::vector<float> initial,
    int iterations, uint64_t seed) {
  if (k <= 0 || dim <= 0 || n < k ||
      initial.size() != static_cast<size_t>(k) * dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("k-means: ", n, " rows of dim ", dim, " into k = ", k,
                     " with ", initial.size(), " initial floats"));
  }
  faiss::ClusteringParameters parameters;
  parameters.niter = iterations;
  parameters.nredo = 1;
  parameters.verbose = false;
  parameters.spherical = true;
  // Callers sample: Faiss must neither subsample again nor warn (on stderr)
  // about few points per centroid.
  parameters.min_points_per_centroid = 1;
  parameters.max_points_per_centroid = std::numeric_limits<int>::max();
  parameters.seed = FaissSeed(seed);

  std::vector<float> centres;
  RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInternal, "k-means", [&] {
    faiss::Clustering clustering(dim, k, parameters);
    // Faiss starts from centroids it is given.
    clustering.centroids = std::move(initial);
    faiss::IndexFlatIP assignment(dim);
    clustering.train(static_cast<faiss::Index::idx_t>(n), vectors, assignment);
    centres = std::move(clustering.centroids);
  }));
  if (centres.size() != static_cast<size_t>(k) * dim) {
    return absl::InternalError(
        absl::StrCat("k-means: faiss returned ", centres.size(),
                     " floats, expected ", static_cast<size_t>(k) * dim));
  }
  return centres;
}

}  // namespace recall
