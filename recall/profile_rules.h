// Rules computed both when a snapshot is built (pipeline/snapshot) and at
// request time (the channels): written once here, so that a user's vector
// or cluster weights never differ between the two. tests/recall/
// profile_rules_test.cc pins that the builder and the channels agree.
#ifndef RECALL_RECALL_PROFILE_RULES_H_
#define RECALL_RECALL_PROFILE_RULES_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/recall/v1/snapshot.pb.h"

namespace recall {

// A tag's vector of `dim` floats: a pointer into storage, or `scratch` after
// writing into it; nullptr when the tag has no vector.
using TagVectorFn =
    absl::FunctionRef<const float*(absl::string_view tag, float* scratch)>;

// The tag-profile vector (tag2vec user vectors; the request-time profile of
// crosstag groups and cluster profiles): the sum over `tags` of weight x the
// tag's vector, L2-normalised. Tags without a vector are skipped. Writes
// `dim` floats to `out`; false when nothing is left (a zero vector).
bool TagProfileVector(absl::Span<const v1::TagWeight* const> tags, int dim,
                      TagVectorFn vector_of, float* out);

// How an article's top tags make its tag2vec vector (always L2-normalised
// afterwards, so "sum" and "mean" point the same way and give the same
// vector; "mean" is accepted for the word's sake).
enum class TagCombine { kSum, kWeighted, kMean, kMax };

// "sum" (default), "weighted", "mean", "max"; INVALID_ARGUMENT otherwise.
absl::StatusOr<TagCombine> ParseTagCombine(absl::string_view name);

// An article's tag2vec vector (the builder's for every item of a snapshot,
// the server's for a live item): its `top_tags` heaviest tags that have a
// vector (ties: the item's order), combined by `combine`, L2-normalised.
// Writes `dim` floats to `out`; false when no tag has a vector or the
// combination is zero.
bool TagItemVector(const std::vector<std::pair<std::string, float>>& tags,
                   TagCombine combine, int top_tags, int dim,
                   TagVectorFn vector_of, float* out);

// The weights of a user's memberships in their nearest clusters, from the
// similarities to the centres (any order): max(similarity, 0) + 1e-6,
// normalised to sum to 1; same order as `similarities`.
std::vector<float> MembershipWeights(absl::Span<const float> similarities);

// A user's vector in a clustering over several spaces: the parts (one unit
// vector per space, in the clustering's space order) concatenated, each
// scaled by 1/sqrt(#parts), and the whole L2-normalised (a no-op up to
// rounding for unit parts). Writes the sum of the parts' sizes to `out`.
void ConcatenateParts(absl::Span<const absl::Span<const float>> parts,
                      float* out);

}  // namespace recall

#endif  // RECALL_RECALL_PROFILE_RULES_H_
