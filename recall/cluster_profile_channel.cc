// cluster_profile: the cluster's merged tag profile as a query in `space`
// (tag2vec), like one crosstag group for the whole cluster.
#include <utility>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/cluster_channel.h"
#include "util/status_macros.h"

namespace recall {
namespace {

using channel_kit::ClusterChannel;
using channel_kit::Factory;
using channel_kit::NeedClustering;
using channel_kit::NeedSpace;
using channel_kit::NeedTable;
using channel_kit::SearchSpace;
using channel_kit::TagProfileVector;

class ClusterProfileChannel final : public ClusterChannel {
 public:
  ClusterProfileChannel(ChannelConfig config, const Snapshot& snapshot)
      : ClusterChannel(std::move(config), snapshot),
        space_(snapshot.FindSpace(this->config().space())),
        tags_(snapshot.FindTable("tags")) {}

 private:
  absl::Status PerCluster(const RequestContext& ctx, int32_t cluster,
                          absl::string_view via, const ChannelParams& params,
                          ChannelOutput* out) const override {
    std::vector<const v1::TagWeight*> profile;
    for (const v1::TagWeight& t :
         clustering_->table.clusters(cluster).profile()) {
      profile.push_back(&t);
    }
    std::vector<float> query(tags_->index->dim());
    if (!TagProfileVector(*tags_, profile, query.data()))
      return absl::OkStatus();
    thread_local std::vector<Neighbor> neighbors;
    RETURN_IF_ERROR(SearchSpace(ctx, *space_, query.data(), params.fetch_k,
                                params.search, &neighbors));
    AddNeighbors(neighbors, via, params, out);
    return absl::OkStatus();
  }

  const Space* space_;
  const VectorTable* tags_;
};

}  // namespace

void RegisterClusterProfileChannel(ChannelRegistry& registry) {
  registry.Register("cluster_profile",
                    Factory<ClusterProfileChannel>(
                        [](const ChannelConfig& c, const Snapshot& s) {
                          RETURN_IF_ERROR(NeedClustering(c, s));
                          RETURN_IF_ERROR(NeedSpace(c, s));
                          return NeedTable(c, s, "tags");
                        }));
}

}  // namespace recall
