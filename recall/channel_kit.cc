// Helpers shared by the built-in channel kinds; see recall/channel_kit.h.
#include "recall/channel_kit.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace recall {
namespace channel_kit {

bool TagProfileVector(const VectorTable& table,
                      absl::Span<const v1::TagWeight* const> tags, float* out) {
  const int dim = table.index->dim();
  std::fill(out, out + dim, 0.0f);
  std::vector<float> tag_vector(dim);
  for (const v1::TagWeight* tag : tags) {
    const int32_t row = table.Find(tag->tag());
    if (row < 0 || !table.index->Reconstruct(row, tag_vector.data()).ok())
      continue;
    for (int j = 0; j < dim; ++j) out[j] += tag->weight() * tag_vector[j];
  }
  double norm2 = 0;
  for (int j = 0; j < dim; ++j) norm2 += double{out[j]} * out[j];
  if (!(norm2 > 0)) return false;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
  for (int j = 0; j < dim; ++j) out[j] *= inv;
  return true;
}

bool OutOfTime(const RequestContext& ctx, ChannelOutput* out) {
  if (absl::Now() < ctx.deadline) return false;
  out->status =
      absl::DeadlineExceededError("deadline passed during the channel");
  return true;
}

absl::Status NeedSpace(const ChannelConfig& config, const Snapshot& snapshot) {
  if (snapshot.FindSpace(config.space()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel \"", config.name(),
                     "\": snapshot has no space \"", config.space(), "\""));
  }
  return absl::OkStatus();
}

absl::Status NeedTable(const ChannelConfig& config, const Snapshot& snapshot,
                       absl::string_view table) {
  if (snapshot.FindTable(table) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("channel \"", config.name(),
                                                   "\": snapshot has no ",
                                                   table, " vectors"));
  }
  return absl::OkStatus();
}

}  // namespace channel_kit
}  // namespace recall
