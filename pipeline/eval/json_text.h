// The small JSON pieces the report printers (bench, eval) write by hand:
// their output is flat and its key order is part of the format.
#ifndef RECALL_PIPELINE_EVAL_JSON_TEXT_H_
#define RECALL_PIPELINE_EVAL_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace recall {

// A JSON number: fixed-point with `decimals` digits; non-finite values
// (which JSON cannot represent) become 0.
std::string JsonNumber(double v, int decimals);

// A quoted, escaped JSON string.
std::string JsonString(absl::string_view s);

}  // namespace recall

#endif  // RECALL_PIPELINE_EVAL_JSON_TEXT_H_
