#include "pipeline/data/import_kit.h"

namespace recall {
namespace import_kit {

namespace fs = std::filesystem;

namespace {

// Splits one CSV line (RFC 4180 without line breaks inside fields): fields
// separated by commas, a field may be quoted with "" standing for a quote.
// False for an unterminated quote or text after a closing quote.
bool SplitCsv(absl::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  size_t pos = 0;
  while (true) {
    std::string field;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      while (true) {
        if (pos >= line.size()) return false;
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field.push_back('"');
            pos += 2;
            continue;
          }
          ++pos;
          break;
        }
        field.push_back(line[pos++]);
      }
      if (pos < line.size() && line[pos] != ',') return false;
    } else {
      const size_t comma = std::min(line.find(',', pos), line.size());
      field = std::string(line.substr(pos, comma - pos));
      pos = comma;
    }
    fields->push_back(std::move(field));
    if (pos >= line.size()) return true;
    ++pos;  // the comma
  }
}

// Ranks of `ids` in byte order: rank[i] is the position of ids[i].
std::vector<int32_t> SortedRanks(const std::vector<std::string>& ids) {
  std::vector<int32_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&ids](int32_t a, int32_t b) { return ids[a] < ids[b]; });
  std::vector<int32_t> rank(ids.size());
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  return rank;
}

}  // namespace

absl::Status OpenRequired(const LineReader& reader) {
  if (reader.is_open()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(reader.path(), ": cannot open (required input)"));
}

absl::Status ReadHeader(LineReader* reader, absl::string_view want) {
  absl::string_view line;
  if (!reader->Next(&line)) {
    return LineError(reader->path(), 1, "empty input (no header)");
  }
  if (line != want) {
    return LineError(reader->path(), 1,
                     absl::StrCat("bad header; want \"", want, "\""));
  }
  return absl::OkStatus();
}

void Skip(ImportReport* report, absl::string_view reason) {
  ++report->skipped[std::string(reason)];
}

void RowError(ImportReport* report, absl::string_view reason,
              const std::string& path, int64_t line,
              absl::string_view problem) {
  Skip(report, reason);
  ++report->error_count;
  if (report->errors.size() < static_cast<size_t>(kMaxReportedErrors)) {
    report->errors.push_back(
        std::string(LineError(path, line, problem).message()));
  }
}

std::string CleanTag(absl::string_view raw) {
  std::string tag;
  for (char c : absl::StripAsciiWhitespace(raw)) {
    if (c == ';' || c == '\t' || c == '\n' || c == '\r') continue;
    tag.push_back(c == ' ' ? '_' : absl::ascii_tolower(c));
  }
  return tag;
}

void AddTag(std::string name, float weight,
            std::vector<std::pair<std::string, float>>* tags) {
  if (name.empty()) return;
  for (const auto& tag : *tags) {
    if (tag.first == name) return;
  }
  tags->emplace_back(std::move(name), weight);
}

int64_t UnixSeconds(const absl::CivilSecond& civil) {
  return absl::ToUnixSeconds(absl::FromCivil(civil, absl::UTCTimeZone()));
}

absl::Status WriteWorld(const ItemTable& items,
                        const std::vector<std::string>& titles,
                        const UserIds& users, std::vector<Click> clicks,
                        const std::string& out_world, ImportReport* report) {
  std::error_code ec;
  fs::create_directories(out_world, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat(out_world, ": cannot create directory: ", ec.message()));
  }
  const fs::path dir(out_world);
  RETURN_IF_ERROR(items.WriteTsv((dir / "items.tsv").string()));
  RETURN_IF_ERROR(WriteTitlesTsv((dir / "titles.tsv").string(), items, titles));

  const std::vector<int32_t> user_rank = SortedRanks(users.ids());
  std::vector<std::string> item_ids;
  item_ids.reserve(items.size());
  for (const Item& item : items.items()) item_ids.push_back(item.id);
  const std::vector<int32_t> item_rank = SortedRanks(item_ids);
  std::sort(clicks.begin(), clicks.end(), [&](const Click& a, const Click& b) {
    return std::make_tuple(user_rank[a.user], a.ts, item_rank[a.item]) <
           std::make_tuple(user_rank[b.user], b.ts, item_rank[b.item]);
  });

  FileWriter clicks_out;
  FileWriter users_out;
  RETURN_IF_ERROR(clicks_out.Open((dir / "clicks.tsv").string()));
  RETURN_IF_ERROR(users_out.Open((dir / "users.txt").string()));
  absl::StrAppend(clicks_out.buffer(), kClicksHeader, "\n");
  int64_t user_count = 0;
  for (size_t i = 0; i < clicks.size(); ++i) {
    const Click& c = clicks[i];
    const std::string& user = users.ids()[c.user];
    absl::StrAppend(clicks_out.buffer(), user, "\t", item_ids[c.item], "\t",
                    c.ts, "\n");
    RETURN_IF_ERROR(clicks_out.MaybeFlush());
    if (i == 0 || clicks[i - 1].user != c.user) {
      absl::StrAppend(users_out.buffer(), user, "\n");
      RETURN_IF_ERROR(users_out.MaybeFlush());
      ++user_count;
    }
  }
  RETURN_IF_ERROR(clicks_out.Close());
  RETURN_IF_ERROR(users_out.Close());
  report->items = items.size();
  report->users = user_count;
  report->clicks = static_cast<int64_t>(clicks.size());
  return absl::OkStatus();
}

bool NextCsvRow(LineReader* reader, const std::string& path, size_t columns,
                ImportReport* report, std::vector<std::string>* f,
                int64_t* line_no, int64_t* data_rows) {
  absl::string_view line;
  while (reader->Next(&line)) {
    if (line.empty()) continue;
    ++report->rows_read;
    ++*data_rows;
    *line_no = reader->line_no();
    if (!SplitCsv(line, f)) {
      RowError(report, kMalformed, path, *line_no, "bad quoting");
      continue;
    }
    if (f->size() != columns) {
      RowError(report, kMalformed, path, *line_no,
               absl::StrCat(f->size(), " columns, want ", columns));
      continue;
    }
    return true;
  }
  return false;
}

absl::Status EndOfRows(const LineReader& reader, int64_t data_rows) {
  RETURN_IF_ERROR(reader.status());
  if (data_rows == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(reader.path(), ": no data rows"));
  }
  return absl::OkStatus();
}

}  // namespace import_kit

std::string ImportReport::ToText() const {
  std::string text =
      absl::StrCat("rows read ", rows_read, ", kept ", rows_kept, "\n");
  for (const auto& [reason, count] : skipped) {
    absl::StrAppend(&text, "skipped ", count, ": ", reason, "\n");
  }
  if (error_count > 0) {
    absl::StrAppend(&text, error_count, " malformed rows");
    if (error_count > static_cast<int64_t>(errors.size())) {
      absl::StrAppend(&text, " (first ", errors.size(), " shown)");
    }
    absl::StrAppend(&text, ":\n");
    for (const std::string& error : errors) {
      absl::StrAppend(&text, "  ", error, "\n");
    }
  }
  absl::StrAppend(&text, "wrote ", items, " items, ", users, " users, ", clicks,
                  " clicks\n");
  return text;
}

}  // namespace recall
