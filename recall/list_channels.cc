// Channels over the snapshot's precomputed ranked lists
// (store/ranked_lists.h):
//   item_cf: seed items (the request's, else the user's newest clicks) ->
//            the sum of their co-click neighbour lists ("itemcf");
//   hot:     the items with the most recent clicks ("hot"), overall or in
//            the user's heaviest profile categories.
// Neither searches an index: a request reads a few lists and sums them.
#include "recall/list_channels.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "recall/channel.h"

namespace recall {
namespace {

constexpr absl::string_view kAllItems = "*";

absl::StatusOr<const NamedLists*> NeedLists(const ChannelConfig& config,
                                            const Snapshot& snapshot,
                                            absl::string_view fallback,
                                            bool named) {
  const std::string name =
      config.lists().empty() ? std::string(fallback) : config.lists();
  const NamedLists* lists = snapshot.FindLists(name);
  if (lists == nullptr || lists->lists.named() != named) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel \"", config.name(), "\": snapshot has no ",
                     named ? "named" : "per-item", " ranked lists \"", name,
                     "\" (built from clicks.tsv)"));
  }
  return lists;
}

// Sum of weighted scores per item, with the item's strongest source; emits
// the top `fetch_k` as candidates, similarities divided by the best.
class ScoreSum {
 public:
  void Add(uint32_t row, double score, absl::string_view via) {
    Entry& e = entries_[static_cast<ItemRow>(row)];
    e.sum += score;
    if (score > e.best) {
      e.best = score;
      e.via = via;
    }
  }

  void Emit(const ChannelParams& params, ChannelOutput* out) {
    std::vector<std::pair<ItemRow, const Entry*>> ranked;
    ranked.reserve(entries_.size());
    for (const auto& [row, entry] : entries_) ranked.emplace_back(row, &entry);
    const size_t n = std::min<size_t>(ranked.size(), params.fetch_k);
    auto better = [](const auto& a, const auto& b) {
      return a.second->sum != b.second->sum ? a.second->sum > b.second->sum
                                            : a.first < b.first;
    };
    std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(), better);
    out->found += static_cast<int>(ranked.size());
    if (n == 0) return;
    const double top = ranked[0].second->sum;
    for (size_t i = 0; i < n; ++i) {
      const float similarity =
          top > 0 ? static_cast<float>(ranked[i].second->sum / top) : 0.0f;
      if (similarity < params.min_similarity) {
        ++out->dropped_by_threshold;
        continue;
      }
      out->candidates.push_back(
          {ranked[i].first, similarity, ranked[i].second->via});
    }
  }

 private:
  struct Entry {
    double sum = 0;
    double best = -1;
    absl::string_view via;
  };
  absl::flat_hash_map<ItemRow, Entry> entries_;
};

class ItemCfChannel final : public RecallChannel {
 public:
  ItemCfChannel(ChannelConfig config, const NamedLists* lists)
      : RecallChannel(std::move(config)), lists_(lists) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return !ctx.seeds.empty() ||
           (ctx.user != nullptr && ctx.user->recent_clicks_size() > 0);
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    const ItemTable& items = ctx.snapshot->items();
    const RankedLists& lists = lists_->lists;
    ScoreSum sum;
    int seeds_with_neighbours = 0;
    auto add_seed = [&](ItemRow seed, double weight) {
      absl::Span<const RankedEntry> list = lists.List(seed);
      if (list.empty()) return;
      ++seeds_with_neighbours;
      const absl::string_view via = items.item(seed).id;
      for (const RankedEntry& e : list) sum.Add(e.row, weight * e.score, via);
    };
    if (!ctx.seeds.empty()) {
      for (ItemRow row : ctx.seeds) add_seed(row, 1.0);
    } else {
      const auto& clicks = ctx.user->recent_clicks();  // newest first
      const int n =
          std::min(clicks.size(), PolicyOr(config().seeds_from_clicks(), 100));
      const double half_life_s = 3600.0 * config().seed_half_life_hours();
      for (int i = 0; i < n; ++i) {
        const double age_s =
            static_cast<double>(clicks[0].ts() - clicks[i].ts());
        add_seed(static_cast<ItemRow>(clicks[i].item_row()),
                 half_life_s > 0 ? std::exp2(-age_s / half_life_s) : 1.0);
      }
    }
    if (seeds_with_neighbours == 0) {
      out->status = absl::NotFoundError("no seed item has co-click neighbours");
      return;
    }
    sum.Emit(params, out);
  }

 private:
  const NamedLists* lists_;
};

class HotChannel final : public RecallChannel {
 public:
  HotChannel(ChannelConfig config, const NamedLists* lists)
      : RecallChannel(std::move(config)),
        lists_(lists),
        all_(lists->lists.Find(kAllItems)) {}

  bool by_category() const { return config().max_groups() > 0; }

  bool AppliesTo(const RequestContext& ctx) const override {
    return by_category() ? ctx.user != nullptr && ctx.user->tags_size() > 0
                         : all_ >= 0;
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    const RankedLists& lists = lists_->lists;
    ScoreSum sum;
    auto add_list = [&](int64_t key, double weight) {
      absl::Span<const RankedEntry> list = lists.List(key);
      if (list.empty() || !(list[0].score > 0)) return;
      const absl::string_view via = lists.keys()[key];
      const size_t n = std::min<size_t>(list.size(), params.fetch_k);
      for (size_t i = 0; i < n; ++i) {
        sum.Add(list[i].row, weight * list[i].score / list[0].score, via);
      }
    };
    if (!by_category()) {
      add_list(all_, 1.0);
    } else {
      // The user's categories by profile weight, heaviest first.
      std::vector<std::pair<absl::string_view, double>> categories;
      for (const v1::TagWeight& tag : ctx.user->tags()) {
        auto it = std::find_if(
            categories.begin(), categories.end(),
            [&](const auto& c) { return c.first == tag.category(); });
        if (it == categories.end()) {
          categories.emplace_back(tag.category(), tag.weight());
        } else {
          it->second += tag.weight();
        }
      }
      std::stable_sort(
          categories.begin(), categories.end(),
          [](const auto& a, const auto& b) { return a.second > b.second; });
      const size_t groups =
          std::min<size_t>(categories.size(), config().max_groups());
      for (size_t g = 0; g < groups; ++g) {
        const int64_t key = lists.Find(categories[g].first);
        if (key >= 0 && categories[0].second > 0)
          add_list(key, categories[g].second / categories[0].second);
      }
    }
    sum.Emit(params, out);
    if (out->found == 0) {
      out->status = absl::NotFoundError("no clicked item in these categories");
    }
  }

 private:
  const NamedLists* lists_;
  const int64_t all_;  // the "*" list, or -1
};

template <typename Channel>
ChannelFactory ListFactory(absl::string_view fallback, bool named) {
  return
      [fallback, named](const ChannelConfig& config, const Snapshot& snapshot)
          -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
        absl::StatusOr<const NamedLists*> lists =
            NeedLists(config, snapshot, fallback, named);
        if (!lists.ok()) return lists.status();
        return std::make_unique<Channel>(config, *lists);
      };
}

}  // namespace

void RegisterListChannels(ChannelRegistry& registry) {
  registry.Register("item_cf", ListFactory<ItemCfChannel>("itemcf", false));
  registry.Register("hot", ListFactory<HotChannel>("hot", true));
}

}  // namespace recall
