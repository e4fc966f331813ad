// The MovieLens importer (ml-latest-small and the larger ml-latest sets):
// movies.csv, ratings.csv, tags.csv -> a world; see importers.h.
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
using import_kit::NextCsvRow;
using import_kit::OpenRequired;
using import_kit::ReadHeader;
using import_kit::RowError;
using import_kit::Skip;
using import_kit::UnixSeconds;
using import_kit::UserIds;
using import_kit::WriteWorld;
namespace fs = std::filesystem;

constexpr int kMaxMovieTags = 10;

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

}  // namespace

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

}  // namespace recall
