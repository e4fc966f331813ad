// Internal helpers shared by the built-in channel kinds (recall/*_channel.cc);
// not for use outside recall/.
//
// Contract:
//   BestPerItem      keeps one candidate per item (the highest similarity;
//                    the first seen on a tie) and hands them over best first,
//                    ties in the order the items were first offered.
//   TagProfileVector writes the normalised, weighted sum of the known tags'
//                    vectors; false (and zeros) when no tag is known or the
//                    sum is zero.
//   OutOfTime        is the deadline check of channels with several
//                    searches: past ctx.deadline it sets out->status to
//                    DEADLINE_EXCEEDED and returns true; the channel then
//                    stops and keeps what it has.
//   NeedSpace/NeedTable
//                    are factory checks: INVALID_ARGUMENT naming the channel
//                    when the snapshot lacks the config's space or the named
//                    vector table.
//   Factory          builds a ChannelFactory that runs `check` on the config
//                    and snapshot, then constructs
//                    Channel(config, snapshot).
//   SearchSpace      every channel's search of a space: the snapshot's index
//                    and the request's live segment, merged by score
//                    (LiveView::MergeSearch), at most k, best first.
//   ItemVector       an item's vector in a space for the request: its live
//                    version's when it has one there, else the snapshot
//                    index's; false when neither has one.
//   Skips            whether a candidate must be left out for the request:
//                    excluded (seeds, seen, the request's) or taken down.
//   ItemOf           the item a row is for the request (live version or the
//                    snapshot's), nullptr for a live row no longer live;
//                    `pin` keeps a live version alive.
#ifndef RECALL_RECALL_CHANNEL_KIT_H_
#define RECALL_RECALL_CHANNEL_KIT_H_

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/channel.h"
#include "recall/snapshot.h"

namespace recall {
namespace channel_kit {

// Keeps, per item, the best candidate (highest score) seen so far; then
// sorts best first. One per channel run (not thread-safe).
class BestPerItem {
 public:
  void Offer(const ChannelCandidate& c) {
    auto [it, inserted] = position_.emplace(c.row, candidates_.size());
    if (inserted) {
      candidates_.push_back(c);
    } else if (c.score > candidates_[it->second].score) {
      candidates_[it->second] = c;
    }
  }
  void MoveSortedTo(ChannelOutput* out) {
    std::stable_sort(candidates_.begin(), candidates_.end(),
                     [](const ChannelCandidate& a, const ChannelCandidate& b) {
                       return a.score > b.score;
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
                      absl::Span<const v1::TagWeight* const> tags, float* out);

// Channels with several searches check the deadline before each: past it,
// they stop and return what they have, marked DEADLINE_EXCEEDED.
bool OutOfTime(const RequestContext& ctx, ChannelOutput* out);

absl::Status NeedSpace(const ChannelConfig& config, const Snapshot& snapshot);

absl::Status SearchSpace(const RequestContext& ctx, const Space& space,
                         const float* query, int k, const SearchParams& params,
                         std::vector<Neighbor>* out);

bool ItemVector(const RequestContext& ctx, const Space& space, ItemRow row,
                float* out);

bool Skips(const RequestContext& ctx, ItemRow row);

const Item* ItemOf(const RequestContext& ctx, ItemRow row,
                   std::shared_ptr<const LiveItem>* pin);

absl::Status NeedTable(const ChannelConfig& config, const Snapshot& snapshot,
                       absl::string_view table);

// A factory for a channel class after checks on the snapshot.
template <typename Channel, typename Check>
ChannelFactory Factory(Check check) {
  return [check](const ChannelConfig& config, const Snapshot& snapshot)
             -> absl::StatusOr<std::unique_ptr<RecallChannel>> {
    if (absl::Status s = check(config, snapshot); !s.ok()) return s;
    return std::make_unique<Channel>(config, snapshot);
  };
}

}  // namespace channel_kit
}  // namespace recall

#endif  // RECALL_RECALL_CHANNEL_KIT_H_
