#include "pipeline/data/importers.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "store/item_table.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/file_writer.h"
#include "util/line_error.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxMovieTags = 10;
constexpr absl::string_view kMalformed = "malformed row";

// Reads a text file line by line, counting lines from 1 and dropping a
// trailing CR and a leading UTF-8 byte order mark.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), in_(path) {}

  bool is_open() const { return in_.is_open(); }
  const std::string& path() const { return path_; }
  int64_t line_no() const { return line_no_; }

  // The next line, or false at the end of the file.
  bool Next(absl::string_view* line) {
    if (!std::getline(in_, buffer_)) return false;
    ++line_no_;
    absl::string_view text = buffer_;
    if (line_no_ == 1) absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
    absl::ConsumeSuffix(&text, "\r");
    *line = text;
    return true;
  }

  // DATA_LOSS when reading stopped on an I/O error rather than at the end.
  absl::Status status() const {
    return in_.bad() ? absl::DataLossError(absl::StrCat(path_, ": read error"))
                     : absl::OkStatus();
  }

 private:
  std::string path_;
  std::ifstream in_;
  std::string buffer_;
  int64_t line_no_ = 0;
};

// Opens a required input file. INVALID_ARGUMENT when it cannot be opened.
absl::Status OpenRequired(const LineReader& reader) {
  if (reader.is_open()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(reader.path(), ": cannot open (required input)"));
}

// Reads and checks the header line of a CSV file.
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

// Counts a skipped row (or entry) under `reason`.
void Skip(ImportReport* report, absl::string_view reason) {
  ++report->skipped[std::string(reason)];
}

// Counts a row that is skipped because it is malformed, with a message.
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

// A tag name items.tsv accepts: lower-cased (ASCII), trimmed, spaces to '_',
// ';' tab CR LF removed. May come back empty.
std::string CleanTag(absl::string_view raw) {
  std::string tag;
  for (char c : absl::StripAsciiWhitespace(raw)) {
    if (c == ';' || c == '\t' || c == '\n' || c == '\r') continue;
    tag.push_back(c == ' ' ? '_' : absl::ascii_tolower(c));
  }
  return tag;
}

// Appends (name, weight) unless `name` is empty or already in `tags`.
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

// Users interned in order of appearance.
class UserIds {
 public:
  int32_t Intern(const std::string& id) {
    auto [it, inserted] = index_.emplace(id, static_cast<int32_t>(ids_.size()));
    if (inserted) ids_.push_back(id);
    return it->second;
  }
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  std::vector<std::string> ids_;
  absl::flat_hash_map<std::string, int32_t> index_;
};

struct Click {
  int32_t user;
  ItemRow item;
  int64_t ts;
};

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

// Writes items.tsv, clicks.tsv (sorted by user, ts, item), users.txt (the
// clicking users) and titles.tsv ("item_id\ttitle", for title2vec; titles[i]
// is item row i's) to `out_world`, and fills the report's output counts.
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
  FileWriter titles_out;
  RETURN_IF_ERROR(titles_out.Open((dir / "titles.tsv").string()));
  titles_out.buffer()->append("item_id\ttitle\n");
  for (size_t row = 0;
       row < titles.size() && row < static_cast<size_t>(items.size()); ++row) {
    if (titles[row].empty()) continue;
    std::string title = titles[row];
    std::replace_if(
        title.begin(), title.end(),
        [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    absl::StrAppend(titles_out.buffer(),
                    items.item(static_cast<ItemRow>(row)).id, "\t", title,
                    "\n");
    RETURN_IF_ERROR(titles_out.MaybeFlush());
  }
  RETURN_IF_ERROR(titles_out.Close());

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

// ---------------------------------------------------------------- MovieLens

struct Movie {
  int64_t movie_id = 0;
  std::string title;
  int year = 0;  // 0: none in the title
  std::vector<std::string> genres;
  int64_t ratings = 0;
  int64_t liked = 0;
  int64_t first_rating_ts = std::numeric_limits<int64_t>::max();
  std::map<std::string, int64_t> tag_counts;
};

// The year of a title ending in "(YYYY)" or "(YYYY-...)" / "(YYYY–...)".
int TitleYear(absl::string_view title) {
  title = absl::StripAsciiWhitespace(title);
  if (!absl::ConsumeSuffix(&title, ")")) return 0;
  const size_t open = title.rfind('(');
  if (open == absl::string_view::npos) return 0;
  absl::string_view inside = title.substr(open + 1);
  if (inside.size() < 4) return 0;
  int year = 0;
  for (int i = 0; i < 4; ++i) {
    if (!absl::ascii_isdigit(inside[i])) return 0;
    year = year * 10 + (inside[i] - '0');
  }
  absl::string_view rest = inside.substr(4);
  if (!rest.empty() && !absl::StartsWith(rest, "-") &&
      !absl::StartsWith(rest, "\xE2\x80\x93")) {
    return 0;
  }
  return year;
}

// The next non-empty row of a CSV file with exactly `columns` fields, in
// `f`, at `*line_no`; every such line counts as read and in `*data_rows`.
// Rows that do not split or have another number of fields are reported
// (PATH:LINE) and skipped. False at the end of the file.
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

// How reading a required file's rows ended: the reader's I/O error, or
// INVALID_ARGUMENT when the file had no data rows at all.
absl::Status EndOfRows(const LineReader& reader, int64_t data_rows) {
  RETURN_IF_ERROR(reader.status());
  if (data_rows == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(reader.path(), ": no data rows"));
  }
  return absl::OkStatus();
}

// Reads movies.csv into `movies` / `movie_index`.
absl::Status ReadMovies(const std::string& path, std::vector<Movie>* movies,
                        absl::flat_hash_map<int64_t, int32_t>* movie_index,
                        ImportReport* report) {
  LineReader reader(path);
  RETURN_IF_ERROR(OpenRequired(reader));
  RETURN_IF_ERROR(ReadHeader(&reader, "movieId,title,genres"));
  std::vector<std::string> f;
  int64_t data_rows = 0;
  int64_t line_no = 0;
  while (NextCsvRow(&reader, path, 3, report, &f, &line_no, &data_rows)) {
    Movie movie;
    if (!absl::SimpleAtoi(f[0], &movie.movie_id)) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad movieId \"", f[0], "\""));
      continue;
    }
    auto [it, inserted] = movie_index->emplace(
        movie.movie_id, static_cast<int32_t>(movies->size()));
    if (!inserted) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("duplicate movieId ", movie.movie_id));
      continue;
    }
    movie.year = TitleYear(f[1]);
    movie.title = std::string(absl::StripAsciiWhitespace(f[1]));
    if (f[2] != "(no genres listed)") {
      for (absl::string_view genre : absl::StrSplit(f[2], '|')) {
        genre = absl::StripAsciiWhitespace(genre);
        if (!genre.empty()) movie.genres.emplace_back(genre);
      }
    }
    movies->push_back(std::move(movie));
    ++report->rows_kept;
  }
  return EndOfRows(reader, data_rows);
}

// Reads ratings.csv: per-movie statistics and the clicks.
absl::Status ReadRatings(const std::string& path,
                         const MovieLensOptions& options,
                         const absl::flat_hash_map<int64_t, int32_t>& index,
                         std::vector<Movie>* movies, UserIds* users,
                         std::vector<Click>* clicks, ImportReport* report) {
  LineReader reader(path);
  RETURN_IF_ERROR(OpenRequired(reader));
  RETURN_IF_ERROR(ReadHeader(&reader, "userId,movieId,rating,timestamp"));
  const std::string below = absl::StrCat("rating below ", options.min_rating);
  std::vector<std::string> f;
  int64_t data_rows = 0;
  int64_t line_no = 0;
  while (NextCsvRow(&reader, path, 4, report, &f, &line_no, &data_rows)) {
    int64_t user_id = 0;
    int64_t movie_id = 0;
    double rating = 0;
    int64_t ts = 0;
    if (!absl::SimpleAtoi(f[0], &user_id)) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad userId \"", f[0], "\""));
      continue;
    }
    if (!absl::SimpleAtoi(f[1], &movie_id)) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad movieId \"", f[1], "\""));
      continue;
    }
    if (!absl::SimpleAtod(f[2], &rating) || !std::isfinite(rating)) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad rating \"", f[2], "\""));
      continue;
    }
    if (!absl::SimpleAtoi(f[3], &ts)) {
      RowError(report, kMalformed, path, line_no,
               absl::StrCat("bad timestamp \"", f[3], "\""));
      continue;
    }
    auto it = index.find(movie_id);
    if (it == index.end()) {
      RowError(report, "movie not in movies.csv", path, line_no,
               absl::StrCat("movieId ", movie_id, " is not in movies.csv"));
      continue;
    }
    Movie& movie = (*movies)[it->second];
    ++movie.ratings;
    movie.first_rating_ts = std::min(movie.first_rating_ts, ts);
    if (rating < options.min_rating) {
      Skip(report, below);
      continue;
    }
    ++movie.liked;
    clicks->push_back(
        {users->Intern(absl::StrCat("ml_u", user_id)), it->second, ts});
    ++report->rows_kept;
  }
  return EndOfRows(reader, data_rows);
}

// Reads tags.csv (optional) into the movies' tag counts.
absl::Status ReadMovieTags(const std::string& path,
                           const absl::flat_hash_map<int64_t, int32_t>& index,
                           std::vector<Movie>* movies, ImportReport* report) {
  LineReader reader(path);
  if (!reader.is_open()) {
    if (!fs::exists(path)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  }
  RETURN_IF_ERROR(ReadHeader(&reader, "userId,movieId,tag,timestamp"));
  std::vector<std::string> f;
  int64_t line_no = 0;
  int64_t data_rows = 0;
  while (NextCsvRow(&reader, path, 4, report, &f, &line_no, &data_rows)) {
    int64_t user_id = 0;
    int64_t movie_id = 0;
    int64_t ts = 0;
    if (!absl::SimpleAtoi(f[0], &user_id) ||
        !absl::SimpleAtoi(f[1], &movie_id) || !absl::SimpleAtoi(f[3], &ts)) {
      RowError(report, kMalformed, path, line_no,
               "bad userId, movieId or timestamp");
      continue;
    }
    auto it = index.find(movie_id);
    if (it == index.end()) {
      RowError(report, "movie not in movies.csv", path, line_no,
               absl::StrCat("movieId ", movie_id, " is not in movies.csv"));
      continue;
    }
    std::string tag = CleanTag(f[2]);
    if (tag.empty()) {
      Skip(report, "empty tag");
      continue;
    }
    ++(*movies)[it->second].tag_counts[tag];
    ++report->rows_kept;
  }
  return reader.status();
}

Item MovieItem(const Movie& movie) {
  Item item;
  item.id = absl::StrCat("ml_m", movie.movie_id);
  item.cat1 = movie.genres.empty() ? "unknown" : movie.genres[0];
  item.cat2 = absl::StrCat(item.cat1, "/",
                           movie.genres.size() < 2 ? "all" : movie.genres[1]);
  item.media_id = movie.year > 0
                      ? absl::StrCat("ml_decade_", movie.year / 10 * 10, "s")
                      : "ml_unknown";
  for (const std::string& genre : movie.genres) {
    AddTag(CleanTag(genre), 1, &item.tags);
  }
  int64_t max_count = 0;
  for (const auto& [tag, count] : movie.tag_counts) {
    max_count = std::max(max_count, count);
  }
  // tag_counts is in name order, and the sort is stable: ties by name.
  std::vector<std::pair<std::string, float>> user_tags;
  for (const auto& [tag, count] : movie.tag_counts) {
    user_tags.emplace_back(tag, static_cast<float>(count) / max_count);
  }
  std::stable_sort(
      user_tags.begin(), user_tags.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  for (auto& [tag, weight] : user_tags)
    AddTag(std::move(tag), weight, &item.tags);
  if (item.tags.size() > static_cast<size_t>(kMaxMovieTags)) {
    item.tags.resize(kMaxMovieTags);
  }
  if (movie.year > 0) {
    item.publish_ts = UnixSeconds(absl::CivilSecond(movie.year, 1, 1));
  } else if (movie.ratings > 0) {
    item.publish_ts = movie.first_rating_ts;
  }
  item.hotness = static_cast<float>(movie.ratings);
  item.ctr = movie.ratings > 0 ? static_cast<float>(movie.liked) / movie.ratings
                               : 0.0f;
  return item;
}

// ---------------------------------------------------------------- MIND

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

absl::StatusOr<ImportReport> ImportMovieLens(const std::string& src_dir,
                                             const std::string& out_world,
                                             const MovieLensOptions& options) {
  if (std::isnan(options.min_rating)) {
    return absl::InvalidArgumentError("min_rating is NaN");
  }
  const fs::path src(src_dir);
  ImportReport report;
  std::vector<Movie> movies;
  absl::flat_hash_map<int64_t, int32_t> movie_index;
  RETURN_IF_ERROR(ReadMovies((src / "movies.csv").string(), &movies,
                             &movie_index, &report));
  if (movies.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat((src / "movies.csv").string(), ": no usable movies"));
  }
  UserIds users;
  std::vector<Click> clicks;
  const std::string ratings_path = (src / "ratings.csv").string();
  RETURN_IF_ERROR(ReadRatings(ratings_path, options, movie_index, &movies,
                              &users, &clicks, &report));
  if (clicks.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        ratings_path, ": no usable ratings >= ", options.min_rating,
        " of movies in movies.csv"));
  }
  RETURN_IF_ERROR(ReadMovieTags((src / "tags.csv").string(), movie_index,
                                &movies, &report));

  ItemTable items;
  std::vector<std::string> titles;
  for (const Movie& movie : movies) {
    RETURN_IF_ERROR(items.Add(MovieItem(movie)));
    titles.push_back(movie.title);
  }
  RETURN_IF_ERROR(
      WriteWorld(items, titles, users, std::move(clicks), out_world, &report));
  return report;
}

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
