#include "pipeline/snapshot/takedowns.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "util/line_error.h"

namespace recall {

absl::StatusOr<absl::flat_hash_set<std::string>> ReadTakedowns(
    const std::string& path) {
  absl::flat_hash_set<std::string> ids;
  if (path.empty()) return ids;
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--takedowns ", path, ": cannot open"));
  }
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    absl::string_view id = absl::StripAsciiWhitespace(line);
    if (id.empty() || id[0] == '#') continue;
    Item item;
    item.id = std::string(id);
    if (absl::Status s = CheckItem(item); !s.ok())
      return LineError(path, line_no, s.message());
    ids.insert(item.id);
  }
  return ids;
}

ItemTable WithoutItems(ItemTable items,
                       const absl::flat_hash_set<std::string>& taken_down) {
  if (taken_down.empty()) return items;
  ItemTable kept;
  int64_t left_out = 0;
  for (const Item& item : items.items()) {
    if (taken_down.contains(item.id)) {
      ++left_out;
    } else {
      kept.Add(item).IgnoreError();  // came from a valid table
    }
  }
  fprintf(stderr, "build: left out %lld taken-down items (--takedowns)\n",
          static_cast<long long>(left_out));
  return kept;
}

}  // namespace recall
