// The last steps of a request in RecallEngine: Merger combines the channels'
// outputs into one answer, FeatureWeighting scales merged scores by item
// features (snapshot.proto, FeatureWeights). Both are plain data structures
// with no knowledge of the policy or the channels' kinds.
#ifndef RECALL_RECALL_MERGER_H_
#define RECALL_RECALL_MERGER_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/channel.h"
#include "recall/engine.h"
#include "recall/snapshot.h"
#include "store/item_table.h"

namespace recall {

// `via` of every back-filled item.
inline constexpr absl::string_view kViaBackfill = "backfill";

// Merges channel outputs into answer->items: dedup by item, every source
// kept, score = sum of weight x similarity over the item's sources.
//
// Contract:
//   - Items appear in answer->items in the order they were first kept;
//     sorting and cutting to k are the caller's.
//   - Items in `excluded` or `denied` (taken down; may be null) are never
//     added; each one a channel offers before reaching its quota counts in
//     report->excluded.
//   - A channel contributes at most params.quota kept candidates; an item
//     already present counts toward the quota too (another source, its
//     score added), except with `fill_only`, where it is skipped and counted
//     nowhere. The candidates left after the quota is reached count in
//     report->truncated.
//   - Sources keep the channel's name (a pointer to channel.name(), which
//     must outlive the answer), the candidate's similarity, its 0-based rank
//     in the channel's output and its `via` (kViaBackfill with `fill_only`).
//   - Does not touch answer->items' order, answer->channels or any other
//     answer field.
// `excluded`, `answer` and the channels must outlive the merger; answer->items
// must not be changed elsewhere while it is in use.
class Merger {
 public:
  Merger(const absl::flat_hash_set<ItemRow>& excluded,
         const absl::flat_hash_set<ItemRow>* denied, RecallAnswer* answer)
      : excluded_(excluded),
        denied_(denied != nullptr && !denied->empty() ? denied : nullptr),
        answer_(answer) {}

  // Adds one channel's candidates, best first, until `params.quota` of them
  // are kept; sets report->kept, ->excluded and ->truncated. With
  // `fill_only` (back-fill), items already present are skipped and each new
  // item's score is capped at `score_cap`.
  void Add(const RecallChannel& channel, const ChannelParams& params,
           const ChannelOutput& output, bool fill_only, float score_cap,
           ChannelReport* report);

  // Distinct items merged so far.
  size_t size() const { return position_.size(); }

 private:
  const absl::flat_hash_set<ItemRow>& excluded_;
  const absl::flat_hash_set<ItemRow>* denied_;
  RecallAnswer* answer_;
  absl::flat_hash_map<ItemRow, size_t> position_;
};

// The factor the engine multiplies a merged item's score by (snapshot.proto,
// FeatureWeights):
//   factor = (1 + hotness_weight x hotness / the snapshot's max hotness)
//          x (1 + ctr_weight x ctr)
//          x (floor + (1 - floor) x 2^(-age_h / freshness_half_life_hours))
// where age_h is the item's age at the snapshot's reference time (0 for items
// published after it). A term whose weight is 0 (half-life <= 0 for
// freshness; max hotness 0 for hotness) is left out, so default weights give
// a factor of 1. Thread safety: immutable after construction.
class FeatureWeighting {
 public:
  FeatureWeighting(const v1::FeatureWeights& weights, const Snapshot& snapshot);

  float Factor(const Item& item) const;

 private:
  const v1::FeatureWeights weights_;
  const int64_t reference_time_;
  float max_hotness_ = 0;
};

}  // namespace recall

#endif  // RECALL_RECALL_MERGER_H_
