// The built-in channel kinds: u2i, i2i, crosstag, media2vec and popular.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "recall/channel.h"
#include "recall/list_channels.h"
#include "util/status_macros.h"

namespace recall {
namespace {

constexpr absl::string_view kViaUser = "user";

// Keeps, per item, the best candidate seen so far; then sorts best first.
class BestPerItem {
 public:
  void Offer(const ChannelCandidate& c) {
    auto [it, inserted] = position_.emplace(c.row, candidates_.size());
    if (inserted) {
      candidates_.push_back(c);
    } else if (c.similarity > candidates_[it->second].similarity) {
      candidates_[it->second] = c;
    }
  }
  void MoveSortedTo(ChannelOutput* out) {
    std::stable_sort(candidates_.begin(), candidates_.end(),
                     [](const ChannelCandidate& a, const ChannelCandidate& b) {
                       return a.similarity > b.similarity;
                     });
    out->candidates = std::move(candidates_);
  }

 private:
  std::vector<ChannelCandidate> candidates_;
  absl::flat_hash_map<ItemRow, size_t> position_;
};

// The normalised weighted sum of the vectors of `tags` (those the table
// knows) into `out` (tags.index->dim() floats); false when none is known.
bool TagProfileVector(const VectorTable& table,
                      absl::Span<const v1::TagWeight* const> tags, float* out) {
  const int dim = table.index->dim();
  std::fill(out, out + dim, 0.0f);
  std::vector<float> tag_vector(dim);
  for (const v1::TagWeight* tag : tags) {
    const int32_t row = table.Find(tag->tag());
    if (row < 0 || !table.index->Reconstruct(row, tag_vector.data()).ok())
      continue;
    for (int j = 0; j < dim; ++j) out[j] += tag->weight() * tag_vector[j];
  }
  double norm2 = 0;
  for (int j = 0; j < dim; ++j) norm2 += double{out[j]} * out[j];
  if (!(norm2 > 0)) return false;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
  for (int j = 0; j < dim; ++j) out[j] *= inv;
  return true;
}

// Channels with several searches check the deadline before each: past it,
// they stop and return what they have, marked DEADLINE_EXCEEDED.
bool OutOfTime(const RequestContext& ctx, ChannelOutput* out) {
  if (absl::Now() < ctx.deadline) return false;
  out->status =
      absl::DeadlineExceededError("deadline passed during the channel");
  return true;
}

absl::Status NeedSpace(const ChannelConfig& config, const Snapshot& snapshot) {
  if (snapshot.FindSpace(config.space()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel \"", config.name(),
                     "\": snapshot has no space \"", config.space(), "\""));
  }
  return absl::OkStatus();
}

absl::Status NeedTable(const ChannelConfig& config, const Snapshot& snapshot,
                       absl::string_view table) {
  if (snapshot.FindTable(table) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("channel \"", config.name(),
                                                   "\": snapshot has no ",
                                                   table, " vectors"));
  }
  return absl::OkStatus();
}

// u2i: the user's vector in the channel's space -> nearest items.
class U2iChannel final : public RecallChannel {
 public:
  U2iChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)),
        space_(snapshot.FindSpace(this->config().space())) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.user != nullptr;
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    const v1::UserVector* vector = nullptr;
    for (const v1::UserVector& v : ctx.user->vectors()) {
      if (v.space() == config().space()) vector = &v;
    }
    if (vector == nullptr) {
      out->status = absl::NotFoundError(absl::StrCat(
          "user has no vector in space \"", config().space(), "\""));
      return;
    }
    const IndexHandle& index = *space_->index;
    if (vector->values_size() != index.dim()) {
      out->status = absl::FailedPreconditionError(absl::StrCat(
          "user vector has dim ", vector->values_size(), ", space \"",
          config().space(), "\" has dim ", index.dim()));
      return;
    }
    thread_local std::vector<Neighbor> neighbors;
    out->status = index.Search(vector->values().data(), params.fetch_k,
                               params.search, &neighbors);
    if (out->status.ok()) AddNeighbors(neighbors, kViaUser, params, out);
  }

 private:
  const Space* space_;
};

// i2i: seed items (the request's, else the user's newest clicks) -> similar
// items, combined across seeds by the policy's aggregation.
class I2iChannel final : public RecallChannel {
 public:
  I2iChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)),
        space_(snapshot.FindSpace(this->config().space())) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return !ctx.seeds.empty() ||
           (ctx.user != nullptr && ctx.user->recent_clicks_size() > 0);
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    struct Seed {
      ItemRow row;
      double weight;
    };
    std::vector<Seed> seeds;
    for (ItemRow row : ctx.seeds) seeds.push_back({row, 1.0});
    if (seeds.empty()) {
      const auto& clicks = ctx.user->recent_clicks();  // newest first
      const int n =
          std::min(clicks.size(), PolicyOr(config().seeds_from_clicks(), 3));
      const double half_life_s =
          3600.0 * PolicyOr(config().seed_half_life_hours(), 24.0f);
      for (int i = 0; i < n; ++i) {
        const double age_s =
            static_cast<double>(clicks[0].ts() - clicks[i].ts());
        seeds.push_back({static_cast<ItemRow>(clicks[i].item_row()),
                         std::exp2(-age_s / half_life_s)});
      }
    }
    const bool weighted_sum =
        config().aggregation() == v1::SEED_AGGREGATION_RECENCY_WEIGHTED_SUM;
    const IndexHandle& index = *space_->index;
    const ItemTable& items = ctx.snapshot->items();
    std::vector<float> query(index.dim());
    thread_local std::vector<Neighbor> neighbors;
    ChannelOutput per_seed;
    BestPerItem best;  // MAX: best similarity; SUM: best contribution's seed
    absl::flat_hash_map<ItemRow, double> sum;
    double weight_total = 0;
    int seeds_in_space = 0;
    for (const Seed& seed : seeds) {
      if (OutOfTime(ctx, out)) break;
      if (!index.Reconstruct(seed.row, query.data()).ok()) continue;
      ++seeds_in_space;
      weight_total += seed.weight;
      // One extra: the seed finds itself.
      absl::Status s = index.Search(query.data(), params.fetch_k + 1,
                                    params.search, &neighbors);
      if (!s.ok()) {
        out->status = s;
        return;
      }
      neighbors.erase(std::remove_if(neighbors.begin(), neighbors.end(),
                                     [&seed](const Neighbor& n) {
                                       return n.row == seed.row;
                                     }),
                      neighbors.end());
      per_seed.Clear();
      AddNeighbors(neighbors, items.item(seed.row).id, params, &per_seed);
      out->found += per_seed.found;
      out->dropped_by_threshold += per_seed.dropped_by_threshold;
      for (ChannelCandidate c : per_seed.candidates) {
        if (weighted_sum) {
          sum[c.row] += seed.weight * c.similarity;
          c.similarity = static_cast<float>(seed.weight * c.similarity);
        }
        best.Offer(c);
      }
    }
    if (seeds_in_space == 0) {
      out->status = absl::NotFoundError(
          absl::StrCat("no seed item is in space \"", config().space(), "\""));
      return;
    }
    best.MoveSortedTo(out);
    if (weighted_sum) {
      for (ChannelCandidate& c : out->candidates) {
        c.similarity = static_cast<float>(sum[c.row] / weight_total);
      }
      std::stable_sort(
          out->candidates.begin(), out->candidates.end(),
          [](const ChannelCandidate& a, const ChannelCandidate& b) {
            return a.similarity > b.similarity;
          });
    }
  }

 private:
  const Space* space_;
};

// crosstag: the user's tag profile grouped by category; the top tags of each
// of the strongest categories form a group whose weighted, normalised tag
// vector is searched separately, each group contributing at most its quota.
// `via` is the group's category.
class CrosstagChannel final : public RecallChannel {
 public:
  CrosstagChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)),
        space_(snapshot.FindSpace(this->config().space())),
        tags_(snapshot.FindTable("tags")) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.user != nullptr && ctx.user->tags_size() > 0;
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    struct Group {
      absl::string_view category;
      double weight = 0;
      std::vector<const v1::TagWeight*> tags;
    };
    const int per_category = PolicyOr(config().tags_per_category(), 3);
    std::vector<Group> groups;
    for (const v1::TagWeight& tag : ctx.user->tags()) {  // heaviest first
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
        return g.category == tag.category();
      });
      if (it == groups.end()) {
        groups.push_back({tag.category()});
        it = groups.end() - 1;
      }
      if (static_cast<int>(it->tags.size()) < per_category) {
        it->tags.push_back(&tag);
        it->weight += tag.weight();
      }
    }
    std::stable_sort(
        groups.begin(), groups.end(),
        [](const Group& a, const Group& b) { return a.weight > b.weight; });
    const int max_groups = PolicyOr(config().max_groups(), 3);
    if (static_cast<int>(groups.size()) > max_groups) groups.resize(max_groups);
    // Default: the channel's quota shared evenly, rounded up (the merge
    // still stops at the quota).
    const int n_groups = static_cast<int>(std::max<size_t>(1, groups.size()));
    const int group_quota = PolicyOr(config().group_quota(),
                                     (params.quota + n_groups - 1) / n_groups);

    const IndexHandle& index = *space_->index;
    std::vector<float> query(index.dim());
    thread_local std::vector<Neighbor> neighbors;
    ChannelOutput group_out;
    BestPerItem best;
    for (const Group& group : groups) {
      if (OutOfTime(ctx, out)) break;
      if (!TagProfileVector(*tags_, group.tags, query.data())) {
        continue;  // no known tag in this group
      }
      // A group keeps at most group_quota non-excluded items: fetching more
      // would be thrown away.
      const int fetch = std::min(
          params.fetch_k, group_quota + static_cast<int>(ctx.excluded->size()));
      absl::Status s =
          index.Search(query.data(), fetch, params.search, &neighbors);
      if (!s.ok()) {
        out->status = s;
        return;
      }
      group_out.Clear();
      AddNeighbors(neighbors, group.category, params, &group_out);
      out->found += group_out.found;
      out->dropped_by_threshold += group_out.dropped_by_threshold;
      int taken = 0;
      for (const ChannelCandidate& c : group_out.candidates) {
        if (taken >= group_quota) break;
        if (ctx.excluded != nullptr && ctx.excluded->contains(c.row)) continue;
        best.Offer(c);
        ++taken;
      }
    }
    best.MoveSortedTo(out);
  }

 private:
  const Space* space_;
  const VectorTable* tags_;
};

// media2vec: the media of the seeds (or of the user's newest clicks) ->
// similar media in the media vector table -> each similar media's freshest
// items. An item's similarity is its media's; `via` names the media.
class Media2vecChannel final : public RecallChannel {
 public:
  Media2vecChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)), media_(snapshot.FindTable("media")) {
    const ItemTable& items = snapshot.items();
    media_of_item_.resize(items.size(), -1);
    freshest_.resize(media_->ids.size());
    for (ItemRow row = 0; row < items.size(); ++row) {
      const int32_t m = media_->Find(items.item(row).media_id);
      media_of_item_[row] = m;
      if (m >= 0) freshest_[m].push_back(row);
    }
    for (std::vector<ItemRow>& rows : freshest_) {
      std::stable_sort(
          rows.begin(), rows.end(), [&items](ItemRow a, ItemRow b) {
            return items.item(a).publish_ts > items.item(b).publish_ts;
          });
    }
  }

  bool AppliesTo(const RequestContext& ctx) const override {
    return !ctx.seeds.empty() ||
           (ctx.user != nullptr && ctx.user->recent_clicks_size() > 0);
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    std::vector<int32_t> sources;
    auto add_source = [&](ItemRow row) {
      const int32_t m = media_of_item_[row];
      if (m >= 0 &&
          std::find(sources.begin(), sources.end(), m) == sources.end()) {
        sources.push_back(m);
      }
    };
    for (ItemRow row : ctx.seeds) add_source(row);
    if (ctx.seeds.empty()) {
      const int n = PolicyOr(config().seeds_from_clicks(), 3);
      for (const v1::Click& click : ctx.user->recent_clicks()) {
        if (static_cast<int>(sources.size()) >= n) break;
        add_source(static_cast<ItemRow>(click.item_row()));
      }
    }
    if (sources.empty()) {
      out->status = absl::NotFoundError("no seed has a media with a vector");
      return;
    }
    const int similar = PolicyOr(config().similar_media(), 10);
    const size_t per_media = PolicyOr(config().items_per_media(), 5);
    std::vector<float> query(media_->index->dim());
    thread_local std::vector<Neighbor> similar_media;
    std::vector<Neighbor> media_items;
    BestPerItem best;
    for (int32_t m : sources) {
      if (OutOfTime(ctx, out)) break;
      if (!media_->index->Reconstruct(m, query.data()).ok()) continue;
      absl::Status s =
          media_->index->Search(query.data(), similar, {}, &similar_media);
      if (!s.ok()) {
        out->status = s;
        return;
      }
      for (const Neighbor& media : similar_media) {
        media_items.clear();
        for (ItemRow row : freshest_[media.row]) {
          if (media_items.size() >= per_media) break;
          if (ctx.excluded != nullptr && ctx.excluded->contains(row)) continue;
          media_items.push_back({row, media.score});
        }
        ChannelOutput media_out;
        AddNeighbors(media_items, media_->ids[media.row], params, &media_out);
        out->found += media_out.found;
        out->dropped_by_threshold += media_out.dropped_by_threshold;
        for (const ChannelCandidate& c : media_out.candidates) best.Offer(c);
      }
    }
    best.MoveSortedTo(out);
    if (static_cast<int>(out->candidates.size()) > params.fetch_k) {
      out->candidates.resize(params.fetch_k);
    }
  }

 private:
  const VectorTable* media_;
  std::vector<int32_t> media_of_item_;  // item row -> media row or -1
  std::vector<std::vector<ItemRow>>
      freshest_;  // media row -> items, newest first
};

// popular: the hottest items published within the freshness window before
// the snapshot's reference time; similarity is hotness / the hottest's.
class PopularChannel final : public RecallChannel {
 public:
  PopularChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)) {
    const ItemTable& items = snapshot.items();
    const int64_t newest = snapshot.manifest().reference_time_unix();
    const int64_t oldest =
        newest -
        static_cast<int64_t>(
            3600.0 * PolicyOr(this->config().freshness_window_hours(), 72.0f));
    for (ItemRow row = 0; row < items.size(); ++row) {
      const Item& item = items.item(row);
      if (item.publish_ts >= oldest) ranked_.push_back({row, item.hotness});
    }
    std::stable_sort(
        ranked_.begin(), ranked_.end(),
        [](const Neighbor& a, const Neighbor& b) { return a.score > b.score; });
    constexpr size_t kMaxKept = 50000;
    if (ranked_.size() > kMaxKept) ranked_.resize(kMaxKept);
    const float top = ranked_.empty() ? 0.0f : ranked_[0].score;
    for (Neighbor& n : ranked_) n.score = top > 0 ? n.score / top : 0.0f;
  }

  bool AppliesTo(const RequestContext&) const override { return true; }

  void Run(const RequestContext&, const ChannelParams& params,
           ChannelOutput* out) const override {
    const size_t n = std::min<size_t>(ranked_.size(), params.fetch_k);
    AddNeighbors(absl::MakeConstSpan(ranked_.data(), n), "", params, out);
  }

 private:
  std::vector<Neighbor> ranked_;  // best first; score = normalised hotness
};

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
                                        const Clustering& clustering) {
  std::vector<UserCluster> clusters;
  for (const v1::ClusterMembership& m : user.clusters()) {
    if (m.clustering() == clustering.name())
      clusters.push_back({m.cluster(), m.weight(), false});
  }
  if (!clusters.empty() || clustering.centres == nullptr) return clusters;
  const auto& spaces = clustering.manifest.spec().spaces();
  std::vector<float> v;
  const float part_scale = 1.0f / std::sqrt(static_cast<float>(spaces.size()));
  for (const std::string& space : spaces) {
    const v1::UserVector* found = nullptr;
    for (const v1::UserVector& uv : user.vectors()) {
      if (uv.space() == space) found = &uv;
    }
    if (found == nullptr) return clusters;  // cannot be placed
    for (float x : found->values()) v.push_back(x * part_scale);
  }
  if (static_cast<int>(v.size()) != clustering.centres->dim()) return clusters;
  thread_local std::vector<Neighbor> nearest;
  const int top_n = PolicyOr(clustering.manifest.spec().top_n(), 1);
  if (!clustering.centres->Search(v.data(), top_n, {}, &nearest).ok())
    return clusters;
  double total = 0;
  for (const Neighbor& n : nearest) total += std::max(n.score, 0.0f) + 1e-6;
  for (const Neighbor& n : nearest) {
    clusters.push_back(
        {n.row, static_cast<float>((std::max(n.score, 0.0f) + 1e-6) / total),
         true});
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

// Base of the cluster channels: resolves the user's clusters, runs
// `PerCluster` for each (best similarity per item across clusters).
class ClusterChannel : public RecallChannel {
 public:
  ClusterChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)),
        clustering_(snapshot.FindClustering(this->config().clustering())) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.user != nullptr;
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    const std::vector<UserCluster> clusters =
        UserClustersOf(*ctx.user, *clustering_);
    if (clusters.empty()) {
      out->status = absl::NotFoundError(
          absl::StrCat("user has no cluster in \"", clustering_->name(), "\""));
      return;
    }
    if (clusters.size() == 1) {  // the common case: nothing to combine
      if (absl::Status s =
              PerCluster(clusters[0].id, ClusterVia(*clustering_, clusters[0]),
                         params, out);
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
      if (absl::Status s = PerCluster(c.id, ClusterVia(*clustering_, c), params,
                                      &cluster_out);
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

 protected:
  virtual absl::Status PerCluster(int32_t cluster, absl::string_view via,
                                  const ChannelParams& params,
                                  ChannelOutput* out) const = 0;

  const Clustering* clustering_;
};

// cluster_center: the centre of each of the user's clusters searched in the
// clustering's space. Every member of a cluster gets the same search, so
// results are cached per (cluster, search size, efSearch, nprobe), in the
// channel and therefore per snapshot, with a bounded number of entries.
class ClusterCenterChannel final : public ClusterChannel {
 public:
  ClusterCenterChannel(ChannelConfig config, const Snapshot& snapshot)
      : ClusterChannel(std::move(config), snapshot),
        space_(snapshot.FindSpace(this->config().space())),
        capacity_(PolicyOr(this->config().cache_entries(), 4096)) {}

 private:
  using Key = std::tuple<int32_t, int, int, int>;
  using Result = std::shared_ptr<const std::vector<Neighbor>>;

  absl::Status PerCluster(int32_t cluster, absl::string_view via,
                          const ChannelParams& params,
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

// cluster_cf: the items the cluster's members clicked most (time-decayed
// counts, stored at build time); similarity = count / the cluster's top count.
class ClusterCfChannel final : public ClusterChannel {
 public:
  using ClusterChannel::ClusterChannel;

 private:
  absl::Status PerCluster(int32_t cluster, absl::string_view via,
                          const ChannelParams& params,
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

// cluster_profile: the cluster's merged tag profile as a query in `space`
// (tag2vec), like one crosstag group for the whole cluster.
class ClusterProfileChannel final : public ClusterChannel {
 public:
  ClusterProfileChannel(ChannelConfig config, const Snapshot& snapshot)
      : ClusterChannel(std::move(config), snapshot),
        space_(snapshot.FindSpace(this->config().space())),
        tags_(snapshot.FindTable("tags")) {}

 private:
  absl::Status PerCluster(int32_t cluster, absl::string_view via,
                          const ChannelParams& params,
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
    RETURN_IF_ERROR(space_->index->Search(query.data(), params.fetch_k,
                                          params.search, &neighbors));
    AddNeighbors(neighbors, via, params, out);
    return absl::OkStatus();
  }

  const Space* space_;
  const VectorTable* tags_;
};

// A factory for a channel class after checks on the snapshot.
template <typename Channel, typename Check>
ChannelFactory Factory(Check check) {
  return [check](const ChannelConfig& config, const Snapshot& snapshot)
             -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
    if (absl::Status s = check(config, snapshot); !s.ok()) return s;
    return std::make_unique<Channel>(config, snapshot);
  };
}

}  // namespace

void RegisterBuiltinChannels() {
  ChannelRegistry& registry = ChannelRegistry::Global();
  registry.Register("u2i", Factory<U2iChannel>(NeedSpace));
  registry.Register("i2i", Factory<I2iChannel>(NeedSpace));
  registry.Register(
      "crosstag",
      Factory<CrosstagChannel>([](const ChannelConfig& c, const Snapshot& s) {
        absl::Status status = NeedSpace(c, s);
        return status.ok() ? NeedTable(c, s, "tags") : status;
      }));
  registry.Register(
      "media2vec",
      Factory<Media2vecChannel>([](const ChannelConfig& c, const Snapshot& s) {
        return NeedTable(c, s, "media");
      }));
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
  registry.Register("cluster_cf", Factory<ClusterCfChannel>(NeedClustering));
  registry.Register("cluster_profile",
                    Factory<ClusterProfileChannel>(
                        [](const ChannelConfig& c, const Snapshot& s) {
                          RETURN_IF_ERROR(NeedClustering(c, s));
                          RETURN_IF_ERROR(NeedSpace(c, s));
                          return NeedTable(c, s, "tags");
                        }));
  RegisterListChannels(registry);
  registry.Register("popular", Factory<PopularChannel>(
                                   [](const ChannelConfig&, const Snapshot&) {
                                     return absl::OkStatus();
                                   }));
}

}  // namespace recall
