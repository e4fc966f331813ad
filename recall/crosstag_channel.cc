// crosstag: the user's tag profile grouped by category; the top tags of each
// of the strongest categories form a group whose weighted, normalised tag
// vector is searched separately, each group contributing at most its quota.
// `via` is the group's category.
#include <algorithm>
#include <utility>
#include <vector>

#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"

namespace recall {
namespace {

using channel_kit::BestPerItem;
using channel_kit::Factory;
using channel_kit::NeedSpace;
using channel_kit::NeedTable;
using channel_kit::OutOfTime;
using channel_kit::SearchSpace;
using channel_kit::Skips;
using channel_kit::TagProfileVector;

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
      absl::Status s = SearchSpace(ctx, *space_, query.data(), fetch,
                                   params.search, &neighbors);
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
        if (Skips(ctx, c.row)) continue;
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

}  // namespace

void RegisterCrosstagChannel(ChannelRegistry& registry) {
  registry.Register(
      "crosstag",
      Factory<CrosstagChannel>([](const ChannelConfig& c, const Snapshot& s) {
        absl::Status status = NeedSpace(c, s);
        return status.ok() ? NeedTable(c, s, "tags") : status;
      }));
}

}  // namespace recall
