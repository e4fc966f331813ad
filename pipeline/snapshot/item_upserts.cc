#include "pipeline/snapshot/item_upserts.h"

#include "absl/strings/str_cat.h"
#include "pipeline/data/word2vec_io.h"
#include "store/item_table.h"
#include "util/line_error.h"
#include "util/status_macros.h"
#include "util/vector_math.h"

namespace recall {

absl::StatusOr<std::vector<ItemEvent>> ReadItemUpserts(
    const std::string& items_path,
    const std::vector<std::pair<std::string, std::string>>& vector_files) {
  ASSIGN_OR_RETURN(ItemTable items, ItemTable::ReadTsv(items_path));
  std::vector<ItemEvent> events(items.size());
  for (ItemRow row = 0; row < items.size(); ++row)
    events[row].item = items.item(row);
  for (const auto& [space, path] : vector_files) {
    ASSIGN_OR_RETURN(VectorSet vectors, ReadWord2VecText(path));
    for (size_t i = 0; i < vectors.size(); ++i) {
      const int64_t line = static_cast<int64_t>(i) + 2;  // after the header
      const ItemRow row = items.Find(vectors.ids[i]);
      if (row == kNoItem) {
        return LineError(path, line,
                         absl::StrCat("item \"", vectors.ids[i],
                                      "\" is not in ", items_path));
      }
      std::vector<float> v(vectors.row(i), vectors.row(i) + vectors.dim);
      std::vector<float> unit = v;
      if (!NormalizeL2(unit.data(), vectors.dim))
        return LineError(path, line, "zero vector (cannot be normalised)");
      events[row].vectors.emplace_back(space, std::move(v));
    }
  }
  return events;
}

}  // namespace recall
