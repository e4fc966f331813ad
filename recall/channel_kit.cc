// Helpers shared by the built-in channel kinds; see recall/channel_kit.h.
#include "recall/channel_kit.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "recall/live_items.h"
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

absl::Status SearchSpace(const RequestContext& ctx, const Space& space,
                         const float* query, int k, const SearchParams& params,
                         std::vector<Neighbor>* out) {
  if (absl::Status s = space.index->Search(query, k, params, out); !s.ok())
    return s;
  if (ctx.live == nullptr) return absl::OkStatus();
  return ctx.live->MergeSearch(space.manifest.name(), query, k, out);
}

bool ItemVector(const RequestContext& ctx, const Space& space, ItemRow row,
                float* out) {
  if (ctx.live != nullptr && ctx.live->Vector(space.manifest.name(), row, out))
    return true;
  return !IsLiveRow(row) && space.index->Reconstruct(row, out).ok();
}

bool Skips(const RequestContext& ctx, ItemRow row) {
  return (ctx.excluded != nullptr && ctx.excluded->contains(row)) ||
         (ctx.live != nullptr && ctx.live->Denied(row));
}

const Item* ItemOf(const RequestContext& ctx, ItemRow row,
                   std::shared_ptr<const LiveItem>* pin) {
  if (ctx.live != nullptr && !ctx.live->empty())
    return ctx.live->ItemOf(row, pin);
  const ItemTable& items = ctx.snapshot->items();
  return row >= 0 && row < items.size() ? &items.item(row) : nullptr;
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
