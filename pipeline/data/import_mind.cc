// The MIND importer (Microsoft News Dataset): news.tsv and behaviors.tsv ->
// a world; see importers.h.
#include "pipeline/data/import_kit.h"
#include "pipeline/data/importers.h"

namespace recall {
namespace {

using import_kit::AddTag;
using import_kit::CleanTag;
using import_kit::Click;
using import_kit::EndOfRows;
using import_kit::kMalformed;
using import_kit::LineReader;
using import_kit::OpenRequired;
using import_kit::RowError;
using import_kit::Skip;
using import_kit::UnixSeconds;
using import_kit::UserIds;
using import_kit::WriteWorld;
namespace fs = std::filesystem;

struct NewsStats {
  int64_t shown = 0;
  int64_t shown_clicked = 0;
  int64_t clicks = 0;
  int64_t first_shown_ts = std::numeric_limits<int64_t>::max();
  int64_t first_click_ts = std::numeric_limits<int64_t>::max();
};

// Appends the UTF-8 encoding of `code_point`.
void AppendUtf8(uint32_t code_point, std::string* out) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// Reads 4 hex digits at text[pos].
bool Hex4(absl::string_view text, size_t pos, uint32_t* value) {
  if (pos + 4 > text.size()) return false;
  *value = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    const char c = text[i];
    uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    *value = *value * 16 + digit;
  }
  return true;
}

// Decodes the JSON string whose opening quote is at text[pos]; on success
// `*pos` is just past its closing quote.
bool ReadJsonString(absl::string_view text, size_t* pos, std::string* out) {
  out->clear();
  size_t i = *pos + 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) return false;
    const char e = text[i + 1];
    i += 2;
    switch (e) {
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        out->push_back(' ');
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!Hex4(text, i, &cp)) return false;
        i += 4;
        uint32_t low = 0;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= text.size() &&
            text[i] == '\\' && text[i + 1] == 'u' && Hex4(text, i + 2, &low) &&
            low >= 0xDC00 && low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendUtf8(cp, out);
        break;
      }
      default:  // '"', '\\', '/'
        out->push_back(e);
    }
  }
  return false;
}

// The "Label" values of a MIND entity list, in order: a scan for
// `"Label": "..."`, not a full JSON parse.
std::vector<std::string> EntityLabels(absl::string_view json) {
  std::vector<std::string> labels;
  constexpr absl::string_view kKey = "\"Label\"";
  size_t pos = 0;
  std::string label;
  while ((pos = json.find(kKey, pos)) != absl::string_view::npos) {
    pos += kKey.size();
    while (pos < json.size() && absl::ascii_isspace(json[pos])) ++pos;
    if (pos >= json.size() || json[pos] != ':') continue;
    ++pos;
    while (pos < json.size() && absl::ascii_isspace(json[pos])) ++pos;
    if (pos >= json.size() || json[pos] != '"') continue;
    if (ReadJsonString(json, &pos, &label)) labels.push_back(label);
  }
  return labels;
}

// Parses "M/D/YYYY h:mm:ss AM|PM" as UTC.
bool ParseMindTime(absl::string_view text, int64_t* ts) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (parts.size() != 3) return false;
  std::vector<absl::string_view> date = absl::StrSplit(parts[0], '/');
  std::vector<absl::string_view> time = absl::StrSplit(parts[1], ':');
  if (date.size() != 3 || time.size() != 3) return false;
  int month = 0, day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!absl::SimpleAtoi(date[0], &month) || !absl::SimpleAtoi(date[1], &day) ||
      !absl::SimpleAtoi(date[2], &year) || !absl::SimpleAtoi(time[0], &hour) ||
      !absl::SimpleAtoi(time[1], &minute) ||
      !absl::SimpleAtoi(time[2], &second)) {
    return false;
  }
  if (hour < 1 || hour > 12 || minute < 0 || minute > 59 || second < 0 ||
      second > 59 || year < 1 || year > 9999) {
    return false;
  }
  if (parts[2] == "AM") {
    hour %= 12;
  } else if (parts[2] == "PM") {
    hour = hour % 12 + 12;
  } else {
    return false;
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.month() != month || civil.day() != day) return false;  // 2/30
  *ts = UnixSeconds(civil);
  return true;
}

struct UserHistory {
  int64_t first_ts = std::numeric_limits<int64_t>::max();
  // News rows of the first impression's history; -1 where not in news.tsv.
  std::vector<int32_t> rows;
};

absl::Status ReadNews(const std::string& path, std::vector<Item>* news,
                      std::vector<std::string>* titles,
                      absl::flat_hash_map<std::string, int32_t>* news_index,
                      ImportReport* report) {
  LineReader reader(path);
  RETURN_IF_ERROR(OpenRequired(reader));
  absl::string_view line;
  int64_t data_rows = 0;
  while (reader.Next(&line)) {
    if (line.empty()) continue;
    ++report->rows_read;
    ++data_rows;
    const int64_t line_no = reader.line_no();
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f.size() != 8) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat(f.size(), " columns, want 8"));
      continue;
    }
    if (f[0].empty()) {
      RowError(report, kMalformed, path, line_no, "empty news_id");
      continue;
    }
    auto [it, inserted] = news_index->emplace(
        std::string(f[0]), static_cast<int32_t>(news->size()));
    if (!inserted) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("duplicate news_id \"", f[0], "\""));
      continue;
    }
    Item item;
    item.id = std::string(f[0]);
    item.cat1 = f[1].empty() ? "unknown" : std::string(f[1]);
    item.cat2 = absl::StrCat(item.cat1, "/", f[2].empty() ? "all" : f[2]);
    item.media_id = "mind";
    AddTag(CleanTag(f[2]), 1, &item.tags);
    for (const std::string& label : EntityLabels(f[6])) {
      AddTag(CleanTag(label), 0.5f, &item.tags);
    }
    news->push_back(std::move(item));
    titles->emplace_back(f[3]);
    ++report->rows_kept;
  }
  return EndOfRows(reader, data_rows);
}

absl::Status ReadBehaviors(
    const std::string& path,
    const absl::flat_hash_map<std::string, int32_t>& news_index,
    std::vector<NewsStats>* stats, UserIds* users,
    std::vector<UserHistory>* histories, std::vector<Click>* clicks,
    ImportReport* report) {
  LineReader reader(path);
  RETURN_IF_ERROR(OpenRequired(reader));
  absl::string_view line;
  int64_t data_rows = 0;
  // (news row or -1, clicked) of the current row's impressions.
  std::vector<std::pair<int32_t, bool>> shown;
  while (reader.Next(&line)) {
    if (line.empty()) continue;
    ++report->rows_read;
    ++data_rows;
    const int64_t line_no = reader.line_no();
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    if (f.size() != 5) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat(f.size(), " columns, want 5"));
      continue;
    }
    if (f[0].empty() || f[1].empty()) {
      RowError(report, kMalformed, path, line_no,
               "empty impression_id or user_id");
      continue;
    }
    int64_t ts = 0;
    if (!ParseMindTime(f[2], &ts)) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad time \"", f[2],
                            "\" (want M/D/YYYY h:mm:ss AM|PM)"));
      continue;
    }
    shown.clear();
    std::string bad_entry;
    for (absl::string_view entry :
         absl::StrSplit(f[4], ' ', absl::SkipEmpty())) {
      const size_t dash = entry.rfind('-');
      if (dash == absl::string_view::npos || dash == 0 ||
          (entry.substr(dash + 1) != "0" && entry.substr(dash + 1) != "1")) {
        bad_entry = std::string(entry);
        break;
      }
      auto it = news_index.find(entry.substr(0, dash));
      shown.emplace_back(it == news_index.end() ? -1 : it->second,
                         entry.substr(dash + 1) == "1");
    }
    if (!bad_entry.empty()) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad impression \"", bad_entry,
                            "\" (want newsid-0 or newsid-1)"));
      continue;
    }
    const int32_t user = users->Intern(std::string(f[1]));
    if (static_cast<size_t>(user) >= histories->size()) {
      histories->resize(user + 1);
    }
    UserHistory& history = (*histories)[user];
    if (ts < history.first_ts) {
      history.first_ts = ts;
      history.rows.clear();
      for (absl::string_view id :
           absl::StrSplit(f[3], ' ', absl::SkipEmpty())) {
        auto it = news_index.find(id);
        history.rows.push_back(it == news_index.end() ? -1 : it->second);
      }
    }
    for (const auto& [row, clicked] : shown) {
      if (row < 0) {
        Skip(report, "impression item not in news.tsv");
        continue;
      }
      NewsStats& s = (*stats)[row];
      ++s.shown;
      s.first_shown_ts = std::min(s.first_shown_ts, ts);
      if (!clicked) continue;
      ++s.shown_clicked;
      clicks->push_back({user, row, ts});
    }
    ++report->rows_kept;
  }
  return EndOfRows(reader, data_rows);
}

}  // namespace

absl::StatusOr<ImportReport> ImportMind(const std::string& src_dir,
                                        const std::string& out_world) {
  const fs::path src(src_dir);
  ImportReport report;
  std::vector<Item> news;
  absl::flat_hash_map<std::string, int32_t> news_index;
  const std::string news_path = (src / "news.tsv").string();
  std::vector<std::string> titles;
  RETURN_IF_ERROR(ReadNews(news_path, &news, &titles, &news_index, &report));
  if (news.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(news_path, ": no usable news rows"));
  }
  std::vector<NewsStats> stats(news.size());
  UserIds users;
  std::vector<UserHistory> histories;
  std::vector<Click> clicks;
  const std::string behaviors_path = (src / "behaviors.tsv").string();
  RETURN_IF_ERROR(ReadBehaviors(behaviors_path, news_index, &stats, &users,
                                &histories, &clicks, &report));
  for (size_t u = 0; u < histories.size(); ++u) {
    const UserHistory& history = histories[u];
    const int64_t length = static_cast<int64_t>(history.rows.size());
    for (int64_t i = 0; i < length; ++i) {
      if (history.rows[i] < 0) {
        Skip(&report, "history item not in news.tsv");
        continue;
      }
      clicks.push_back({static_cast<int32_t>(u), history.rows[i],
                        history.first_ts - (length - i)});
    }
  }
  if (clicks.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(behaviors_path, ": no usable clicks on news in news.tsv"));
  }
  for (const Click& c : clicks) {
    NewsStats& s = stats[c.item];
    ++s.clicks;
    s.first_click_ts = std::min(s.first_click_ts, c.ts);
  }
  ItemTable items;
  for (size_t n = 0; n < news.size(); ++n) {
    Item& item = news[n];
    const NewsStats& s = stats[n];
    item.publish_ts = s.shown > 0    ? s.first_shown_ts
                      : s.clicks > 0 ? s.first_click_ts
                                     : 0;
    item.hotness = static_cast<float>(s.clicks);
    item.ctr =
        s.shown > 0 ? static_cast<float>(s.shown_clicked) / s.shown : 0.0f;
    RETURN_IF_ERROR(items.Add(std::move(item)));
  }
  RETURN_IF_ERROR(
      WriteWorld(items, titles, users, std::move(clicks), out_world, &report));
  return report;
}
}  // namespace recall
