// cluster_cf_now: real-time in-cluster collaborative filtering: the items the
// members of the user's clusters clicked most in the click stream's window
// (time-decayed counts, recall/realtime_state.h); similarity = count / the
// cluster's top count. cluster_cf is the same over the counts stored at
// build time.
#include <algorithm>
#include <utility>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/cluster_channel.h"
#include "recall/list_channel_kit.h"
#include "recall/realtime_state.h"

namespace recall {
namespace {

using channel_kit::ClusterChannel;
using channel_kit::Factory;
using channel_kit::NeedClustering;
using channel_kit::NeedRealtime;

class ClusterCfNowChannel final : public ClusterChannel {
 public:
  using ClusterChannel::ClusterChannel;

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.realtime != nullptr && ClusterChannel::AppliesTo(ctx);
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    if (absl::Status s = NeedRealtime(ctx); !s.ok()) {
      out->status = s;
      return;
    }
    ClusterChannel::Run(ctx, params, out);
  }

 private:
  absl::Status PerCluster(const RequestContext& ctx, int32_t cluster,
                          absl::string_view via, const ChannelParams& params,
                          ChannelOutput* out) const override {
    absl::Span<const Neighbor> list =
        ctx.realtime_lists->Cluster(clustering_->name(), cluster);
    AddNeighbors(list.subspan(0, std::min<size_t>(list.size(), params.fetch_k)),
                 via, params, out);
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterClusterCfNowChannel(ChannelRegistry& registry) {
  registry.Register("cluster_cf_now",
                    Factory<ClusterCfNowChannel>(NeedClustering));
}

}  // namespace recall
