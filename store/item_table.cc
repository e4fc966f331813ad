#include "store/item_table.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "util/line_error.h"
#include "util/utf8.h"

namespace recall {
namespace {

bool HasSeparator(absl::string_view s) {
  return s.find_first_of("\t\n\r") != absl::string_view::npos;
}

// Parses "tag:weight;tag:weight" (empty allowed).
absl::Status ParseTags(absl::string_view field,
                       std::vector<std::pair<std::string, float>>* tags) {
  if (field.empty()) return absl::OkStatus();
  for (absl::string_view entry : absl::StrSplit(field, ';')) {
    size_t colon = entry.rfind(':');
    float weight = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtof(entry.substr(colon + 1), &weight) ||
        !std::isfinite(weight) || weight < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed tag \"", entry, "\" (want tag:weight, weight >= 0)"));
    }
    tags->emplace_back(std::string(entry.substr(0, colon)), weight);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Item> ParseItemFields(absl::Span<const absl::string_view> f) {
  if (f.size() != kItemColumnCount) {
    return absl::InvalidArgumentError(absl::StrCat(
        "malformed row: ", f.size(), " columns, want ", kItemColumnCount));
  }
  Item item;
  item.id = std::string(f[0]);
  item.cat1 = std::string(f[1]);
  item.cat2 = std::string(f[2]);
  item.media_id = std::string(f[3]);
  if (absl::Status s = ParseTags(f[4], &item.tags); !s.ok()) return s;
  if (!absl::SimpleAtoi(f[5], &item.publish_ts)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad publish_ts \"", f[5], "\""));
  }
  if (!absl::SimpleAtof(f[6], &item.hotness) || !std::isfinite(item.hotness) ||
      item.hotness < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad hotness \"", f[6], "\" (want a finite number >= 0)"));
  }
  if (!absl::SimpleAtof(f[7], &item.ctr) || !(item.ctr >= 0 && item.ctr <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad ctr \"", f[7], "\" (want a number in [0, 1])"));
  }
  if (absl::Status s = CheckItem(item); !s.ok()) return s;
  return item;
}

std::string FormatItemTags(
    const std::vector<std::pair<std::string, float>>& tags) {
  return absl::StrJoin(tags, ";", [](std::string* out, const auto& tag) {
    absl::StrAppend(out, tag.first, ":", tag.second);
  });
}

absl::Status CheckItem(const Item& item) {
  if (item.id.empty()) return absl::InvalidArgumentError("empty item id");
  for (absl::string_view s :
       {absl::string_view(item.id), absl::string_view(item.cat1),
        absl::string_view(item.cat2), absl::string_view(item.media_id)}) {
    if (HasSeparator(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", item.id, ": field contains a tab or newline"));
    }
    if (!IsValidUtf8(s)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "item \"", absl::CHexEscape(item.id),
          "\": a field is not valid UTF-8 (\"", absl::CHexEscape(s), "\")"));
    }
  }
  for (const auto& [tag, weight] : item.tags) {
    if (!IsValidUtf8(tag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("item \"", absl::CHexEscape(item.id), "\": tag \"",
                       absl::CHexEscape(tag), "\" is not valid UTF-8"));
    }
    if (tag.empty() || tag.find_first_of("\t\n\r;") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", item.id, ": tag \"", tag,
                       "\" is empty or contains one of ;\\t\\n"));
    }
  }
  return absl::OkStatus();
}

absl::Status ItemTable::Add(Item item) {
  if (absl::Status s = CheckItem(item); !s.ok()) return s;
  auto [it, inserted] = row_of_.emplace(item.id, size());
  if (!inserted) {
    return absl::InvalidArgumentError(absl::StrCat(
        "duplicate item id \"", item.id, "\" (first at row ", it->second, ")"));
  }
  items_.push_back(std::move(item));
  return absl::OkStatus();
}

ItemRow ItemTable::Find(absl::string_view id) const {
  auto it = row_of_.find(id);
  return it == row_of_.end() ? kNoItem : it->second;
}

absl::StatusOr<ItemTable> ItemTable::ReadTsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  ItemTable table;
  std::string line;
  int64_t line_no = 0;
  if (!std::getline(in, line))
    return LineError(path, 1, "empty input (no header)");
  ++line_no;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != kItemTsvHeader) {
    return LineError(
        path, 1,
        absl::StrCat("bad header; want \"",
                     absl::StrReplaceAll(kItemTsvHeader, {{"\t", "\\t"}}),
                     "\""));
  }
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    absl::StatusOr<Item> item = ParseItemFields(f);
    if (!item.ok()) return LineError(path, line_no, item.status().message());
    if (absl::Status s = table.Add(*std::move(item)); !s.ok()) {
      return LineError(path, line_no, s.message());
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  if (table.size() == 0)
    return LineError(path, line_no, "empty input (no items)");
  return table;
}

absl::Status ItemTable::WriteTsv(const std::string& path) const {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot create"));
  out << kItemTsvHeader << '\n';
  std::string row;
  for (const Item& item : items_) {
    row.clear();
    absl::StrAppend(&row, item.id, "\t", item.cat1, "\t", item.cat2, "\t",
                    item.media_id, "\t");
    absl::StrAppend(&row, FormatItemTags(item.tags));
    absl::StrAppend(&row, "\t", item.publish_ts, "\t", item.hotness, "\t",
                    item.ctr, "\n");
    out << row;
  }
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

namespace {
constexpr absl::string_view kTitlesHeader = "item_id\ttitle";
}  // namespace

absl::Status WriteTitlesTsv(const std::string& path, const ItemTable& items,
                            const std::vector<std::string>& titles) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot create"));
  out << kTitlesHeader << '\n';
  std::string title;
  const size_t rows =
      std::min(titles.size(), static_cast<size_t>(items.size()));
  for (size_t row = 0; row < rows; ++row) {
    if (titles[row].empty()) continue;
    title = titles[row];
    std::replace_if(
        title.begin(), title.end(),
        [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    out << items.item(static_cast<ItemRow>(row)).id << '\t' << title << '\n';
  }
  out.flush();
  if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadTitlesTsv(const std::string& path,
                                                       const ItemTable& items) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<std::string> titles(static_cast<size_t>(items.size()));
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (line != kTitlesHeader) {
        return LineError(path, 1, "bad header; want \"item_id\\ttitle\"");
      }
      continue;
    }
    if (line.empty()) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) return LineError(path, line_no, "no tab");
    const absl::string_view title = absl::string_view(line).substr(tab + 1);
    if (!IsValidUtf8(title)) {
      return LineError(path, line_no, "the title is not UTF-8");
    }
    const ItemRow row = items.Find(absl::string_view(line).substr(0, tab));
    if (row != kNoItem) titles[static_cast<size_t>(row)] = std::string(title);
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  if (line_no == 0) return LineError(path, 1, "empty input (no header)");
  return titles;
}

}  // namespace recall
