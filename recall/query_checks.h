// Internal to recall/: the checks and overrides of a request that
// RecallEngine's Recall, SimilarItems and PlanSize share. Stateless
// functions, safe from any thread.
#ifndef RECALL_RECALL_QUERY_CHECKS_H_
#define RECALL_RECALL_QUERY_CHECKS_H_

#include <algorithm>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "recall/channel.h"
#include "recall/engine.h"

namespace recall {
namespace query_checks {

// Sets *value to `requested` clamped to [low, high], appending a note such
// as "fetch_k 9000 -> 5000" to *clamped when it clamps.
template <typename T>
void ClampInto(absl::string_view field, T requested, T low, T high, T* value,
               std::string* clamped) {
  *value = std::min(std::max(requested, low), high);
  if (*value != requested) {
    absl::StrAppend(clamped, clamped->empty() ? "" : "; ", field, " ",
                    requested, " -> ", *value);
  }
}

// The request-size limits shared by Recall and SimilarItems:
// INVALID_ARGUMENT naming the field and the limit. Messages quote at most
// the first bytes of an oversized id.
absl::Status CheckSizes(const EngineLimits& limits, absl::string_view user_id,
                        absl::string_view seeds_field,
                        const std::vector<std::string>& seeds,
                        const std::vector<std::string>& excludes);

// Whether a channel runs after `override` of it, given whether it ran
// before: the override's `enabled` when set, else on when the query runs
// only the overridden channels (naming a channel to run alone turns it on).
bool EnabledAfter(const ChannelOverride& override, bool only_overridden,
                  bool enabled);

// Applies `override` (channel_overrides[index] of a query) to *params,
// clamped to `limits`, noting each clamp in *clamped. INVALID_ARGUMENT
// naming the field for a min_similarity or weight that is not finite (NaN
// passes every comparison, so clamping cannot tame it).
absl::Status ApplyOverride(const ChannelOverride& override, size_t index,
                           bool only_overridden, const EngineLimits& limits,
                           ChannelParams* params, std::string* clamped);

}  // namespace query_checks
}  // namespace recall

#endif  // RECALL_RECALL_QUERY_CHECKS_H_
