// Internal helpers of the channels over the snapshot's precomputed ranked
// lists (store/ranked_lists.h): item_cf (recall/item_cf_channel.cc) and hot
// (recall/hot_channel.cc). Neither searches an index: a request reads a few
// lists and sums them. Not for use outside recall/.
//
// Contract:
//   NeedLists    the snapshot's lists named config.lists() (`fallback` when
//                empty), if they exist and are named (keyed by string) or
//                per-item as `named` says; else INVALID_ARGUMENT naming the
//                channel and the lists.
//   ScoreSum     sums weighted scores per item, remembering the `via` of
//                each item's largest single score; Emit appends the top
//                fetch_k sums (ties: lower row first) as candidates with
//                similarity = sum / the top sum, counts every summed item as
//                found and those under min_similarity as dropped.
//   CategoryWeights
//                sums weights per category; Heaviest(n) lists the sums
//                heaviest first (ties: first seen), at most n.
//   HeaviestCategories
//                the user's profile categories (TagWeight::category) by the
//                summed weight of their tags, as CategoryWeights lists them;
//                the views point into `user`.
//   NeedRealtime OK when the request has the click stream's lists; else
//                NOT_FOUND saying why (the stream is down or catching up),
//                for the real-time channels (hot_now, cluster_cf_now).
//   ListFactory  a ChannelFactory that resolves the lists with NeedLists and
//                constructs Channel(config, lists).
#ifndef RECALL_RECALL_LIST_CHANNEL_KIT_H_
#define RECALL_RECALL_LIST_CHANNEL_KIT_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "recall/channel.h"
#include "recall/snapshot.h"

namespace recall {
namespace channel_kit {

absl::StatusOr<const NamedLists*> NeedLists(const ChannelConfig& config,
                                            const Snapshot& snapshot,
                                            absl::string_view fallback,
                                            bool named);

// Sum of weighted scores per item, with the item's strongest source; emits
// the top `fetch_k` as candidates, similarities divided by the best.
// One per request (not thread-safe); `via` strings must outlive it.
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

  void Emit(const ChannelParams& params, ChannelOutput* out);

 private:
  struct Entry {
    double sum = 0;
    double best = -1;
    absl::string_view via;
  };
  absl::flat_hash_map<ItemRow, Entry> entries_;
};

// Weight per category, in the order categories were first added. One per
// request (not thread-safe).
class CategoryWeights {
 public:
  void Add(absl::string_view category, double weight);
  std::vector<std::pair<absl::string_view, double>> Heaviest(int n) &&;

 private:
  std::vector<std::pair<absl::string_view, double>> sums_;
};

std::vector<std::pair<absl::string_view, double>> HeaviestCategories(
    const v1::UserRecord& user, int max_groups);

absl::Status NeedRealtime(const RequestContext& ctx);

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

}  // namespace channel_kit
}  // namespace recall

#endif  // RECALL_RECALL_LIST_CHANNEL_KIT_H_
