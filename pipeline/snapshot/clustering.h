// User clustering for cluster recall (`recallctl build --clustering ...`):
// k-means over user vectors (one space, or several concatenated), the elbow
// method to choose k, top-n soft membership, rule-based interest-label
// clusters with back-off, and stable centres (reassignment to the previous
// snapshot's centres). Pure algorithms over in-memory data; the builder
// stores the results in the snapshot.
#ifndef RECALL_PIPELINE_SNAPSHOT_CLUSTERING_H_
#define RECALL_PIPELINE_SNAPSHOT_CLUSTERING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace recall {

struct KMeansOptions {
  int k = 100;
  int iterations = 20;
  // At most this many vectors train the centres (a reproducible random
  // sample when there are more: mini-batch style for millions of users);
  // every vector is assigned afterwards.
  int64_t max_training_vectors = 200000;
  uint64_t seed = 1234;
};

// k-means centres: k * dim floats, row-major, L2-normalised (inner-product
// clustering of normalised vectors, i.e. spherical k-means).
struct Centres {
  int k = 0;
  int dim = 0;
  std::vector<float> values;
};

// Trains centres on `n` normalised vectors of `dim` floats with Faiss's
// k-means. INVALID_ARGUMENT when n < k or k < 1. Uses all OpenMP threads.
absl::StatusOr<Centres> TrainKMeans(const float* vectors, int64_t n, int dim,
                                    const KMeansOptions& options);

// One user's membership: a cluster and its weight. A user's memberships are
// sorted by weight, heaviest first, and their weights sum to 1.
struct Membership {
  int32_t cluster;
  float weight;
};

// Assigns each of `n` vectors to its `top_n` nearest centres (by inner
// product), weights proportional to max(similarity, 0) + 1e-6, normalised
// to sum 1. Also returns, via `inertia` when not null, the sum over vectors of
// (1 - similarity to the nearest centre): the k-means objective for unit
// vectors.
std::vector<std::vector<Membership>> AssignToCentres(const float* vectors,
                                                     int64_t n,
                                                     const Centres& centres,
                                                     int top_n,
                                                     double* inertia = nullptr);

// The elbow method: trains k-means for every k in `ks` (ascending), records
// the inertia of each, and picks the k after which adding clusters stops
// paying: the point of the inertia curve farthest from the straight line
// between its first and last points (the "knee"). `inertias` gets one value
// per k; `chosen` (when not null) the centres trained for the k picked,
// which are TrainKMeans(vectors, n, dim, options with that k)'s: callers
// need not train them again.
absl::StatusOr<int> ChooseKByElbow(const float* vectors, int64_t n, int dim,
                                   const std::vector<int>& ks,
                                   const KMeansOptions& options,
                                   std::vector<double>* inertias,
                                   Centres* chosen = nullptr);

// Concatenates several spaces' vectors of the same users into one clusterable
// space: for user i, the L2-normalised concatenation of each part's
// (already normalised) vector times 1/sqrt(parts), so each space weighs the
// same. All parts must hold `n` rows; INVALID_ARGUMENT otherwise.
absl::StatusOr<std::vector<float>> ConcatenateSpaces(
    const std::vector<absl::Span<const float>>& parts,
    const std::vector<int>& dims, int64_t n);

// Rule clustering. Each user has interests (e.g. tags or categories) with
// weights. A user's label at level K is its top-K interests by weight
// (ties by name), sorted by name and joined with '+'. Every user starts at
// level `max_k`; while some cluster (users sharing a label) has fewer than
// `min_size` members, every user of every such cluster whose level is above 1
// backs off to level K-1; repeat until all clusters are big enough or only
// level-1 labels remain. Users with no interests get the label "" (one
// cluster).
struct RuleClusteringOptions {
  int max_k = 3;
  int min_size = 50;
};
struct Interest {
  std::string name;
  float weight;
};
struct RuleClusters {
  std::vector<std::string> labels;  // cluster id -> label, sorted by label
  std::vector<int32_t> cluster_of;  // user -> cluster id
  std::vector<int64_t> sizes;       // cluster id -> members
};
RuleClusters ClusterByRules(const std::vector<std::vector<Interest>>& users,
                            const RuleClusteringOptions& options);

// "size distribution" for reports: min, p50, p90, max, and the number of
// clusters, as one line.
std::string SizeDistribution(const std::vector<int64_t>& sizes);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_CLUSTERING_H_
