// cluster_cf: the items the cluster's members clicked most (time-decayed
// counts, stored at build time); similarity = count / the cluster's top count.
#include <algorithm>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/cluster_channel.h"

namespace recall {
namespace {

using channel_kit::ClusterChannel;
using channel_kit::Factory;
using channel_kit::NeedClustering;

class ClusterCfChannel final : public ClusterChannel {
 public:
  using ClusterChannel::ClusterChannel;

 private:
  absl::Status PerCluster(const RequestContext& /*ctx*/, int32_t cluster,
                          absl::string_view via, const ChannelParams& params,
                          ChannelOutput* out) const override {
    const auto& items = clustering_->table.clusters(cluster).items();
    const size_t n = std::min<size_t>(items.size(), params.fetch_k);
    if (n == 0) return absl::OkStatus();
    const float top = items[0].score();
    std::vector<Neighbor> scored;
    scored.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      scored.push_back({static_cast<ItemRow>(items[i].item_row()),
                        top > 0 ? items[i].score() / top : 0.0f});
    }
    AddNeighbors(scored, via, params, out);
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterClusterCfChannel(ChannelRegistry& registry) {
  registry.Register("cluster_cf", Factory<ClusterCfChannel>(NeedClustering));
}

}  // namespace recall
