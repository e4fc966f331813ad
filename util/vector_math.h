// L2 normalisation, written once for every layer (indexes, the builder's
// profiles and clusterings, the channels, the synthetic world).
#ifndef RECALL_UTIL_VECTOR_MATH_H_
#define RECALL_UTIL_VECTOR_MATH_H_

#include <cmath>

namespace recall {

// Scales `v` (`dim` values) to unit L2 norm, the squares summed in double.
// Returns false, leaving `v` unchanged, when the norm is zero or not finite
// (a zero, NaN or infinite vector has no direction).
template <typename T>
bool NormalizeL2(T* v, int dim) {
  double norm2 = 0;
  for (int j = 0; j < dim; ++j) norm2 += static_cast<double>(v[j]) * v[j];
  if (!(norm2 > 0) || !std::isfinite(norm2)) return false;
  const T inverse = static_cast<T>(1.0 / std::sqrt(norm2));
  for (int j = 0; j < dim; ++j) v[j] *= inverse;
  return true;
}

}  // namespace recall

#endif  // RECALL_UTIL_VECTOR_MATH_H_
