// Internal to pipeline/data: what the MovieLens and MIND importers share
// (line reading, row errors, CSV fields, tags, user ids, and writing the
// world). See pipeline/data/importers.h for the importers themselves.
#ifndef RECALL_PIPELINE_DATA_IMPORT_KIT_H_
#define RECALL_PIPELINE_DATA_IMPORT_KIT_H_

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
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/file_writer.h"
#include "pipeline/data/importers.h"
#include "store/item_table.h"
#include "util/line_error.h"
#include "util/status_macros.h"

namespace recall {
namespace import_kit {

inline constexpr absl::string_view kMalformed = "malformed row";

// Reads a text file line by line, counting lines from 1 and dropping a
// trailing CR and a leading UTF-8 byte order mark. One reader per thread;
// the line it hands out is valid until the next call.
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
absl::Status OpenRequired(const LineReader& reader);

// Reads and checks the header line of a CSV file.
absl::Status ReadHeader(LineReader* reader, absl::string_view want);

// Counts a skipped row (or entry) under `reason`.
void Skip(ImportReport* report, absl::string_view reason);

// Counts a row that is skipped because it is malformed, with a message.
void RowError(ImportReport* report, absl::string_view reason,
              const std::string& path, int64_t line, absl::string_view problem);

// A tag name items.tsv accepts: lower-cased (ASCII), trimmed, spaces to '_',
// ';' tab CR LF removed. May come back empty.
std::string CleanTag(absl::string_view raw);

// Appends (name, weight) unless `name` is empty or already in `tags`.
void AddTag(std::string name, float weight,
            std::vector<std::pair<std::string, float>>* tags);

int64_t UnixSeconds(const absl::CivilSecond& civil);

// Users interned in order of appearance. Not thread-safe.
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

// Writes items.tsv, clicks.tsv (sorted by user, ts, item), users.txt (the
// clicking users) and titles.tsv ("item_id\ttitle", for title2vec; titles[i]
// is item row i's) to `out_world`, and fills the report's output counts.
absl::Status WriteWorld(const ItemTable& items,
                        const std::vector<std::string>& titles,
                        const UserIds& users, std::vector<Click> clicks,
                        const std::string& out_world, ImportReport* report);

// The next non-empty row of a CSV file with exactly `columns` fields, in
// `f`, at `*line_no`; every such line counts as read and in `*data_rows`.
// Rows that do not split or have another number of fields are reported
// (PATH:LINE) and skipped. False at the end of the file.
bool NextCsvRow(LineReader* reader, const std::string& path, size_t columns,
                ImportReport* report, std::vector<std::string>* f,
                int64_t* line_no, int64_t* data_rows);

// How reading a required file's rows ended: the reader's I/O error, or
// INVALID_ARGUMENT when the file had no data rows at all.
absl::Status EndOfRows(const LineReader& reader, int64_t data_rows);

}  // namespace import_kit
}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_IMPORT_KIT_H_
