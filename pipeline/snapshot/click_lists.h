// The lists stage of a build: the ranked lists computed from the clicks
// ("itemcf": each item's co-click neighbours, pipeline/snapshot/item_cf.h;
// "hot": the most clicked items overall and per category), written as
// lists/<name>.rl (store/ranked_lists.h) and listed in the MANIFEST.
#ifndef RECALL_PIPELINE_SNAPSHOT_CLICK_LISTS_H_
#define RECALL_PIPELINE_SNAPSHOT_CLICK_LISTS_H_

#include <string>

#include "absl/status/status.h"
#include "pipeline/snapshot/item_cf.h"
#include "pipeline/snapshot/profiles.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "store/item_table.h"

namespace recall {

// Writes "itemcf" (unless itemcf.method is "none") and "hot" (half-life
// `hot_half_life_hours`, top `hot_items`) into version directory `dir` and
// adds their entries to manifest->lists; nothing when `log` has no click.
// Prints each list's time to stderr.
absl::Status BuildClickLists(const ItemCfOptions& itemcf,
                             double hot_half_life_hours, int hot_items,
                             const ItemTable& items, const ClickLog& log,
                             const std::string& dir, v1::Manifest* manifest);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_CLICK_LISTS_H_
