// What `recallctl build` derives from clicks and tag vectors: each user's
// click history and tag profile, tag2vec item vectors, and tag2vec user
// vectors.
#ifndef RECALL_PIPELINE_SNAPSHOT_PROFILES_H_
#define RECALL_PIPELINE_SNAPSHOT_PROFILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "pipeline/data/word2vec_io.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "recall/profile_rules.h"
#include "store/item_table.h"

namespace recall {

struct UserClick {
  int32_t user;  // index into ClickLog::users
  ItemRow item;
  int64_t ts;
};

// Clicks grouped by user, newest first within each user. Built on one
// thread (AddUser, AddClick, then Finish); after Finish its const methods
// are safe from any number of threads.
class ClickLog {
 public:
  // Interns `user_id`; returns its index.
  int32_t AddUser(absl::string_view user_id);
  void AddClick(int32_t user, ItemRow item, int64_t ts) {
    clicks_.push_back({user, item, ts});
  }
  // Sorts and indexes the clicks; call once, after the last Add.
  void Finish();

  const std::vector<std::string>& users() const { return users_; }
  absl::Span<const UserClick> ClicksOf(int32_t user) const;

 private:
  std::vector<std::string> users_;
  absl::flat_hash_map<std::string, int32_t> index_;
  std::vector<UserClick> clicks_;
  std::vector<size_t> begin_;  // users_.size() + 1 offsets into clicks_
};

// Vectors by id: word2vec input plus a lookup.
struct VectorLookup {
  explicit VectorLookup(VectorSet set);
  // The vector of `id`, or nullptr.
  const float* Find(absl::string_view id) const;
  int dim() const { return set.dim; }

  VectorSet set;
  absl::flat_hash_map<std::string, size_t> position;
};

// tag2vec item vectors: for every item with at least one tag that has a
// vector, recall/profile_rules.h's TagItemVector.
// Appends rows (ascending) and their vectors to `rows` and `data`.
void Tag2vecItemVectors(const ItemTable& items, const VectorLookup& tags,
                        TagCombine combine, int top_tags,
                        std::vector<int32_t>* rows, std::vector<float>* data);

// A user's tag profile from their clicks: each clicked item's tags, weighted
// by the tag's weight on the item and by 2^(-age / half_life) with age from
// `reference_time`; the tag's category is the cat1 of its heaviest
// contribution. The `max_tags` heaviest, heaviest first.
std::vector<v1::TagWeight> UserTagProfile(absl::Span<const UserClick> clicks,
                                          const ItemTable& items,
                                          int64_t reference_time,
                                          double half_life_seconds,
                                          int max_tags);

// The profile's weighted sum of tag vectors, normalised, into `out` (dim
// floats). False when no tag of the profile has a vector.
bool ProfileVector(const std::vector<v1::TagWeight>& profile,
                   const VectorLookup& tags, float* out);

}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_PROFILES_H_
