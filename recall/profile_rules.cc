#include "recall/profile_rules.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
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

absl::StatusOr<TagCombine> ParseTagCombine(absl::string_view name) {
  if (name == "sum") return TagCombine::kSum;
  if (name == "weighted") return TagCombine::kWeighted;
  if (name == "mean") return TagCombine::kMean;
  if (name == "max") return TagCombine::kMax;
  return absl::InvalidArgumentError(absl::StrCat(
      "tag2vec combine: want sum, weighted, mean or max, got \"", name, "\""));
}

bool TagItemVector(const std::vector<std::pair<std::string, float>>& tags,
                   TagCombine combine, int top_tags, int dim,
                   TagVectorFn vector_of, float* out) {
  // The known tags' weights and vectors, heaviest first (one scratch
  // vector per tag: vector_of may write there).
  std::vector<std::pair<float, const float*>> found;
  std::vector<float> scratch(tags.size() * static_cast<size_t>(dim));
  for (size_t i = 0; i < tags.size(); ++i) {
    if (const float* v = vector_of(tags[i].first, scratch.data() + i * dim))
      found.emplace_back(tags[i].second, v);
  }
  if (found.empty()) return false;
  std::stable_sort(
      found.begin(), found.end(),
      [](const auto& a, const auto& b) { return a.first > b.first; });
  if (static_cast<int>(found.size()) > top_tags) found.resize(top_tags);
  std::fill(out, out + dim, combine == TagCombine::kMax ? -INFINITY : 0.0f);
  for (const auto& [weight, v] : found) {
    for (int j = 0; j < dim; ++j) {
      switch (combine) {
        case TagCombine::kSum:
        case TagCombine::kMean:
          out[j] += v[j];
          break;
        case TagCombine::kWeighted:
          out[j] += weight * v[j];
          break;
        case TagCombine::kMax:
          out[j] = std::max(out[j], v[j]);
          break;
      }
    }
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
