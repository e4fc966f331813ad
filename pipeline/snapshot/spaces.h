// Internal to pipeline/snapshot: a version's vector spaces and tables. Reads
// the world's vector files (vectors/<space>.item.vec, .user.vec, tags.vec,
// media.vec), checks and normalises them, and writes their indexes through
// store/version_layout.h's paths.
#ifndef RECALL_PIPELINE_SNAPSHOT_SPACES_H_
#define RECALL_PIPELINE_SNAPSHOT_SPACES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pipeline/data/word2vec_io.h"
#include "pipeline/snapshot/builder.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "store/item_table.h"

namespace recall {
namespace build_spaces {

inline constexpr char kTag2vec[] = "tag2vec";

struct UserVectors {
  std::string space;
  VectorSet vectors;
};

// The spaces in input/vectors, sorted by name.
absl::StatusOr<std::vector<std::string>> FindSpaces(
    const std::string& input_dir);

// Item vectors ready for an index: rows ascending, vectors row-major.
struct ItemVectors {
  int dim = 0;
  std::vector<int32_t> rows;
  std::vector<float> data;
};

// Reads and normalises vectors/<space>.item.vec, mapping ids to item rows;
// vectors of `taken_down` ids are left out, any other id must be an item.
absl::StatusOr<ItemVectors> ReadItemVectors(
    const std::string& input_dir, const ItemTable& items,
    const std::string& space,
    const absl::flat_hash_set<std::string>& taken_down);

// Says how many items (and the first few) have no vector in `space`: no
// channel over the space can recall them (trainers leave out items they
// could not learn).
void ReportItemsWithoutVector(const std::string& space, const ItemTable& items,
                              const std::vector<int32_t>& rows);

// `options` with a Flat (exact) index for each space that `policy` names
// only in disabled channels, none of them i2i (the neighbour tables of an
// i2i channel, disabled or not, search its space for every seed item), and
// that --space_index does not name: nothing
// searches such a space unless a request enables one of those channels, and
// its graph cost as much build time as a served one (the tag2vec graph, 62
// to 70 of the 450 s at 1M items, docs/PERFORMANCE.md). A request that does
// enable one gets the exact answer, at an exact search's latency. Says so
// on stderr for each such space.
BuildOptions WithExactUnsearchedSpaces(const BuildOptions& options,
                                       const v1::Policy& policy);

// Writes spaces/<space>.faiss in `dir`.
absl::StatusOr<v1::SpaceManifest> WriteSpace(const BuildOptions& options,
                                             const std::string& space,
                                             const ItemVectors& vectors,
                                             const std::string& dir);

// Reads and normalises vectors/<name>.vec when present ("tags", "media").
absl::StatusOr<std::optional<VectorSet>> ReadOptionalVectors(
    const std::string& input_dir, const std::string& name);

// Writes tables/<name>.ids and tables/<name>.faiss (Flat, inner product).
absl::StatusOr<v1::VectorTableManifest> WriteVectorTable(
    const std::string& name, const VectorSet& vectors, const std::string& dir);

// Reads vectors/<space>.user.vec if present; its dimension must match the
// space's item vectors.
absl::StatusOr<bool> ReadUserVectors(const std::string& input_dir,
                                     const v1::SpaceManifest& space,
                                     UserVectors* out);

}  // namespace build_spaces
}  // namespace recall

#endif  // RECALL_PIPELINE_SNAPSHOT_SPACES_H_
