// The MIND importer (Microsoft News Dataset): news.tsv and behaviors.tsv ->
// a world; see importers.h.
#include <nlohmann/json.hpp>

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

constexpr char kLoneSurrogate[] =
    "entity label with a lone surrogate (replaced)";
constexpr char kBadEntities[] = "entity list not valid JSON (labels skipped)";

bool IsHex4(absl::string_view text, size_t pos, uint32_t* value) {
  return pos + 4 <= text.size() &&
         absl::SimpleHexAtoi(text.substr(pos, 4), value) &&
         std::all_of(text.begin() + pos, text.begin() + pos + 4,
                     [](char c) { return absl::ascii_isxdigit(c); });
}

// `json` with every \u escape of a lone UTF-16 surrogate (one that is not
// half of a pair) replaced by \ufffd, which a JSON library then accepts;
// counts the replacements in *replaced.
std::string ReplaceLoneSurrogates(absl::string_view json, int64_t* replaced) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    uint32_t unit = 0, next = 0;
    if (json[i] != '\\' || i + 1 >= json.size()) {
      out.push_back(json[i]);
      continue;
    }
    if (json[i + 1] != 'u' || !IsHex4(json, i + 2, &unit)) {
      absl::StrAppend(&out,
                      json.substr(i, 2));  // any other escape, \\ included
      ++i;
      continue;
    }
    const bool high = unit >= 0xD800 && unit < 0xDC00;
    const bool low = unit >= 0xDC00 && unit < 0xE000;
    const bool paired = high && json.substr(i + 6, 2) == "\\u" &&
                        IsHex4(json, i + 8, &next) && next >= 0xDC00 &&
                        next < 0xE000;
    if (paired) {
      absl::StrAppend(&out, json.substr(i, 12));
      i += 11;
    } else if (high || low) {
      out.append("\\ufffd");
      ++*replaced;
      i += 5;
    } else {
      absl::StrAppend(&out, json.substr(i, 6));
      i += 5;
    }
  }
  return out;
}

// The "Label" values of a MIND entity list (a JSON array of objects), in
// order. Lone surrogates are replaced (and counted); a list that is not
// valid JSON gives no labels (counted), never an error.
std::vector<std::string> EntityLabels(absl::string_view json,
                                      ImportReport* report) {
  std::vector<std::string> labels;
  if (json.empty()) return labels;
  int64_t replaced = 0;
  const nlohmann::json list =
      nlohmann::json::parse(ReplaceLoneSurrogates(json, &replaced), nullptr,
                            /*allow_exceptions=*/false);
  if (replaced > 0) report->skipped[kLoneSurrogate] += replaced;
  if (list.is_discarded() || !list.is_array()) {
    Skip(report, kBadEntities);
    return labels;
  }
  for (const nlohmann::json& entity : list) {
    if (!entity.is_object()) continue;
    const auto label = entity.find("Label");
    if (label != entity.end() && label->is_string())
      labels.push_back(label->get<std::string>());
  }
  return labels;
}

// Parses "M/D/YYYY h:mm:ss AM|PM" as UTC.
bool ParseMindTime(absl::string_view text, int64_t* ts) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime("%m/%d/%Y %I:%M:%S %p", text, absl::UTCTimeZone(), &time,
                       &error)) {
    return false;
  }
  *ts = absl::ToUnixSeconds(time);
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
    for (const std::string& label : EntityLabels(f[6], report)) {
      AddTag(CleanTag(label), 0.5f, &item.tags);
    }
    news->push_back(std::move(item));
    titles->emplace_back(f[3]);
    ++report->rows_kept;
  }
  return EndOfRows(reader, data_rows);
}

// Parses a behaviors.tsv impression list ("newsid-1 newsid-0 ...") into
// `*shown` as (news row or -1 where not in news.tsv, clicked). Returns the
// first malformed entry, or "" when all are well formed.
std::string ParseImpressions(
    absl::string_view list,
    const absl::flat_hash_map<std::string, int32_t>& news_index,
    std::vector<std::pair<int32_t, bool>>* shown) {
  shown->clear();
  for (absl::string_view entry : absl::StrSplit(list, ' ', absl::SkipEmpty())) {
    const size_t dash = entry.rfind('-');
    if (dash == absl::string_view::npos || dash == 0 ||
        (entry.substr(dash + 1) != "0" && entry.substr(dash + 1) != "1")) {
      return std::string(entry);
    }
    auto it = news_index.find(entry.substr(0, dash));
    shown->emplace_back(it == news_index.end() ? -1 : it->second,
                        entry.substr(dash + 1) == "1");
  }
  return "";
}

// Keeps the click history (space-separated news ids) of the user's earliest
// impression: replaces `*history` when `ts` is earlier than its first_ts.
void KeepEarliestHistory(
    absl::string_view ids, int64_t ts,
    const absl::flat_hash_map<std::string, int32_t>& news_index,
    UserHistory* history) {
  if (ts >= history->first_ts) return;
  history->first_ts = ts;
  history->rows.clear();
  for (absl::string_view id : absl::StrSplit(ids, ' ', absl::SkipEmpty())) {
    auto it = news_index.find(id);
    history->rows.push_back(it == news_index.end() ? -1 : it->second);
  }
}

// Counts one row's impressions, shown at `ts` to `user`, in the news stats
// and adds a click for each clicked one; skips news not in news.tsv.
void CountImpressions(const std::vector<std::pair<int32_t, bool>>& shown,
                      int32_t user, int64_t ts, std::vector<NewsStats>* stats,
                      std::vector<Click>* clicks, ImportReport* report) {
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
    const std::string bad_entry = ParseImpressions(f[4], news_index, &shown);
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
    KeepEarliestHistory(f[3], ts, news_index, &(*histories)[user]);
    CountImpressions(shown, user, ts, stats, clicks, report);
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
