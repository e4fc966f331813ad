#include "pipeline/data/word2vec_io.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "pipeline/data/file_writer.h"
#include "util/line_error.h"
#include "util/status_macros.h"
#include "util/utf8.h"

namespace recall {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

bool HasWhitespace(absl::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
        c == '\f') {
      return true;
    }
  }
  return false;
}

// Reads the whole file into memory: one read syscall sequence and no
// per-line allocation is what makes 100k x 64 files parse in a fraction of a
// second.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return ErrnoError(errno, path, "cannot open");
  std::string data;
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0) {
    data.append(chunk, n);
  }
  const bool failed = std::ferror(f) != 0;
  const int read_errno = errno;
  std::fclose(f);
  if (failed) return ErrnoError(read_errno, path, "read error");
  return data;
}

// Splits a buffer into lines, numbering them from 1 and stripping the line
// terminator together with any trailing blanks (fastText writes a trailing
// space; Windows tools write "\r\n").
class LineReader {
 public:
  explicit LineReader(absl::string_view data) : data_(data) {}

  bool Next(absl::string_view* line) {
    if (pos_ >= data_.size()) return false;
    size_t end = data_.find('\n', pos_);
    if (end == absl::string_view::npos) end = data_.size();
    absl::string_view l = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_no_;
    while (!l.empty() && IsBlank(l.back())) l.remove_suffix(1);
    *line = l;
    return true;
  }

  int64_t line_no() const { return line_no_; }

 private:
  absl::string_view data_;
  size_t pos_ = 0;
  int64_t line_no_ = 0;
};

// Returns the next blank-separated token of `*rest` and advances past it;
// an empty result means no token is left.
absl::string_view NextToken(absl::string_view* rest) {
  size_t i = 0;
  while (i < rest->size() && IsBlank((*rest)[i])) ++i;
  size_t j = i;
  while (j < rest->size() && !IsBlank((*rest)[j])) ++j;
  absl::string_view token = rest->substr(i, j - i);
  rest->remove_prefix(j);
  return token;
}

bool ParseInt(absl::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

enum class FloatParse { kOk, kBad, kNotFinite, kOutOfRange };

FloatParse ParseFloat(absl::string_view s, float* out) {
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  // from_chars rejects a leading '+', which some writers emit.
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, *out);
  if (ptr != end) return FloatParse::kBad;
  if (ec == std::errc::result_out_of_range) {
    // Overflow is an error; underflow of a tiny value to a subnormal or zero
    // float is what any float32 writer would have produced, so accept it.
    const double d = std::strtod(std::string(begin, end).c_str(), nullptr);
    if (!std::isfinite(d) ||
        std::fabs(d) > double{std::numeric_limits<float>::max()}) {
      return FloatParse::kOutOfRange;
    }
    *out = static_cast<float>(d);
    return FloatParse::kOk;
  }
  if (ec != std::errc()) return FloatParse::kBad;
  if (!std::isfinite(*out)) return FloatParse::kNotFinite;
  return FloatParse::kOk;
}

// Reads the "N D" header, the first line that is not blank (leading blank
// lines are tolerated), into `*n` (N >= 1 vectors) and `*d` (D > 0
// components, at most INT_MAX).
absl::Status ReadHeader(const std::string& path, LineReader* lines, int64_t* n,
                        int64_t* d) {
  absl::string_view line;
  bool have_header = false;
  while (lines->Next(&line)) {
    if (!line.empty()) {
      have_header = true;
      break;
    }
  }
  if (!have_header) return LineError(path, 1, "empty input");
  const int64_t header_line = lines->line_no();
  absl::string_view rest = line;
  const bool header_ok = ParseInt(NextToken(&rest), n) &&
                         ParseInt(NextToken(&rest), d) &&
                         NextToken(&rest).empty() && *n >= 0 && *d > 0 &&
                         *d <= std::numeric_limits<int>::max();
  if (!header_ok) {
    return LineError(
        path, header_line,
        absl::StrCat("malformed header \"", line.substr(0, 80),
                     "\" (want \"N D\" with N >= 0 vectors and D > 0)"));
  }
  if (*n == 0) {
    return LineError(path, header_line, "empty input (header says N=0)");
  }
  return absl::OkStatus();
}

// Parses the components in `rest`, the part of line `line_no` after the
// id, and appends them to `*values`; it is an error unless there are
// exactly `d`, and then `*values` is left as it was.
absl::Status ParseComponents(const std::string& path, int64_t line_no,
                             absl::string_view rest, int64_t d,
                             std::vector<float>* values) {
  const size_t row_start = values->size();
  int64_t components = 0;
  for (absl::string_view token = NextToken(&rest); !token.empty();
       token = NextToken(&rest)) {
    ++components;
    if (components > d) continue;  // only counted, for the message
    float value = 0;
    switch (ParseFloat(token, &value)) {
      case FloatParse::kOk:
        break;
      case FloatParse::kBad:
        return LineError(path, line_no,
                         absl::StrCat("bad number \"", token.substr(0, 40),
                                      "\" in component ", components));
      case FloatParse::kNotFinite:
        return LineError(path, line_no,
                         absl::StrCat("NaN or Inf in component ", components));
      case FloatParse::kOutOfRange:
        return LineError(
            path, line_no,
            absl::StrCat("number \"", token.substr(0, 40),
                         "\" out of float range in component ", components));
    }
    values->push_back(value);
  }
  if (components != d) {
    values->resize(row_start);
    return LineError(
        path, line_no,
        absl::StrCat("wrong dimension: ", components, " components, want ", d));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<VectorSet> ReadWord2VecText(const std::string& path) {
  absl::StatusOr<std::string> data_or = ReadWholeFile(path);
  if (!data_or.ok()) return data_or.status();
  const std::string& data = *data_or;

  LineReader lines(data);
  int64_t n = -1;
  int64_t d = -1;
  RETURN_IF_ERROR(ReadHeader(path, &lines, &n, &d));

  VectorSet set;
  set.dim = static_cast<int>(d);
  // Never trust N for allocation beyond what the file could hold: every
  // component takes at least two bytes.
  const int64_t max_rows = static_cast<int64_t>(data.size()) / (2 * d) + 1;
  const size_t reserve_rows = static_cast<size_t>(std::min(n, max_rows));
  set.ids.reserve(reserve_rows);
  set.values.reserve(reserve_rows * static_cast<size_t>(d));
  // Keys point into `data`, which outlives the map.
  absl::flat_hash_map<absl::string_view, int64_t> first_line;
  first_line.reserve(reserve_rows);

  absl::string_view line;
  int64_t rows = 0;
  int64_t first_extra_line = 0;
  while (lines.Next(&line)) {
    if (line.empty()) continue;
    ++rows;
    if (rows > n) {
      // Only count the surplus, for the message.
      if (first_extra_line == 0) first_extra_line = lines.line_no();
      continue;
    }
    const int64_t line_no = lines.line_no();
    absl::string_view rest = line;
    const absl::string_view id = NextToken(&rest);
    if (!IsValidUtf8(id)) {
      return LineError(
          path, line_no,
          absl::StrCat("id \"", absl::CHexEscape(id), "\" is not valid UTF-8"));
    }
    auto [it, inserted] = first_line.emplace(id, line_no);
    if (!inserted) {
      return LineError(path, line_no,
                       absl::StrCat("duplicate id \"", id, "\" (first at line ",
                                    it->second, ")"));
    }
    RETURN_IF_ERROR(ParseComponents(path, line_no, rest, d, &set.values));
    set.ids.emplace_back(id);
  }
  if (rows != n) {
    return LineError(
        path, rows > n ? first_extra_line : lines.line_no(),
        absl::StrCat("header says N=", n, " vectors, file has ", rows));
  }
  return set;
}

absl::Status WriteWord2VecText(const std::string& path,
                               const VectorSet& vectors) {
  if (vectors.dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": dimension must be positive, got ", vectors.dim));
  }
  if (vectors.values.size() != vectors.ids.size() * vectors.dim) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", vectors.values.size(), " values for ",
                     vectors.ids.size(), " ids of dimension ", vectors.dim));
  }
  if (vectors.ids.empty()) {
    // The reader rejects N = 0, so refuse to write a file it cannot read.
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no vectors to write"));
  }
  absl::flat_hash_map<absl::string_view, size_t> seen;
  seen.reserve(vectors.ids.size());
  for (size_t i = 0; i < vectors.ids.size(); ++i) {
    const std::string& id = vectors.ids[i];
    if (id.empty() || HasWhitespace(id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": id at row ", i, " \"", id, "\" is empty or has whitespace"));
    }
    if (!seen.emplace(id, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": duplicate id \"", id, "\" at row ", i));
    }
  }
  for (size_t i = 0; i < vectors.values.size(); ++i) {
    if (!std::isfinite(vectors.values[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": NaN or Inf in row ", i / vectors.dim,
                       " component ", i % vectors.dim + 1));
    }
  }

  FileWriter out;
  if (absl::Status s = out.Open(path); !s.ok()) return s;
  std::string* buf = out.buffer();
  absl::StrAppend(buf, vectors.size(), " ", vectors.dim, "\n");
  char num[32];
  for (size_t i = 0; i < vectors.size(); ++i) {
    buf->append(vectors.ids[i]);
    const float* row = vectors.row(i);
    for (int j = 0; j < vectors.dim; ++j) {
      // The shortest representation that reads back as the same float.
      auto [ptr, ec] = std::to_chars(num, num + sizeof(num), row[j]);
      (void)ec;  // 32 bytes always hold a float
      buf->push_back(' ');
      buf->append(num, ptr);
    }
    buf->push_back('\n');
    if (absl::Status s = out.MaybeFlush(); !s.ok()) return s;
  }
  return out.Close();
}

}  // namespace recall
