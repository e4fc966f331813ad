#include "recall/profile_rules.h"

#include <algorithm>
#include <cmath>

#include "util/vector_math.h"

namespace recall {

bool TagProfileVector(absl::Span<const v1::TagWeight* const> tags, int dim,
                      TagVectorFn vector_of, float* out) {
  std::fill(out, out + dim, 0.0f);
  std::vector<float> scratch(dim);
  for (const v1::TagWeight* tag : tags) {
    const float* v = vector_of(tag->tag(), scratch.data());
    if (v == nullptr) continue;
    for (int j = 0; j < dim; ++j) out[j] += tag->weight() * v[j];
  }
  return NormalizeL2(out, dim);
}

std::vector<float> MembershipWeights(absl::Span<const float> similarities) {
  double total = 0.0;
  for (float s : similarities) {
    total += std::max(static_cast<double>(s), 0.0) + 1e-6;
  }
  std::vector<float> weights;
  weights.reserve(similarities.size());
  for (float s : similarities) {
    weights.push_back(static_cast<float>(
        (std::max(static_cast<double>(s), 0.0) + 1e-6) / total));
  }
  return weights;
}

void ConcatenateParts(absl::Span<const absl::Span<const float>> parts,
                      float* out) {
  const float scale =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(parts.size())));
  float* cursor = out;
  for (absl::Span<const float> part : parts) {
    for (float x : part) *cursor++ = x * scale;
  }
  NormalizeL2(out, static_cast<int>(cursor - out));
}

}  // namespace recall
