// The one format for errors in line-oriented input files.
#ifndef RECALL_UTIL_LINE_ERROR_H_
#define RECALL_UTIL_LINE_ERROR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recall {

// INVALID_ARGUMENT "PATH:LINE: problem" (lines count from 1).
inline absl::Status LineError(const std::string& path, int64_t line,
                              absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ":", line, ": ", problem));
}

}  // namespace recall

#endif  // RECALL_UTIL_LINE_ERROR_H_
