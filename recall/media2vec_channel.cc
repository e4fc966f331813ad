// media2vec: the media of the seeds (or of the user's newest clicks) ->
// similar media in the media vector table -> each similar media's freshest
// items: its live items (published after the build, so newer than the
// snapshot's), newest first, then the snapshot's. An item's similarity is
// its media's; `via` names the media.
#include <algorithm>
#include <utility>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"
#include "recall/live_items.h"

namespace recall {
namespace {

using channel_kit::BestPerItem;
using channel_kit::Factory;
using channel_kit::NeedTable;
using channel_kit::OutOfTime;
using channel_kit::Skips;

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
      const int32_t m = MediaOf(ctx, row);
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
        auto take = [&](absl::Span<const ItemRow> rows) {
          for (ItemRow row : rows) {
            if (media_items.size() >= per_media) break;
            if (!Skips(ctx, row)) media_items.push_back({row, media.score});
          }
        };
        take(LiveItemsOf(ctx, media_->ids[media.row]));
        take(freshest_[media.row]);
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
  // The media row of the item `row` is for the request, or -1.
  int32_t MediaOf(const RequestContext& ctx, ItemRow row) const {
    if (ctx.live != nullptr) {
      if (std::shared_ptr<const LiveItem> live = ctx.live->LiveVersion(row))
        return media_->Find(live->item.media_id);
    }
    return row >= 0 && row < static_cast<ItemRow>(media_of_item_.size())
               ? media_of_item_[row]
               : -1;
  }

  // The live items of `media` the snapshot lacks, newest first.
  static absl::Span<const ItemRow> LiveItemsOf(const RequestContext& ctx,
                                               const std::string& media) {
    if (ctx.live == nullptr || ctx.live->empty()) return {};
    const auto& by_media = ctx.live->binding()->by_media;
    auto it = by_media.find(media);
    return it == by_media.end() ? absl::Span<const ItemRow>() : *it->second;
  }

  const VectorTable* media_;
  std::vector<int32_t> media_of_item_;  // item row -> media row or -1
  std::vector<std::vector<ItemRow>>
      freshest_;  // media row -> items, newest first
};

}  // namespace

void RegisterMedia2vecChannel(ChannelRegistry& registry) {
  registry.Register(
      "media2vec",
      Factory<Media2vecChannel>([](const ChannelConfig& c, const Snapshot& s) {
        return NeedTable(c, s, "media");
      }));
}

}  // namespace recall
