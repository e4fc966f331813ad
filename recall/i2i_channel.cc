// i2i: seed items (the request's, else the user's newest clicks) -> similar
// items, combined across seeds by the policy's aggregation.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/live_items.h"

namespace recall {
namespace {

using channel_kit::BestPerItem;
using channel_kit::Factory;
using channel_kit::ItemOf;
using channel_kit::ItemVector;
using channel_kit::NeedSpace;
using channel_kit::OutOfTime;
using channel_kit::SearchSpace;

// The space's neighbour table when it answers these parameters as a live
// search would: no more neighbours than it keeps, a threshold no lower than
// its cut, and the search parameters it was computed with.
const RankedLists* NeighbourTable(const Space& space,
                                  const ChannelParams& params) {
  if (space.neighbours == nullptr) return nullptr;
  const v1::NeighbourTableManifest& t = space.manifest.neighbours();
  const bool same_search =
      (params.search.ef_search == 0 ||
       params.search.ef_search == t.ef_search()) &&
      (params.search.nprobe == 0 || params.search.nprobe == t.nprobe());
  if (params.fetch_k > t.k() || params.min_similarity < t.min_similarity() ||
      !same_search) {
    return nullptr;
  }
  return space.neighbours.get();
}

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
    const std::vector<Seed> seeds = SeedsOf(ctx);
    const bool weighted_sum =
        config().aggregation() == v1::SEED_AGGREGATION_RECENCY_WEIGHTED_SUM;
    thread_local std::vector<Neighbor> neighbors;
    ChannelOutput per_seed;
    BestPerItem best;  // MAX: best similarity; SUM: best contribution's seed
    absl::flat_hash_map<ItemRow, double> sum;
    double weight_total = 0;
    int seeds_in_space = 0;
    for (const Seed& seed : seeds) {
      if (OutOfTime(ctx, out)) break;
      if (!NeighborsOf(ctx, params, seed.row, &neighbors, out)) {
        if (!out->status.ok()) return;
        continue;
      }
      std::shared_ptr<const LiveItem> pin;
      const Item* seed_item = ItemOf(ctx, seed.row, &pin);
      if (seed_item == nullptr) continue;
      if (pin != nullptr) out->pins.push_back(pin);
      ++seeds_in_space;
      weight_total += seed.weight;
      per_seed.Clear();
      AddNeighbors(neighbors, seed_item->id, params, &per_seed);
      out->found += per_seed.found;
      out->dropped_by_threshold += per_seed.dropped_by_threshold;
      for (ChannelCandidate c : per_seed.candidates) {
        if (weighted_sum) {  // the best contribution's seed is `via`
          sum[c.row] += seed.weight * c.similarity;
          c.score = static_cast<float>(seed.weight * c.similarity);
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
        c.score = static_cast<float>(sum[c.row] / weight_total);
      }
      std::stable_sort(
          out->candidates.begin(), out->candidates.end(),
          [](const ChannelCandidate& a, const ChannelCandidate& b) {
            return a.score > b.score;
          });
    }
  }

 private:
  struct Seed {
    ItemRow row;
    double weight;
  };

  // The request's seeds (weight 1), else the user's newest clicks weighted
  // by recency relative to the newest.
  std::vector<Seed> SeedsOf(const RequestContext& ctx) const {
    std::vector<Seed> seeds;
    for (ItemRow row : ctx.seeds) seeds.push_back({row, 1.0});
    if (!seeds.empty()) return seeds;
    const auto& clicks = ctx.user->recent_clicks();  // newest first
    const int n = std::min(clicks.size(), PolicyOr(config().seeds_from_clicks(),
                                                   kI2iSeedsFromClicks));
    const double half_life_s =
        3600.0 * PolicyOr(config().seed_half_life_hours(), 24.0f);
    for (int i = 0; i < n; ++i) {
      const double age_s = static_cast<double>(clicks[0].ts() - clicks[i].ts());
      seeds.push_back({static_cast<ItemRow>(clicks[i].item_row()),
                       std::exp2(-age_s / half_life_s)});
    }
    return seeds;
  }

  // The seed's neighbours in the space, best first, at most fetch_k, the
  // seed itself removed: its list in the neighbour table merged with the
  // live segment's hits, else a search (no table, one that does not answer
  // these parameters or does not hold the seed, a seed whose live version
  // has its own vector). False when the seed has no vector in the space, or
  // a search failed (out->status).
  bool NeighborsOf(const RequestContext& ctx, const ChannelParams& params,
                   ItemRow seed, std::vector<Neighbor>* neighbors,
                   ChannelOutput* out) const {
    const bool live = ctx.live != nullptr && !ctx.live->empty();
    std::vector<float> query(space_->index->dim());
    const bool live_vector =
        live && ctx.live->Vector(space_->manifest.name(), seed, query.data());
    const RankedLists* table = NeighbourTable(*space_, params);
    const int64_t list = table != nullptr && !live_vector && !IsLiveRow(seed)
                             ? table->FindRow(seed)
                             : -1;
    if (list >= 0) {
      ++out->cache_hits;
      neighbors->clear();
      for (const RankedEntry& e : table->List(list)) {
        if (static_cast<int>(neighbors->size()) == params.fetch_k) break;
        neighbors->push_back({static_cast<int32_t>(e.row), e.score});
      }
      if (live && space_->index->Reconstruct(seed, query.data()).ok()) {
        out->status =
            ctx.live->MergeSearch(space_->manifest.name(), query.data(),
                                  params.fetch_k + 1, neighbors);
      }
    } else {
      if (!live_vector && !ItemVector(ctx, *space_, seed, query.data()))
        return false;
      if (space_->neighbours != nullptr) ++out->cache_misses;
      // One extra: the seed finds itself.
      out->status = SearchSpace(ctx, *space_, query.data(), params.fetch_k + 1,
                                params.search, neighbors);
    }
    if (!out->status.ok()) return false;
    neighbors->erase(
        std::remove_if(neighbors->begin(), neighbors->end(),
                       [seed](const Neighbor& n) { return n.row == seed; }),
        neighbors->end());
    if (static_cast<int>(neighbors->size()) > params.fetch_k)
      neighbors->resize(params.fetch_k);
    return true;
  }

  const Space* space_;
};

}  // namespace

void RegisterI2iChannel(ChannelRegistry& registry) {
  registry.Register("i2i", Factory<I2iChannel>(NeedSpace));
}

}  // namespace recall
