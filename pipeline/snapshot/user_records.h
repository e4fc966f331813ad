// Internal to pipeline/snapshot: the store stage of a build. Writes the
// version's RocksDB user store (store/user_store.h), one record per user
// with a vector or a click, and lists its files in the MANIFEST.
#ifndef RECALL_PIPELINE_SNAPSHOT_USER_RECORDS_H_
#define RECALL_PIPELINE_SNAPSHOT_USER_RECORDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "pipeline/snapshot/builder.h"
#include "pipeline/snapshot/profiles.h"
#include "pipeline/snapshot/spaces.h"
#include "proto/recall/v1/snapshot.pb.h"

namespace recall {
namespace build_users {

// Writes the user store into version directory `dir`: each user's vectors
// (of `user_vectors`), newest clicks (options.recent_clicks), seen items
// (options.seen_items), tag profile and cluster memberships, users sorted
// by id. Adds the users of `user_vectors` to `log`. Sets manifest->store:
// its folder, user count and files with their checksums (but for RocksDB's
// info logs and lock file, which a read-only open may touch).
absl::Status WriteUserStore(
    const BuildOptions& options, const std::string& dir,
    const std::vector<build_spaces::UserVectors>& user_vectors, ClickLog& log,
    const std::vector<std::vector<v1::TagWeight>>& profiles,
    const std::vector<std::vector<v1::ClusterMembership>>& memberships,
    v1::Manifest* manifest);

}  // namespace build_users
}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_USER_RECORDS_H_
