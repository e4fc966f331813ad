// `recallctl build --clusters FILE`: clusters the build's users as a
// text-format recall.v1.ClusteringConfig says, and writes each clustering
// into the version directory (clusters/<name>.faiss with the k-means centres,
// clusters/<name>.pb with the ClusterTable: sizes, merged tag profiles, the
// members' most-clicked items).
#ifndef RECALL_PIPELINE_SNAPSHOT_CLUSTER_BUILDER_H_
#define RECALL_PIPELINE_SNAPSHOT_CLUSTER_BUILDER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pipeline/data/word2vec_io.h"
#include "pipeline/snapshot/profiles.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "store/item_table.h"

namespace recall {

struct UserSpaceVectors {
  std::string space;
  const VectorSet* vectors;  // normalised; ids are user ids
};

struct ClusterInputs {
  const ItemTable* items = nullptr;
  int64_t reference_time = 0;
  // Its users() index every per-user vector below.
  const ClickLog* log = nullptr;
  const std::vector<std::vector<v1::TagWeight>>* profiles = nullptr;
  std::vector<UserSpaceVectors> spaces;
  // The version CURRENT named before this build ("" when none): where
  // stable_centres finds the previous centres and memberships.
  std::string previous_version_dir;
};

// Builds every clustering of `config`; appends each user's memberships to
// (*memberships)[user index] (resized to the log's users). Reports (chosen k
// and inertia per k, size distribution, users that changed cluster) go to
// stderr. INVALID_ARGUMENT naming the clustering for a bad spec (unknown
// kind or space, k out of range, stable_centres without a previous version
// that has the clustering).
absl::StatusOr<std::vector<v1::ClusteringManifest>> BuildClusterings(
    const v1::ClusteringConfig& config, const ClusterInputs& inputs,
    const std::string& dir,
    std::vector<std::vector<v1::ClusterMembership>>* memberships);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_CLUSTER_BUILDER_H_
