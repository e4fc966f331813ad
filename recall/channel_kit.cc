// Helpers shared by the built-in channel kinds; see recall/channel_kit.h.
#include "recall/channel_kit.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "recall/profile_rules.h"

namespace recall {
namespace channel_kit {

bool TagProfileVector(const VectorTable& table,
                      absl::Span<const v1::TagWeight* const> tags, float* out) {
  return recall::TagProfileVector(
      tags, table.index->dim(),
      [&table](absl::string_view tag, float* scratch) -> const float* {
        const int32_t row = table.Find(tag);
        if (row < 0 || !table.index->Reconstruct(row, scratch).ok())
          return nullptr;
        return scratch;
      },
      out);
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
