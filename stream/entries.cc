// The streams' entry formats; see stream/entries.h.
#include "stream/entries.h"

#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "store/item_table.h"

namespace recall {
namespace {

constexpr absl::string_view kUserField = "user";
constexpr absl::string_view kItemField = "item";
constexpr absl::string_view kTsField = "ts";
constexpr absl::string_view kVersionField = "v";
constexpr absl::string_view kOpField = "op";
constexpr absl::string_view kUpsert = "upsert";
constexpr absl::string_view kDelete = "delete";

// The fields by name; a repeated name makes `*repeated` that name.
absl::flat_hash_map<absl::string_view, absl::string_view> ByName(
    const StreamFields& fields, absl::string_view* repeated) {
  absl::flat_hash_map<absl::string_view, absl::string_view> by_name;
  for (const auto& [name, value] : fields) {
    if (!by_name.emplace(name, value).second && repeated->empty())
      *repeated = name;
  }
  return by_name;
}

// Up to 64 bytes of a value, for messages.
absl::string_view Quote(absl::string_view value) { return value.substr(0, 64); }

// "v1 v2 ..." into `out`: finite decimal floats, at most kMaxVectorValues.
absl::Status ParseVector(absl::string_view text, std::vector<float>* out) {
  for (absl::string_view token : absl::StrSplit(text, ' ')) {
    float value = 0;
    if (!absl::SimpleAtof(token, &value) || !std::isfinite(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("value \"", Quote(token), "\" is not a finite number"));
    }
    if (out->size() == kMaxVectorValues) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kMaxVectorValues, " values"));
    }
    out->push_back(value);
  }
  return absl::OkStatus();
}

}  // namespace

StreamFields EncodeClick(const ClickEvent& click) {
  return {{std::string(kUserField), click.user_id},
          {std::string(kItemField), click.item_id},
          {std::string(kTsField), absl::StrCat(click.ts)}};
}

std::vector<StreamFields> EncodeClicks(absl::Span<const ClickEvent> clicks) {
  std::vector<StreamFields> entries;
  entries.reserve(clicks.size());
  for (const ClickEvent& click : clicks) entries.push_back(EncodeClick(click));
  return entries;
}

absl::Status ParseClick(const StreamFields& fields, absl::string_view entry_id,
                        ClickEvent* click) {
  bool have_ts = false;
  absl::string_view ts_text;
  for (const auto& [name, value] : fields) {
    if (name == kUserField) click->user_id = value;
    if (name == kItemField) click->item_id = value;
    if (name == kTsField) {
      have_ts = true;
      ts_text = value;
    }
  }
  auto bad = [&](auto... parts) {
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", entry_id, ": ", parts...));
  };
  if (click->user_id.empty()) return bad("no \"user\" field");
  if (click->item_id.empty()) return bad("no \"item\" field");
  if (!have_ts) return bad("no \"ts\" field");
  if (!absl::SimpleAtoi(ts_text, &click->ts) || click->ts < 0) {
    return bad("\"ts\" is not unix seconds: \"", Quote(ts_text), "\"");
  }
  return absl::OkStatus();
}

StreamFields EncodeItemEvent(const ItemEvent& event) {
  const Item& item = event.item;
  StreamFields fields = {
      {std::string(kVersionField), std::string(kItemFormatVersion)},
      {std::string(kOpField),
       std::string(event.op == ItemEvent::Op::kDelete ? kDelete : kUpsert)},
      {std::string(kItemColumns[0]), item.id}};
  if (event.op == ItemEvent::Op::kDelete) return fields;
  const std::string values[] = {item.cat1,
                                item.cat2,
                                item.media_id,
                                FormatItemTags(item.tags),
                                absl::StrCat(item.publish_ts),
                                absl::StrCat(item.hotness),
                                absl::StrCat(item.ctr)};
  for (int c = 1; c < kItemColumnCount; ++c)
    fields.emplace_back(std::string(kItemColumns[c]), values[c - 1]);
  for (const auto& [space, vector] : event.vectors) {
    // %.9g: every float reads back exactly.
    fields.emplace_back(
        absl::StrCat(kVectorFieldPrefix, space),
        absl::StrJoin(vector, " ", [](std::string* out, float x) {
          absl::StrAppend(out, absl::StrFormat("%.9g", x));
        }));
  }
  return fields;
}

absl::Status ParseItemEvent(const StreamFields& fields,
                            absl::string_view entry_id, ItemEvent* event,
                            absl::string_view* reason) {
  auto bad = [&](absl::string_view why, auto... parts) {
    *reason = why;
    return absl::InvalidArgumentError(
        absl::StrCat("entry ", entry_id, ": ", parts...));
  };
  for (const auto& [name, value] : fields) {
    if (value.size() > kMaxFieldBytes) {
      return bad("too_large", "field \"", Quote(name), "\" has ", value.size(),
                 " bytes (at most ", kMaxFieldBytes, ")");
    }
  }
  absl::string_view repeated;
  const auto by_name = ByName(fields, &repeated);
  if (!repeated.empty())
    return bad("field", "field \"", Quote(repeated), "\" repeated");
  auto field = [&by_name](absl::string_view name) -> const absl::string_view* {
    auto it = by_name.find(name);
    return it == by_name.end() ? nullptr : &it->second;
  };
  const absl::string_view* version = field(kVersionField);
  if (version == nullptr || *version != kItemFormatVersion) {
    return bad("version", "format version \"",
               version == nullptr ? "" : Quote(*version), "\", want \"",
               kItemFormatVersion, "\" (field \"v\")");
  }
  const absl::string_view* op = field(kOpField);
  if (op == nullptr || (*op != kUpsert && *op != kDelete)) {
    return bad("op", "\"op\" is \"", op == nullptr ? "" : Quote(*op),
               "\", want upsert or delete");
  }
  event->op = *op == kDelete ? ItemEvent::Op::kDelete : ItemEvent::Op::kUpsert;
  const absl::string_view* id = field(kItemColumns[0]);
  if (id == nullptr || id->empty()) return bad("field", "no \"item_id\" field");
  event->item = Item();
  event->item.id = std::string(*id);
  event->vectors.clear();
  if (event->op == ItemEvent::Op::kDelete) {
    if (absl::Status s = CheckItem(event->item); !s.ok())
      return bad("field", s.message());
    return absl::OkStatus();
  }
  std::vector<absl::string_view> columns;
  for (absl::string_view name : kItemColumns) {
    const absl::string_view* value = field(name);
    if (value == nullptr) return bad("field", "no \"", name, "\" field");
    columns.push_back(*value);
  }
  absl::StatusOr<Item> item = ParseItemFields(columns);
  if (!item.ok()) return bad("field", item.status().message());
  event->item = *std::move(item);
  for (const auto& [name, value] : fields) {
    if (!absl::StartsWith(name, kVectorFieldPrefix)) continue;
    const std::string space = name.substr(kVectorFieldPrefix.size());
    std::vector<float> values;
    if (space.empty()) return bad("vector", "field \"vec:\" names no space");
    if (absl::Status s = ParseVector(value, &values); !s.ok())
      return bad("vector", "\"", Quote(name), "\": ", s.message());
    event->vectors.emplace_back(space, std::move(values));
  }
  return absl::OkStatus();
}

}  // namespace recall
