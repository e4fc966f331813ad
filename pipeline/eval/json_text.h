// JSON for the report printers (eval, bench): nlohmann::ordered_json, whose
// key order is the order fields are set (part of the reports' format), and
// numbers rounded for reading.
#ifndef RECALL_PIPELINE_EVAL_JSON_TEXT_H_
#define RECALL_PIPELINE_EVAL_JSON_TEXT_H_

#include <nlohmann/json.hpp>

namespace recall {

using JsonObject = nlohmann::ordered_json;

// `v` rounded to `decimals` digits after the point; null when `v` is not
// finite (JSON has no NaN or infinity, and a report must not show a NaN as a
// number).
JsonObject JsonNumber(double v, int decimals);

}  // namespace recall

#endif  // RECALL_PIPELINE_EVAL_JSON_TEXT_H_
