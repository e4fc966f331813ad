#include "recall/query_checks.h"

#include <cmath>
#include <utility>

namespace recall {
namespace query_checks {

absl::Status CheckSizes(const EngineLimits& limits, absl::string_view user_id,
                        absl::string_view seeds_field,
                        const std::vector<std::string>& seeds,
                        const std::vector<std::string>& excludes) {
  if (static_cast<int>(seeds.size()) > limits.max_seeds) {
    return absl::InvalidArgumentError(
        absl::StrCat(seeds_field, ": at most ", limits.max_seeds,
                     " items (--max_seeds), got ", seeds.size()));
  }
  if (static_cast<int>(excludes.size()) > limits.max_excludes) {
    return absl::InvalidArgumentError(
        absl::StrCat("exclude_item_ids: at most ", limits.max_excludes,
                     " items (--max_excludes), got ", excludes.size()));
  }
  auto too_long = [&](absl::string_view field, absl::string_view id) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ids are at most ", limits.max_id_bytes, " bytes, got ",
        id.size(), " (starting \"", id.substr(0, 32), "\")"));
  };
  if (user_id.size() > limits.max_id_bytes) return too_long("user_id", user_id);
  for (const auto* ids : {&seeds, &excludes}) {
    for (const std::string& id : *ids) {
      if (id.size() > limits.max_id_bytes)
        return too_long(ids == &seeds ? seeds_field : "exclude_item_ids", id);
    }
  }
  return absl::OkStatus();
}

bool EnabledAfter(const ChannelOverride& override, bool only_overridden,
                  bool enabled) {
  if (override.enabled) return *override.enabled;
  return only_overridden || enabled;
}

absl::Status ApplyOverride(const ChannelOverride& override, size_t index,
                           bool only_overridden, const EngineLimits& limits,
                           ChannelParams* params, std::string* clamped) {
  ChannelParams& p = *params;
  p.enabled = EnabledAfter(override, only_overridden, p.enabled);
  if (override.quota)
    ClampInto("quota", *override.quota, 1, limits.max_k, &p.quota, clamped);
  if (override.fetch_k) {
    ClampInto("fetch_k", *override.fetch_k, 1, limits.max_fetch_k, &p.fetch_k,
              clamped);
  }
  for (const auto& [field, value] :
       {std::pair{"min_similarity", override.min_similarity},
        std::pair{"weight", override.weight}}) {
    if (value && !std::isfinite(*value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("channel_overrides[", index, "].", field,
                       ": must be a finite number, got ", *value));
    }
  }
  if (override.min_similarity) {
    ClampInto("min_similarity", *override.min_similarity, -1.0f, 1.0f,
              &p.min_similarity, clamped);
  }
  if (override.weight)
    ClampInto("weight", *override.weight, 0.0f, 100.0f, &p.weight, clamped);
  if (override.ef_search) {
    ClampInto("ef_search", *override.ef_search, 1, limits.max_ef_search,
              &p.search.ef_search, clamped);
  }
  if (override.nprobe) {
    ClampInto("nprobe", *override.nprobe, 1, limits.max_nprobe,
              &p.search.nprobe, clamped);
  }
  return absl::OkStatus();
}

}  // namespace query_checks
}  // namespace recall
