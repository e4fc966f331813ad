// hot: the items with the most recent clicks ("hot" ranked lists,
// store/ranked_lists.h), overall or in the user's heaviest profile
// categories.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/list_channel_kit.h"

namespace recall {
namespace {

using channel_kit::HeaviestCategories;
using channel_kit::ListFactory;
using channel_kit::ScoreSum;

constexpr absl::string_view kAllItems = "*";

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
      const auto categories =
          HeaviestCategories(*ctx.user, config().max_groups());
      for (size_t g = 0; g < categories.size(); ++g) {
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

}  // namespace

void RegisterHotChannel(ChannelRegistry& registry) {
  registry.Register("hot", ListFactory<HotChannel>("hot", true));
}

}  // namespace recall
