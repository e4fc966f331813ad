// `recallctl import`: converters from public click data sets into a world
// directory (the format `recallctl gen` writes and `recallctl build` reads;
// see tools/gen_world.h), so that embeddings can be trained and recall
// quality measured on real clicks.
//
// Every importer writes, in `out_world` (created if missing):
//   items.tsv   store/item_table.h format, one row per item of the source
//               (in source order)
//   clicks.tsv  "user_id\titem_id\tts" with that header line, sorted by user
//               id (byte order), then ts, then item id
//   users.txt   one user id per line, byte order: the users with at least
//               one click in clicks.tsv
// Files with those names are replaced; nothing else in `out_world` is
// touched (a vectors/ directory trained for an earlier import stays and may
// no longer match). Nothing is written unless the import succeeds.
//
// Malformed input rows are skipped, counted and reported (first
// kMaxReportedErrors of them as "PATH:LINE: problem"), so that one bad line
// in millions does not stop an import; the import fails with
// INVALID_ARGUMENT only when a required file is missing, has a wrong header
// or no data rows, or when no items or no clicks remain.
#ifndef RECALL_PIPELINE_DATA_IMPORTERS_H_
#define RECALL_PIPELINE_DATA_IMPORTERS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace recall {

// How many "PATH:LINE: problem" messages a report keeps.
inline constexpr int kMaxReportedErrors = 20;

// What an import did, for the command's summary.
struct ImportReport {
  // Data rows (header and blank lines excluded) of all input files, and the
  // rows that became items, clicks or tags. For every other row one of the
  // row reasons in `skipped` is counted, so
  // rows_read == rows_kept + (sum of the row reasons' counts). A skipped row
  // may still count elsewhere: a MovieLens rating below min_rating is no
  // click but counts in its movie's hotness and ctr.
  int64_t rows_read = 0;
  int64_t rows_kept = 0;
  // Reason -> count, e.g. "rating below 4" or "malformed row". Reasons that
  // name an "item" or an "entity" ("history item not in news.tsv", "entity
  // list not valid JSON (labels skipped)") count entries within kept rows,
  // not rows.
  std::map<std::string, int64_t> skipped;
  // "PATH:LINE: problem" for the first kMaxReportedErrors malformed rows;
  // error_count counts all of them.
  std::vector<std::string> errors;
  int64_t error_count = 0;
  // What was written.
  int64_t items = 0;
  int64_t users = 0;
  int64_t clicks = 0;

  // A multi-line human-readable summary, ending with a newline.
  std::string ToText() const;
};

struct MovieLensOptions {
  // Ratings at or above this value become clicks. Lower keeps more (and
  // weaker) signal; 4.0 keeps "liked" movies.
  double min_rating = 4.0;
};

// Imports MovieLens ("latest" format, e.g. ml-latest-small, ml-25m) from
// `src_dir`:
//   ratings.csv  required; userId,movieId,rating,timestamp
//   movies.csv   required; movieId,title,genres (titles may be quoted, with
//                "" for a quote and commas inside; genres '|'-separated,
//                "(no genres listed)" means none)
//   tags.csv     optional; userId,movieId,tag,timestamp
// each with its header line; CRLF line ends are accepted.
//
// Clicks: every rating >= min_rating, as user "ml_u<userId>" clicking item
// "ml_m<movieId>" at the rating's timestamp.
// Items: every movie in movies.csv, in file order:
//   cat1        the first genre, or "unknown"
//   cat2        cat1 + "/" + the second genre, or cat1 + "/all"
//   media_id    "ml_decade_<1990s>" from the title's year, or "ml_unknown"
//   tags        the genres (weight 1, in file order), then the user tags of
//               tags.csv with weight = count / the movie's largest tag
//               count, ties by name; heaviest first, at most 10. All tag
//               names are cleaned (lower-cased ASCII, whitespace trimmed,
//               spaces to '_', ';' tab CR LF removed), so the genre
//               "Fantasy" and a user tag "fantasy" are one tag, which keeps
//               its first (genre) weight; cat1 and cat2 keep the genres'
//               case
//   publish_ts  Jan 1 00:00 UTC of the title's year, else the movie's first
//               rating time (any rating), else 0
//   hotness     number of ratings (any value)
//   ctr         fraction of its ratings >= min_rating (0 without ratings)
// The year is a trailing "(YYYY)" or "(YYYY-...)"/"(YYYY–...)" (a range)
// of the whitespace-trimmed title.
//
// Malformed rows (wrong column count, bad quoting, unparsable or non-finite
// numbers, a duplicate movieId) count as "malformed row"; ratings and tags of
// a movie missing from movies.csv as "movie not in movies.csv"; both are
// reported with PATH:LINE. Ratings below min_rating count as
// "rating below <min_rating>", tags empty after cleaning as "empty tag".
// INVALID_ARGUMENT (see above) also for a NaN min_rating.
absl::StatusOr<ImportReport> ImportMovieLens(const std::string& src_dir,
                                             const std::string& out_world,
                                             const MovieLensOptions& options);

// Imports MIND (Microsoft News Dataset; one split, e.g. MINDsmall_train)
// from `src_dir`, both files tab-separated without a header:
//   news.tsv       news_id, category, subcategory, title, abstract, url,
//                  title_entities, abstract_entities
//   behaviors.tsv  impression_id, user_id, time ("M/D/YYYY h:mm:ss AM|PM",
//                  read as UTC), history (space-separated news ids, oldest
//                  first; may be empty), impressions (space-separated
//                  "newsid-label", label 0 or 1)
// The MIND test split, whose impressions carry no labels, is not supported:
// its rows count as malformed.
//
// Clicks, with user ids and item ids as in the data:
//   - every impression entry with label 1, at the impression's time;
//   - each user's history, taken once per user from the user's first
//     impression (earliest time, ties by file order) since MIND repeats it
//     on every impression: history entry i (0-based) of a history of length
//     L gets ts = first impression time - (L - i), so the order is kept and
//     all precede the user's impressions. L and i count every entry, but an
//     entry whose news id has no news.tsv row cannot become a click (the
//     builder needs an item row for every clicked item) and counts as
//     "history item not in news.tsv". Impression entries without a news row
//     count as "impression item not in news.tsv" and are ignored.
// Items: every news row, in file order:
//   cat1 = category ("unknown" if empty), cat2 = cat1 + "/" + subcategory
//   (cat1 + "/all" if empty), media_id = "mind", tags = the subcategory
//   (weight 1) then each "Label" of title_entities (weight 0.5, in order,
//   first occurrence wins), all cleaned like MovieLens tags;
//   publish_ts = the first impression time that showed it, else its earliest
//   click time (from a history), else 0; hotness = its clicks (history and
//   impressions); ctr = impressions with label 1 / impressions showing it (0
//   when never shown).
//
// Malformed rows (wrong column count, empty id, duplicate news id, bad time,
// an impression entry that is not "newsid-0" or "newsid-1") count as
// "malformed row" and are reported with PATH:LINE.
absl::StatusOr<ImportReport> ImportMind(const std::string& src_dir,
                                        const std::string& out_world);

}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_IMPORTERS_H_
