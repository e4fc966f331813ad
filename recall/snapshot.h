// Snapshot: everything one version of the data needs to answer requests, in
// memory and immutable: the MANIFEST, the item table, one index per space
// (with its i2i neighbour table when built), the vector tables ("tags",
// "media"), the user clusterings (centres, cluster tables), the ranked lists
// ("itemcf", "hot"), the user store, and the items' titles when built with
// them. Shared as
// std::shared_ptr<const Snapshot>; a request holds its reference for its
// whole duration.
//
// Thread safety: immutable after Load; every const method is safe from any
// number of threads. Ownership: the Snapshot owns every part; pointers and
// references it hands out (FindSpace, items(), ...) live as long as it.
// Errors: see Load.
#ifndef RECALL_RECALL_SNAPSHOT_H_
#define RECALL_RECALL_SNAPSHOT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "index/index_handle.h"
#include "proto/recall/v1/snapshot.pb.h"
#include "store/item_table.h"
#include "store/ranked_lists.h"
#include "store/user_store.h"

namespace recall {

struct Space {
  v1::SpaceManifest manifest;
  std::unique_ptr<IndexHandle> index;
  // Precomputed nearest neighbours of the items that can seed i2i
  // (manifest.neighbours(): k, the cut, how it was searched; find an item's
  // list with FindRow); nullptr when the snapshot has none for this space.
  std::unique_ptr<const RankedLists> neighbours;
};

// Vectors of things that are not items ("tags", "media"): row i is ids[i]
// and the index's id i.
struct VectorTable {
  v1::VectorTableManifest manifest;
  std::vector<std::string> ids;
  absl::flat_hash_map<std::string, int32_t> row_of;
  std::unique_ptr<IndexHandle> index;

  // The row of `id`, or -1.
  int32_t Find(absl::string_view id) const {
    auto it = row_of.find(id);
    return it == row_of.end() ? -1 : it->second;
  }
};

// A user clustering: its clusters (profiles, members' items) and, for
// k-means, the centres.
struct Clustering {
  v1::ClusteringManifest manifest;
  std::unique_ptr<IndexHandle> centres;  // k-means only; id = cluster id
  v1::ClusterTable table;                // clusters[id]
  // What sources name: "<clustering>/<cluster id>/<label>", and the same
  // with " (assigned)" for users assigned at request time.
  std::vector<std::string> via;
  std::vector<std::string> assigned_via;

  const std::string& name() const { return manifest.spec().name(); }
};

// Precomputed ranked lists ("itemcf", "hot"): see store/ranked_lists.h.
struct NamedLists {
  v1::RankedListsManifest manifest;
  RankedLists lists;

  const std::string& name() const { return manifest.name(); }
};

// Loads and verifies a space's neighbour table as Snapshot::Load does: the
// file's size and CRC32C, lists keyed by item row, the MANIFEST's counts,
// no list longer than its k or reaching under its cut; DATA_LOSS naming the
// file otherwise. Builders check the tables they add to an already verified
// version with it.
absl::StatusOr<std::unique_ptr<const RankedLists>> LoadNeighbourTable(
    const std::string& dir, const v1::NeighbourTableManifest& table,
    int64_t item_count);

// Fills the via strings of `clustering` from its table (tests, loader).
void IndexClustering(Clustering* clustering);

// Builds a table from ids and a matching index (tests, tools).
VectorTable MakeVectorTable(std::string name, std::vector<std::string> ids,
                            std::unique_ptr<IndexHandle> index);

// Thread safety: immutable after construction; safe for concurrent reads.
class Snapshot {
 public:
  // Loads ROOT/<version> and verifies it before returning: the MANIFEST
  // parses and validates, its version matches the directory name, every
  // listed file has the recorded size and CRC32C, the item count, each
  // index's dimension and count match the MANIFEST, the store opens, and a
  // smoke query per space returns valid item rows. Any failure is an error
  // naming the file and the mismatch: DATA_LOSS for corrupt, inconsistent or
  // missing files the MANIFEST lists (VerifyFileRef), NOT_FOUND for a missing
  // MANIFEST or user store.
  static absl::StatusOr<std::shared_ptr<const Snapshot>> Load(
      const std::string& root, const std::string& version);

  // The same checks on a version directory at any path, except that the
  // MANIFEST's version need not match the directory's name (builders verify
  // a version before renaming it into place).
  static absl::StatusOr<std::shared_ptr<const Snapshot>> LoadFromDir(
      const std::string& dir);

  // Assembles a snapshot from parts (tests, tools). The manifest should
  // describe the parts; only Load verifies that.
  static std::shared_ptr<const Snapshot> FromParts(
      v1::Manifest manifest, ItemTable items, std::vector<Space> spaces,
      std::unique_ptr<UserStore> users, std::vector<VectorTable> tables = {},
      std::vector<Clustering> clusterings = {},
      std::vector<NamedLists> lists = {}, std::vector<std::string> titles = {});

  const std::string& version() const { return manifest_.version(); }
  const v1::Manifest& manifest() const { return manifest_; }
  const ItemTable& items() const { return items_; }
  const std::vector<Space>& spaces() const { return spaces_; }
  const UserStore& users() const { return *users_; }

  // The space called `name`, or nullptr.
  const Space* FindSpace(absl::string_view name) const;
  // The vector table called `name` ("tags", "media"), or nullptr.
  const VectorTable* FindTable(absl::string_view name) const;
  const std::vector<Clustering>& clusterings() const { return clusterings_; }
  // The user clustering called `name`, or nullptr.
  const Clustering* FindClustering(absl::string_view name) const;
  // The ranked lists called `name` ("itemcf", "hot"), or nullptr.
  const NamedLists* FindLists(absl::string_view name) const;
  // The title of snapshot item `row` (MANIFEST titles: what people read on
  // the debug page; recall never uses it); empty when it has none.
  absl::string_view Title(ItemRow row) const;

 private:
  Snapshot(v1::Manifest manifest, ItemTable items, std::vector<Space> spaces,
           std::unique_ptr<UserStore> users, std::vector<VectorTable> tables,
           std::vector<Clustering> clusterings, std::vector<NamedLists> lists,
           std::vector<std::string> titles);

  v1::Manifest manifest_;
  ItemTable items_;
  std::vector<Space> spaces_;
  std::unique_ptr<UserStore> users_;
  std::vector<VectorTable> tables_;
  std::vector<Clustering> clusterings_;
  std::vector<NamedLists> lists_;
  std::vector<std::string> titles_;  // by row; empty: no titles
};

}  // namespace recall

#endif  // RECALL_RECALL_SNAPSHOT_H_
