// cluster_center: the centre of each of the user's clusters searched in the
// clustering's space. Every member of a cluster gets the same search, so
// the snapshot index's results are cached per (cluster, search size,
// efSearch, nprobe), in the channel and therefore per snapshot, with a
// bounded number of entries; the live segment's hits, which change by the
// second, are merged into a copy per request.
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
#include "recall/live_items.h"
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
  struct Searched {
    std::vector<float> centre;
    std::vector<Neighbor> neighbors;  // the snapshot index's
  };
  using Result = std::shared_ptr<const Searched>;

  absl::Status PerCluster(const RequestContext& ctx, int32_t cluster,
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
      auto searched = std::make_shared<Searched>();
      searched->centre.resize(clustering_->centres->dim());
      RETURN_IF_ERROR(
          clustering_->centres->Reconstruct(cluster, searched->centre.data()));
      RETURN_IF_ERROR(space_->index->Search(searched->centre.data(), search_k,
                                            params.search,
                                            &searched->neighbors));
      result = std::move(searched);
      absl::MutexLock lock(&mu_);
      if (cache_.size() >= static_cast<size_t>(capacity_))
        cache_.erase(cache_.begin());
      cache_.emplace(key, result);
    }
    const std::vector<Neighbor>& cached = result->neighbors;
    absl::Span<const Neighbor> neighbors = absl::MakeConstSpan(cached).first(
        std::min<size_t>(cached.size(), params.fetch_k));
    thread_local std::vector<Neighbor> merged;
    if (ctx.live != nullptr && !ctx.live->empty()) {
      merged.assign(neighbors.begin(), neighbors.end());
      RETURN_IF_ERROR(ctx.live->MergeSearch(space_->manifest.name(),
                                            result->centre.data(),
                                            params.fetch_k, &merged));
      neighbors = merged;
    }
    AddNeighbors(neighbors, via, params, out);
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
