// The lists stage of a build; see pipeline/snapshot/click_lists.h.
#include "pipeline/snapshot/click_lists.h"

#include <cstdio>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "store/ranked_lists.h"
#include "store/snapshot_files.h"
#include "store/version_layout.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

// Writes `lists` as lists/<name>.rl in `dir`; its MANIFEST entry.
absl::StatusOr<v1::RankedListsManifest> WriteLists(const std::string& dir,
                                                   const std::string& name,
                                                   const RankedLists& lists,
                                                   std::string method) {
  const std::string relative = layout::Lists(name);
  RETURN_IF_ERROR(lists.Write((fs::path(dir) / relative).string()));
  v1::RankedListsManifest lm;
  lm.set_name(name);
  ASSIGN_OR_RETURN(*lm.mutable_file(), MakeFileRef(dir, relative));
  lm.set_keys(lists.size());
  lm.set_entries(lists.entries());
  lm.set_method(std::move(method));
  return lm;
}

}  // namespace

absl::Status BuildClickLists(const ItemCfOptions& itemcf,
                             double hot_half_life_hours, int hot_items,
                             const ItemTable& items, const ClickLog& log,
                             const std::string& dir, v1::Manifest* manifest) {
  const Histories histories = HistoriesOf(log);
  bool any = false;
  for (const auto& h : histories) any = any || !h.empty();
  if (!any) return absl::OkStatus();
  if (itemcf.method != "none") {
    const absl::Time start = absl::Now();
    std::string method;
    ASSIGN_OR_RETURN(RankedLists itemcf,
                     ItemCfLists(histories, items.size(), itemcf, &method));
    ASSIGN_OR_RETURN(*manifest->add_lists(),
                     WriteLists(dir, "itemcf", itemcf, method));
    fprintf(stderr, "build: itemcf (%s): %lld neighbours in %.1f s\n",
            method.c_str(), static_cast<long long>(itemcf.entries()),
            absl::ToDoubleSeconds(absl::Now() - start));
  }
  RankedLists hot = HotLists(log, items, hot_half_life_hours, hot_items);
  ASSIGN_OR_RETURN(
      *manifest->add_lists(),
      WriteLists(dir, "hot", hot,
                 absl::StrCat("clicks half-life ", hot_half_life_hours,
                              " h top=", hot_items)));
  return absl::OkStatus();
}

}  // namespace recall
