// hot_now: the items the click stream says are hot now (time-decayed click
// counts, recall/realtime_state.h), overall or in the user's heaviest
// categories: those of the profile's tags, else of the user's recent clicks
// (fresh ones included), so that a new user's first clicks steer it.
#include <algorithm>
#include <utility>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/list_channel_kit.h"
#include "recall/live_items.h"
#include "recall/realtime_state.h"

namespace recall {
namespace {

using channel_kit::CategoryWeights;
using channel_kit::HeaviestCategories;
using channel_kit::ItemOf;
using channel_kit::NeedRealtime;
using channel_kit::ScoreSum;

constexpr absl::string_view kAllItems = "*";

class HotNowChannel final : public RecallChannel {
 public:
  HotNowChannel(ChannelConfig config, const Snapshot& /*snapshot*/)
      : RecallChannel(std::move(config)) {}

  bool by_category() const { return config().max_groups() > 0; }

  bool AppliesTo(const RequestContext& ctx) const override {
    if (ctx.realtime == nullptr) return false;  // the server has no stream
    return !by_category() ||
           (ctx.user != nullptr &&
            (ctx.user->tags_size() > 0 || ctx.user->recent_clicks_size() > 0));
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    if (absl::Status s = NeedRealtime(ctx); !s.ok()) {
      out->status = s;
      return;
    }
    const RealtimeLists& lists = *ctx.realtime_lists;
    ScoreSum sum;
    auto add_list = [&](absl::string_view key, double weight) {
      absl::Span<const Neighbor> list = lists.Hot(key);
      const size_t n = std::min<size_t>(list.size(), params.fetch_k);
      for (size_t i = 0; i < n; ++i)
        sum.Add(list[i].row, weight * list[i].score, key);
    };
    if (!by_category()) {
      add_list(kAllItems, 1.0);
    } else {
      std::vector<std::pair<absl::string_view, double>> categories =
          HeaviestCategories(*ctx.user, config().max_groups());
      if (categories.empty()) categories = ClickCategories(ctx, out);
      for (const auto& [category, weight] : categories) {
        if (categories[0].second > 0)
          add_list(category, weight / categories[0].second);
      }
    }
    sum.Emit(params, out);
    if (out->found == 0) {
      out->status = absl::NotFoundError(
          "nothing clicked in these categories "
          "in the click stream's window");
    }
  }

 private:
  // The categories of the user's recent clicks by count, most first, at
  // most max_groups (views into the items, live ones pinned in `out`).
  std::vector<std::pair<absl::string_view, double>> ClickCategories(
      const RequestContext& ctx, ChannelOutput* out) const {
    CategoryWeights counts;
    for (const v1::Click& click : ctx.user->recent_clicks()) {
      std::shared_ptr<const LiveItem> pin;
      const Item* item =
          ItemOf(ctx, static_cast<ItemRow>(click.item_row()), &pin);
      if (item == nullptr || item->cat1.empty()) continue;
      counts.Add(item->cat1, 1.0);
      // The category (a `via`) points into a live item: keep it alive.
      if (pin != nullptr) out->pins.push_back(std::move(pin));
    }
    return std::move(counts).Heaviest(config().max_groups());
  }
};

}  // namespace

void RegisterHotNowChannel(ChannelRegistry& registry) {
  registry.Register("hot_now",
                    [](const ChannelConfig& config, const Snapshot& snapshot)
                        -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
                      return std::make_unique<HotNowChannel>(config, snapshot);
                    });
}

}  // namespace recall
