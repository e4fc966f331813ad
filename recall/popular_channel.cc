// popular: the hottest items published within the freshness window before
// the snapshot's reference time, and the live items the snapshot lacks
// (published after it); similarity is hotness / the snapshot's hottest
// (at most 1).
#include <algorithm>
#include <utility>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/live_items.h"

namespace recall {
namespace {

using channel_kit::Factory;

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
    top_ = ranked_.empty() ? 0.0f : ranked_[0].score;
    for (Neighbor& n : ranked_) n.score = top_ > 0 ? n.score / top_ : 0.0f;
  }

  bool AppliesTo(const RequestContext&) const override { return true; }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    const size_t n = std::min<size_t>(ranked_.size(), params.fetch_k);
    absl::Span<const Neighbor> ranked = absl::MakeConstSpan(ranked_.data(), n);
    if (ctx.live == nullptr || ctx.live->empty() ||
        ctx.live->binding()->hottest.empty()) {
      AddNeighbors(ranked, "", params, out);
      return;
    }
    // Live items by the same measure, merged in.
    std::vector<Neighbor> merged;
    merged.reserve(n + ctx.live->binding()->hottest.size());
    for (const Neighbor& live : ctx.live->binding()->hottest) {
      merged.push_back(
          {live.row, top_ > 0 ? std::min(live.score / top_, 1.0f) : 1.0f});
    }
    const size_t live_count = merged.size();
    merged.insert(merged.end(), ranked.begin(), ranked.end());
    std::inplace_merge(
        merged.begin(), merged.begin() + live_count, merged.end(),
        [](const Neighbor& a, const Neighbor& b) { return a.score > b.score; });
    if (merged.size() > static_cast<size_t>(params.fetch_k))
      merged.resize(params.fetch_k);
    AddNeighbors(merged, "", params, out);
  }

 private:
  std::vector<Neighbor> ranked_;  // best first; score = normalised hotness
  float top_ = 0;                 // the hottest item's hotness
};

}  // namespace

void RegisterPopularChannel(ChannelRegistry& registry) {
  registry.Register("popular", Factory<PopularChannel>(
                                   [](const ChannelConfig&, const Snapshot&) {
                                     return absl::OkStatus();
                                   }));
}

}  // namespace recall
