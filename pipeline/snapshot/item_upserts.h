// Live items from files: an items file (items.tsv format) and word2vec files
// of their vectors, as the upserts the item stream carries
// (recall/live_items.h). What `recallctl publish-items` pushes, and what
// `recallctl tune --split time` applies in process to score a policy as it
// would serve with the item stream.
#ifndef RECALL_PIPELINE_SNAPSHOT_ITEM_UPSERTS_H_
#define RECALL_PIPELINE_SNAPSHOT_ITEM_UPSERTS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "recall/live_items.h"

namespace recall {

// One upsert per row of `items_path`, with its vector from each (space,
// word2vec file) of `vector_files` that has one, as written (not
// normalised). INVALID_ARGUMENT naming the file and line for a bad row (the
// items.tsv checks), a vector of an id the items file lacks, or a zero
// vector; NOT_FOUND for a missing file.
absl::StatusOr<std::vector<ItemEvent>> ReadItemUpserts(
    const std::string& items_path,
    const std::vector<std::pair<std::string, std::string>>& vector_files);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_ITEM_UPSERTS_H_
