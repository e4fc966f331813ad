// item_cf: seed items (the request's, else the user's newest clicks) -> the
// sum of their co-click neighbour lists ("itemcf" ranked lists,
// store/ranked_lists.h).
#include <algorithm>
#include <cmath>
#include <utility>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/list_channel_kit.h"

namespace recall {
namespace {

using channel_kit::ListFactory;
using channel_kit::ScoreSum;

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
      // Live rows, and items the build saw no click of, have no list.
      const int64_t key = lists.FindRow(seed);
      if (key < 0) return;
      absl::Span<const RankedEntry> list = lists.List(key);
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

}  // namespace

void RegisterItemCfChannel(ChannelRegistry& registry) {
  registry.Register("item_cf", ListFactory<ItemCfChannel>("itemcf", false));
}

}  // namespace recall
