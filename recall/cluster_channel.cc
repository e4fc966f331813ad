// The cluster channels' base and helpers; see recall/cluster_channel.h.
#include "recall/cluster_channel.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recall/channel_kit.h"
#include "recall/profile_rules.h"

namespace recall {
namespace channel_kit {

std::vector<UserCluster> UserClustersOf(const v1::UserRecord& user,
                                        const Clustering& clustering) {
  std::vector<UserCluster> clusters;
  for (const v1::ClusterMembership& m : user.clusters()) {
    if (m.clustering() == clustering.name())
      clusters.push_back({m.cluster(), m.weight(), false});
  }
  if (!clusters.empty() || clustering.centres == nullptr) return clusters;
  std::vector<absl::Span<const float>> parts;
  size_t dim = 0;
  for (const std::string& space : clustering.manifest.spec().spaces()) {
    const v1::UserVector* found = nullptr;
    for (const v1::UserVector& uv : user.vectors()) {
      if (uv.space() == space) found = &uv;
    }
    if (found == nullptr) return clusters;  // cannot be placed
    parts.emplace_back(found->values().data(), found->values_size());
    dim += parts.back().size();
  }
  if (static_cast<int>(dim) != clustering.centres->dim()) return clusters;
  std::vector<float> v(dim);
  ConcatenateParts(parts, v.data());
  thread_local std::vector<Neighbor> nearest;
  const int top_n = PolicyOr(clustering.manifest.spec().top_n(), 1);
  if (!clustering.centres->Search(v.data(), top_n, {}, &nearest).ok())
    return clusters;
  std::vector<float> similarities;
  for (const Neighbor& n : nearest) similarities.push_back(n.score);
  const std::vector<float> weights = MembershipWeights(similarities);
  for (size_t i = 0; i < nearest.size(); ++i) {
    clusters.push_back({nearest[i].row, weights[i], true});
  }
  return clusters;
}

absl::string_view ClusterVia(const Clustering& clustering,
                             const UserCluster& c) {
  return c.assigned ? clustering.assigned_via[c.id] : clustering.via[c.id];
}

absl::Status NeedClustering(const ChannelConfig& config,
                            const Snapshot& snapshot) {
  if (snapshot.FindClustering(config.clustering()) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "channel \"", config.name(), "\": snapshot has no clustering \"",
        config.clustering(), "\""));
  }
  return absl::OkStatus();
}

void ClusterChannel::Run(const RequestContext& ctx, const ChannelParams& params,
                         ChannelOutput* out) const {
  const std::vector<UserCluster> clusters =
      UserClustersOf(*ctx.user, *clustering_);
  if (clusters.empty()) {
    out->status = absl::NotFoundError(
        absl::StrCat("user has no cluster in \"", clustering_->name(), "\""));
    return;
  }
  if (clusters.size() == 1) {  // the common case: nothing to combine
    if (absl::Status s =
            PerCluster(ctx, clusters[0].id,
                       ClusterVia(*clustering_, clusters[0]), params, out);
        !s.ok()) {
      out->status = s;
    }
    return;
  }
  BestPerItem best;
  ChannelOutput cluster_out;
  for (const UserCluster& c : clusters) {
    if (OutOfTime(ctx, out)) break;
    cluster_out.Clear();
    if (absl::Status s = PerCluster(ctx, c.id, ClusterVia(*clustering_, c),
                                    params, &cluster_out);
        !s.ok()) {
      out->status = s;
      return;
    }
    out->found += cluster_out.found;
    out->dropped_by_threshold += cluster_out.dropped_by_threshold;
    out->cache_hits += cluster_out.cache_hits;
    out->cache_misses += cluster_out.cache_misses;
    for (const ChannelCandidate& candidate : cluster_out.candidates)
      best.Offer(candidate);
  }
  best.MoveSortedTo(out);
}

}  // namespace channel_kit
}  // namespace recall
