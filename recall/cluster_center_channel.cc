// cluster_center: the centre of each of the user's clusters searched in the
// clustering's space. Every member of a cluster gets the same search, so
// results are cached per (cluster, search size, efSearch, nprobe), in the
// channel and therefore per snapshot, with a bounded number of entries.
#include <algorithm>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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

class ClusterCenterChannel final : public ClusterChannel {
 public:
  ClusterCenterChannel(ChannelConfig config, const Snapshot& snapshot)
      : ClusterChannel(std::move(config), snapshot),
        space_(snapshot.FindSpace(this->config().space())),
        capacity_(PolicyOr(this->config().cache_entries(), 4096)) {}

 private:
  using Key = std::tuple<int32_t, int, int, int>;
  using Result = std::shared_ptr<const std::vector<Neighbor>>;

  absl::Status PerCluster(const RequestContext& /*ctx*/, int32_t cluster,
                          absl::string_view via, const ChannelParams& params,
                          ChannelOutput* out) const override {
    // The default fetch varies with each user's exclusions: searching a
    // power of two (at least 64) lets members share one entry, of which each
    // uses its first fetch_k.
    int search_k = 64;
    while (search_k < params.fetch_k) search_k *= 2;
    const Key key{cluster, search_k, params.search.ef_search,
                  params.search.nprobe};
    Result result;
    {
      absl::MutexLock lock(&mu_);
      auto it = cache_.find(key);
      if (it != cache_.end()) result = it->second;
    }
    if (result != nullptr) {
      ++out->cache_hits;
    } else {
      ++out->cache_misses;
      std::vector<float> centre(clustering_->centres->dim());
      RETURN_IF_ERROR(
          clustering_->centres->Reconstruct(cluster, centre.data()));
      auto neighbors = std::make_shared<std::vector<Neighbor>>();
      RETURN_IF_ERROR(space_->index->Search(centre.data(), search_k,
                                            params.search, neighbors.get()));
      result = std::move(neighbors);
      absl::MutexLock lock(&mu_);
      if (cache_.size() >= static_cast<size_t>(capacity_))
        cache_.erase(cache_.begin());
      cache_.emplace(key, result);
    }
    AddNeighbors(absl::MakeConstSpan(*result).first(
                     std::min<size_t>(result->size(), params.fetch_k)),
                 via, params, out);
    return absl::OkStatus();
  }

  const Space* space_;
  const int capacity_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<Key, Result> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

void RegisterClusterCenterChannel(ChannelRegistry& registry) {
  registry.Register(
      "cluster_center", Factory<ClusterCenterChannel>([](const ChannelConfig& c,
                                                         const Snapshot& s) {
        RETURN_IF_ERROR(NeedClustering(c, s));
        RETURN_IF_ERROR(NeedSpace(c, s));
        const Clustering& clustering = *s.FindClustering(c.clustering());
        const auto& spaces = clustering.manifest.spec().spaces();
        if (clustering.centres == nullptr || spaces.size() != 1 ||
            spaces[0] != c.space()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "channel \"", c.name(),
              "\": cluster_center needs a k-means clustering over \"",
              c.space(), "\" alone; \"", c.clustering(), "\" is not one"));
        }
        return absl::OkStatus();
      }));
}

}  // namespace recall
