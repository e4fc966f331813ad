#include "pipeline/snapshot/profiles.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "recall/profile_rules.h"
#include "util/vector_math.h"

namespace recall {

int32_t ClickLog::AddUser(absl::string_view user_id) {
  auto [it, inserted] =
      index_.emplace(user_id, static_cast<int32_t>(users_.size()));
  if (inserted) users_.emplace_back(user_id);
  return it->second;
}

void ClickLog::Finish() {
  std::sort(clicks_.begin(), clicks_.end(),
            [](const UserClick& a, const UserClick& b) {
              return a.user != b.user ? a.user < b.user : a.ts > b.ts;
            });
  begin_.assign(users_.size() + 1, clicks_.size());
  for (size_t i = clicks_.size(); i-- > 0;) begin_[clicks_[i].user] = i;
  for (size_t u = users_.size(); u-- > 0;)
    begin_[u] = std::min(begin_[u], begin_[u + 1]);
}

absl::Span<const UserClick> ClickLog::ClicksOf(int32_t user) const {
  if (static_cast<size_t>(user) + 1 >= begin_.size()) return {};
  return absl::MakeConstSpan(clicks_.data() + begin_[user],
                             begin_[user + 1] - begin_[user]);
}

VectorLookup::VectorLookup(VectorSet vectors) : set(std::move(vectors)) {
  for (size_t i = 0; i < set.size(); ++i) position.emplace(set.ids[i], i);
}

const float* VectorLookup::Find(absl::string_view id) const {
  auto it = position.find(id);
  return it == position.end() ? nullptr : set.row(it->second);
}

void Tag2vecItemVectors(const ItemTable& items, const VectorLookup& tags,
                        TagCombine combine, int top_tags,
                        std::vector<int32_t>* rows, std::vector<float>* data) {
  const int dim = tags.dim();
  std::vector<float> v(dim);
  for (ItemRow row = 0; row < items.size(); ++row) {
    if (!TagItemVector(
            items.item(row).tags, combine, top_tags, dim,
            [&tags](absl::string_view tag, float*) { return tags.Find(tag); },
            v.data())) {
      continue;
    }
    rows->push_back(row);
    data->insert(data->end(), v.begin(), v.end());
  }
}

std::vector<v1::TagWeight> UserTagProfile(absl::Span<const UserClick> clicks,
                                          const ItemTable& items,
                                          int64_t reference_time,
                                          double half_life_seconds,
                                          int max_tags) {
  struct Acc {
    double weight = 0;
    double best = 0;
    const std::string* category = nullptr;
  };
  absl::flat_hash_map<std::string, Acc> acc;
  for (const UserClick& click : clicks) {
    const Item& item = items.item(click.item);
    const double age = std::max<int64_t>(0, reference_time - click.ts);
    const double decay = std::exp2(-age / half_life_seconds);
    for (const auto& [tag, weight] : item.tags) {
      const double w = weight * decay;
      Acc& a = acc[tag];
      a.weight += w;
      if (w > a.best || a.category == nullptr) {
        a.best = w;
        a.category = &item.cat1;
      }
    }
  }
  std::vector<v1::TagWeight> profile;
  profile.reserve(acc.size());
  for (const auto& [tag, a] : acc) {
    if (!(a.weight > 0)) continue;
    v1::TagWeight t;
    t.set_tag(tag);
    t.set_category(*a.category);
    t.set_weight(static_cast<float>(a.weight));
    profile.push_back(std::move(t));
  }
  // Heaviest first; ties by name so the profile is deterministic.
  std::sort(profile.begin(), profile.end(),
            [](const v1::TagWeight& a, const v1::TagWeight& b) {
              return a.weight() != b.weight() ? a.weight() > b.weight()
                                              : a.tag() < b.tag();
            });
  if (static_cast<int>(profile.size()) > max_tags) profile.resize(max_tags);
  return profile;
}

bool ProfileVector(const std::vector<v1::TagWeight>& profile,
                   const VectorLookup& tags, float* out) {
  std::vector<const v1::TagWeight*> weighted;
  weighted.reserve(profile.size());
  for (const v1::TagWeight& t : profile) weighted.push_back(&t);
  return TagProfileVector(
      weighted, tags.dim(),
      [&tags](absl::string_view tag, float*) { return tags.Find(tag); }, out);
}

}  // namespace recall
