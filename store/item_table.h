// The item table: every article a snapshot knows, with its features. Item
// ids are strings at the edges; inside the service an item is its row number
// in this table (dense, 0-based), which is also its Faiss id in every space.
#ifndef RECALL_STORE_ITEM_TABLE_H_
#define RECALL_STORE_ITEM_TABLE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace recall {

// Dense row number of an item within one snapshot's item table.
using ItemRow = int32_t;
inline constexpr ItemRow kNoItem = -1;

struct Item {
  std::string id;        // e.g. "20201225A0C3FL00"; no tabs or newlines
  std::string cat1;      // top-level category, e.g. "sports"
  std::string cat2;      // sub-category, e.g. "sports/football"
  std::string media_id;  // the author or outlet
  // Tags with non-negative weights, heaviest first. Tag names are non-empty
  // and contain no `;`, tab or newline (a `:` is fine: the weight follows
  // the last one).
  std::vector<std::pair<std::string, float>> tags;
  int64_t publish_ts = 0;  // unix seconds
  float hotness = 0;       // non-negative popularity score
  float ctr = 0;           // click-through rate in [0, 1]
};

// The TSV header line, tab-separated, that every item table file starts with.
inline constexpr absl::string_view kItemTsvHeader =
    "item_id\tcat1\tcat2\tmedia_id\ttags\tpublish_ts\thotness\tctr";
// Its column names, in order (the item stream's entries use them as field
// names too: stream/entries.h).
inline constexpr absl::string_view kItemColumns[] = {
    "item_id", "cat1",       "cat2",    "media_id",
    "tags",    "publish_ts", "hotness", "ctr"};
inline constexpr int kItemColumnCount = 8;

// One item from its fields in column order, with every check a row of
// items.tsv gets (CheckItem's, tags `tag:weight;tag:weight`, publish_ts an
// integer, hotness finite and >= 0, ctr in [0, 1]): INVALID_ARGUMENT naming
// the problem otherwise.
absl::StatusOr<Item> ParseItemFields(
    absl::Span<const absl::string_view> fields);

// The checks Add applies to one item, but for uniqueness: a non-empty id, no
// tab or newline in a field, valid UTF-8, well-formed tags.
absl::Status CheckItem(const Item& item);

// Tags as items.tsv writes them: `tag:weight;tag:weight`.
std::string FormatItemTags(
    const std::vector<std::pair<std::string, float>>& tags);

// An immutable-after-build table of items. Safe for concurrent reads from
// multiple threads once fully built.
class ItemTable {
 public:
  ItemTable() = default;
  ItemTable(ItemTable&&) = default;
  ItemTable& operator=(ItemTable&&) = default;

  // Reads a TSV file that starts with kItemTsvHeader. Tags are written
  // `tag:weight;tag:weight` (may be empty). Errors are INVALID_ARGUMENT
  // naming `path:line` and the problem: wrong column count, unparsable or
  // out-of-range number, empty or duplicate id, missing header, no rows.
  static absl::StatusOr<ItemTable> ReadTsv(const std::string& path);

  // Writes the table in the format ReadTsv reads.
  absl::Status WriteTsv(const std::string& path) const;

  // Appends an item as the next row. INVALID_ARGUMENT for an empty id, a
  // duplicate id, an id/field containing a tab or newline, or a malformed tag.
  absl::Status Add(Item item);

  int32_t size() const { return static_cast<int32_t>(items_.size()); }
  const Item& item(ItemRow row) const { return items_[row]; }
  const std::vector<Item>& items() const { return items_; }

  // The row of `id`, or kNoItem when the table does not hold it.
  ItemRow Find(absl::string_view id) const;

 private:
  std::vector<Item> items_;
  absl::flat_hash_map<std::string, ItemRow> row_of_;
};

// titles.tsv, beside items.tsv in a world and in a snapshot version: an
// "item_id\ttitle" header, then one "ID\tTITLE" row per titled item (titles
// are free text: any UTF-8 but tab and newline).

// Writes `titles` (by row of `items`; empty ones are left out; tabs and line
// breaks in a title become spaces). INTERNAL naming the path when the file
// cannot be written.
absl::Status WriteTitlesTsv(const std::string& path, const ItemTable& items,
                            const std::vector<std::string>& titles);

// Reads titles.tsv into one title per row of `items` ("" for untitled
// items); rows naming items the table lacks are skipped, a repeated id keeps
// its last title. NOT_FOUND naming the path when it cannot be opened;
// INVALID_ARGUMENT "PATH:LINE: problem" for a bad header, a row without a
// tab, or a title that is not UTF-8.
absl::StatusOr<std::vector<std::string>> ReadTitlesTsv(const std::string& path,
                                                       const ItemTable& items);

}  // namespace recall

#endif  // RECALL_STORE_ITEM_TABLE_H_
