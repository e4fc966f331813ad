// clicks.tsv, the click log of a world: a "user_id\titem_id\tts" header line,
// then one "USER\tITEM\tTS" row per click (TS in unix seconds). gen, import
// and split write it; build, split, train and eval read it through here.
#ifndef RECALL_PIPELINE_DATA_CLICKS_FILE_H_
#define RECALL_PIPELINE_DATA_CLICKS_FILE_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recall {

inline constexpr absl::string_view kClicksHeader = "user_id\titem_id\tts";

// Reads the clicks from `in`, opened from `path` (named in errors), calling
// fn(user_id, item_id, ts) for each row in file order. A trailing '\r' is
// ignored and blank lines are skipped. Returns the number of the last line
// read. Errors: INVALID_ARGUMENT "PATH:LINE: problem" for a bad header, a row
// without three columns and non-empty ids, or a TS that is not an integer;
// DATA_LOSS when reading stops on an I/O error. Opening is the caller's: the
// commands differ in what a missing file means.
absl::StatusOr<int64_t> ReadClickRows(
    std::istream& in, const std::string& path,
    const std::function<void(absl::string_view user, absl::string_view item,
                             int64_t ts)>& fn);

}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_CLICKS_FILE_H_
