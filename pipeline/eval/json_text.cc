#include "pipeline/eval/json_text.h"

#include <cmath>

namespace recall {

JsonObject JsonNumber(double v, int decimals) {
  if (!std::isfinite(v)) return nullptr;
  const double scale = std::pow(10.0, decimals);
  const double rounded = std::round(v * scale) / scale;
  // A value too large to scale stays as it is.
  return std::isfinite(rounded) ? rounded : v;
}

}  // namespace recall
