// RankedLists: per key, a list of items with scores, best first. The
// snapshot's precomputed tables are of this shape:
//   - "itemcf": key i = item row i; the list = the item's co-click
//     neighbours (EASE or cosine item-kNN), built by `recallctl build`;
//   - "hot": keys "*" (all items) and each category; the list = the items
//     with the most time-decayed clicks;
//   - "<space>.neighbours": keys = some item rows (those that can seed i2i);
//     the list = the item's nearest neighbours in the space.
// It grows with keys x list length, never with users.
//
// File format (little-endian), version 1:
//   bytes 0-7    magic "RLISTS01"
//   uint32       keyed: 0 = key i is item row i, 1 = named keys follow,
//                2 = item rows follow (ascending)
//   uint32       key count K
//   uint64       entry count E
//   keyed 1:     K times (uint32 length, that many bytes): the key names
//   keyed 2:     K times uint32: the item row of key i
//   uint64       K + 1 offsets: list i is entries [offsets[i], offsets[i+1])
//   E times      (uint32 item row, float32 score)
// The MANIFEST's FileRef (size + CRC32C) guards the bytes; Read checks the
// structure: offsets ascending and ending at E, rows inside the item table,
// finite scores, lists sorted best first, key rows ascending.
//
// Thread safety: immutable after Read or the last Add; concurrent reads are
// safe.
#ifndef RECALL_STORE_RANKED_LISTS_H_
#define RECALL_STORE_RANKED_LISTS_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace recall {

struct RankedEntry {
  uint32_t row;  // item row
  float score;
};

// What a list's key is.
enum class ListKeys : uint32_t {
  kEveryItemRow = 0,  // key i = item row i
  kNamed = 1,         // a name
  kItemRows = 2,      // an item row, some rows only (ascending)
};

class RankedLists {
 public:
  // Lists keyed by item row (key i = row i), or by name.
  explicit RankedLists(bool named = false)
      : keys_kind_(named ? ListKeys::kNamed : ListKeys::kEveryItemRow) {}
  explicit RankedLists(ListKeys keys) : keys_kind_(keys) {}
  RankedLists(RankedLists&&) = default;
  RankedLists& operator=(RankedLists&&) = default;

  // Appends the next list (key = its position) / a named list. Entries are
  // sorted best first here.
  void Add(std::vector<RankedEntry> entries);
  void Add(std::string key, std::vector<RankedEntry> entries);
  // kItemRows: the list of item `row`, rows ascending from one call to the
  // next.
  void AddRow(uint32_t row, std::vector<RankedEntry> entries);

  // Writes the file format above.
  absl::Status Write(const std::string& path) const;
  // Reads and checks a file; DATA_LOSS naming `path` and the problem, e.g. a
  // row >= item_count.
  static absl::StatusOr<RankedLists> Read(const std::string& path,
                                          int64_t item_count);

  ListKeys key_kind() const { return keys_kind_; }
  bool named() const { return keys_kind_ == ListKeys::kNamed; }
  int64_t size() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  int64_t entries() const { return static_cast<int64_t>(entries_.size()); }
  // The list of key i (0 <= i < size()).
  absl::Span<const RankedEntry> List(int64_t i) const {
    return absl::MakeConstSpan(entries_.data() + offsets_[i],
                               offsets_[i + 1] - offsets_[i]);
  }
  // The index of a named key, or -1.
  int64_t Find(absl::string_view key) const {
    auto it = index_.find(key);
    return it == index_.end() ? -1 : it->second;
  }
  const std::vector<std::string>& keys() const { return keys_; }
  // The index of item `row`'s list, or -1 (named lists have none).
  int64_t FindRow(int64_t row) const {
    if (keys_kind_ == ListKeys::kEveryItemRow)
      return row >= 0 && row < size() ? row : -1;
    auto it = std::lower_bound(rows_.begin(), rows_.end(), row);
    return it != rows_.end() && *it == row ? it - rows_.begin() : -1;
  }
  // kItemRows: the item row of each key.
  const std::vector<uint32_t>& rows() const { return rows_; }

 private:
  ListKeys keys_kind_;
  std::vector<std::string> keys_;
  std::vector<uint32_t> rows_;
  absl::flat_hash_map<std::string, int64_t> index_;
  std::vector<uint64_t> offsets_ = {0};
  std::vector<RankedEntry> entries_;
};

}  // namespace recall

#endif  // RECALL_STORE_RANKED_LISTS_H_
