// Internal base of the cluster channels (cluster_center, cluster_cf,
// cluster_profile) and the helpers that place a user in a clustering; not for
// use outside recall/.
//
// Contract:
//   UserClustersOf  the user's stored memberships in the clustering, else
//                   (k-means only) the spec's top_n nearest centres to the
//                   user's vector(s), weights summing to 1; empty when
//                   neither is possible. Never fails.
//   ClusterVia      the `via` of a candidate found through cluster `c`
//                   (points into the clustering, which outlives requests).
//   NeedClustering  factory check: INVALID_ARGUMENT naming the channel when
//                   the snapshot lacks the config's clustering.
//   ClusterChannel  applies to known users; Run resolves their clusters
//                   (NOT_FOUND when there are none) and calls PerCluster for
//                   each: with one cluster straight into the output, with
//                   several into a scratch output, keeping the best
//                   similarity per item, counters summed, the deadline
//                   checked before each cluster. A PerCluster error becomes
//                   the channel's status (with several clusters, the output
//                   is then left with no candidates).
#ifndef RECALL_RECALL_CLUSTER_CHANNEL_H_
#define RECALL_RECALL_CLUSTER_CHANNEL_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "recall/channel.h"
#include "recall/snapshot.h"

namespace recall {
namespace channel_kit {

// One of the user's clusters in a clustering.
struct UserCluster {
  int32_t id;
  float weight;
  bool assigned;  // computed at request time, not stored at build time
};

// The user's clusters in `clustering`: the stored memberships, else (k-means
// only) the spec's top_n nearest centres to the user's vector in the
// clustering's space(s), concatenated as at build time. Empty when neither
// is possible.
std::vector<UserCluster> UserClustersOf(const v1::UserRecord& user,
                                        const Clustering& clustering);

absl::string_view ClusterVia(const Clustering& clustering,
                             const UserCluster& c);

absl::Status NeedClustering(const ChannelConfig& config,
                            const Snapshot& snapshot);

// Base of the cluster channels: resolves the user's clusters, runs
// `PerCluster` for each (best similarity per item across clusters).
// Thread safety and ownership as RecallChannel's: Run is const and runs
// concurrently; the channel points into the Snapshot it was made for.
class ClusterChannel : public RecallChannel {
 public:
  ClusterChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)),
        clustering_(snapshot.FindClustering(this->config().clustering())) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.user != nullptr;
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override;

 protected:
  virtual absl::Status PerCluster(const RequestContext& ctx, int32_t cluster,
                                  absl::string_view via,
                                  const ChannelParams& params,
                                  ChannelOutput* out) const = 0;

  const Clustering* clustering_;
};

}  // namespace channel_kit
}  // namespace recall

#endif  // RECALL_RECALL_CLUSTER_CHANNEL_H_
