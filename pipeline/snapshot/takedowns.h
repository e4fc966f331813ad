// Takedowns at build time (`recallctl build --takedowns FILE`): the ids a
// build leaves out of the snapshot, so that a takedown needs no rebuild of
// the world (the live segment hides them meanwhile: recall/live_items.h).
#ifndef RECALL_PIPELINE_SNAPSHOT_TAKEDOWNS_H_
#define RECALL_PIPELINE_SNAPSHOT_TAKEDOWNS_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "store/item_table.h"

namespace recall {

// The ids of --takedowns: one per line, blank lines and '#' comments
// skipped; none when `path` is empty. INVALID_ARGUMENT naming the flag and
// path when it cannot be opened, "PATH:LINE: problem" for an id an item
// could not have.
absl::StatusOr<absl::flat_hash_set<std::string>> ReadTakedowns(
    const std::string& path);

// The items of `items` but those in `taken_down`, in order (says on stderr
// how many were left out).
ItemTable WithoutItems(ItemTable items,
                       const absl::flat_hash_set<std::string>& taken_down);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_TAKEDOWNS_H_
