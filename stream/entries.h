// The entry formats of the service's Redis streams, written down once here.
// Producers (`recallctl replay`, `publish-items`, `takedown`) encode with
// these functions and recall-server's consumers parse with them.
//
// Click stream (recall-server --click_stream), one click per entry:
//   user        the user id (non-empty)
//   item        the item id (non-empty)
//   ts          when, unix seconds, decimal
//
// Item stream (recall-server --item_stream), one upsert or delete of one
// item per entry, format version 1:
//   v           "1". An entry of another version is refused ("version"): a
//               producer that moves to a version 2 needs servers that read it.
//   op          "upsert" or "delete"
//   item_id     the item's id (items.tsv's rules: non-empty, no tab or
//               newline, valid UTF-8)
// and for an upsert:
//   cat1 cat2 media_id tags publish_ts hotness ctr
//               every other column of items.tsv, by its header name, with
//               the same checks (store/item_table.h, ParseItemFields); all
//               required, cat2 and media_id and tags may be empty
//   vec:<space> zero or more: the item's vector in that space, decimal floats
//               separated by single spaces (as in word2vec text), finite;
//               the server checks the space and the dimension against its
//               snapshot and normalises it. Spaces the builder derives (the
//               tag2vec space from tags) are derived by the server when the
//               producer sends none.
// Fields not listed are ignored (room for additions within version 1); a
// repeated field is refused. No value may exceed kMaxFieldBytes, nor a
// vector kMaxVectorValues values.
#ifndef RECALL_STREAM_ENTRIES_H_
#define RECALL_STREAM_ENTRIES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "recall/live_items.h"
#include "recall/realtime_state.h"

namespace recall {

// An entry's field-value pairs, in stream order.
using StreamFields = std::vector<std::pair<std::string, std::string>>;

inline constexpr absl::string_view kItemFormatVersion = "1";
inline constexpr absl::string_view kVectorFieldPrefix = "vec:";
inline constexpr size_t kMaxFieldBytes = 64 * 1024;
inline constexpr size_t kMaxVectorValues = 4096;

StreamFields EncodeClick(const ClickEvent& click);
std::vector<StreamFields> EncodeClicks(absl::Span<const ClickEvent> clicks);

// INVALID_ARGUMENT naming `entry_id` and the field for a missing or empty
// user or item, or a ts that is not a non-negative integer.
absl::Status ParseClick(const StreamFields& fields, absl::string_view entry_id,
                        ClickEvent* click);

// An upsert carries the item's fields and its vectors; a delete its id.
StreamFields EncodeItemEvent(const ItemEvent& event);

// INVALID_ARGUMENT naming `entry_id`, the field and the problem; `*reason`
// is a short label for metrics: "version", "op", "field" (a missing,
// repeated or malformed field), "too_large" or "vector". On success
// `event` holds the op, the item and the vectors as sent (stream_ms is the
// caller's to set).
absl::Status ParseItemEvent(const StreamFields& fields,
                            absl::string_view entry_id, ItemEvent* event,
                            absl::string_view* reason);

}  // namespace recall

#endif  // RECALL_STREAM_ENTRIES_H_
