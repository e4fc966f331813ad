#include "pipeline/data/clicks_file.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "util/line_error.h"
#include "util/utf8.h"

namespace recall {

absl::StatusOr<int64_t> ReadClickRows(
    std::istream& in, const std::string& path,
    const std::function<void(absl::string_view, absl::string_view, int64_t)>&
        fn) {
  std::string line;
  if (!std::getline(in, line) ||
      absl::StripSuffix(line, "\r") != kClicksHeader) {
    return LineError(path, 1, "bad header; want \"user_id\\titem_id\\tts\"");
  }
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    const absl::string_view text = absl::StripSuffix(line, "\r");
    if (text.empty()) continue;
    const std::vector<absl::string_view> f = absl::StrSplit(text, '\t');
    if (f.size() != 3 || f[0].empty() || f[1].empty()) {
      return LineError(path, line_no,
                       "malformed row: want 3 non-empty columns");
    }
    if (!IsValidUtf8(f[0]) || !IsValidUtf8(f[1])) {
      return LineError(path, line_no,
                       absl::StrCat("user or item id is not valid UTF-8 (\"",
                                    absl::CHexEscape(f[0]), "\", \"",
                                    absl::CHexEscape(f[1]), "\")"));
    }
    int64_t ts = 0;
    if (!absl::SimpleAtoi(f[2], &ts)) {
      return LineError(path, line_no, absl::StrCat("bad ts \"", f[2], "\""));
    }
    fn(f[0], f[1], ts);
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return line_no;
}

}  // namespace recall
