#include "recall/snapshot.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "index/faiss_index.h"
#include "index/index_factory.h"
#include "store/snapshot_files.h"
#include "store/version_layout.h"
#include "util/parallel.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

// A query that cannot fail on a healthy index: the first basis vector.
absl::Status SmokeQuery(const Space& space, int32_t item_count) {
  const IndexHandle& index = *space.index;
  std::vector<float> query(index.dim(), 0.0f);
  query[0] = 1.0f;
  std::vector<Neighbor> result;
  RETURN_IF_ERROR(index.Search(query.data(), 10, SearchParams{}, &result));
  if (result.empty()) {
    return absl::DataLossError(absl::StrCat("space ", space.manifest.name(),
                                            ": smoke query found nothing"));
  }
  for (const Neighbor& n : result) {
    if (n.row < 0 || n.row >= item_count) {
      return absl::DataLossError(absl::StrCat(
          "space ", space.manifest.name(), ": smoke query returned row ", n.row,
          " outside the item table"));
    }
  }
  std::vector<float> v(index.dim());
  return index.Reconstruct(result[0].row, v.data());
}

// Loads and verifies one VectorTableManifest: ids file and Flat index.
absl::StatusOr<VectorTable> LoadVectorTable(const std::string& dir,
                                            const v1::VectorTableManifest& tm) {
  RETURN_IF_ERROR(VerifyFileRef(dir, tm.ids()));
  RETURN_IF_ERROR(VerifyFileRef(dir, tm.index()));
  const std::string ids_path = (fs::path(dir) / tm.ids().path()).string();
  ASSIGN_OR_RETURN(std::vector<std::string> ids, ReadIdList(ids_path));
  ASSIGN_OR_RETURN(
      std::unique_ptr<IndexHandle> index,
      LoadFaissIndex((fs::path(dir) / tm.index().path()).string(), "Flat"));
  if (static_cast<int64_t>(ids.size()) != tm.count() ||
      index->size() != tm.count() || index->dim() != tm.dim()) {
    return absl::DataLossError(absl::StrCat(
        ids_path, ": table \"", tm.name(), "\" has ", ids.size(), " ids and ",
        index->size(), " vectors of dim ", index->dim(), ", MANIFEST says ",
        tm.count(), " of dim ", tm.dim()));
  }
  VectorTable table =
      MakeVectorTable(tm.name(), std::move(ids), std::move(index));
  table.manifest = tm;
  return table;
}

// Loads and verifies one clustering: its cluster table and k-means centres.
absl::StatusOr<Clustering> LoadClustering(const std::string& dir,
                                          const v1::ClusteringManifest& cm) {
  Clustering clustering;
  clustering.manifest = cm;
  RETURN_IF_ERROR(VerifyFileRef(dir, cm.clusters()));
  const std::string table_path =
      (fs::path(dir) / cm.clusters().path()).string();
  ASSIGN_OR_RETURN(clustering.table, ReadClusterTable(table_path));
  if (clustering.table.clusters_size() != cm.k()) {
    return absl::DataLossError(
        absl::StrCat(table_path, ": ", clustering.table.clusters_size(),
                     " clusters, MANIFEST says ", cm.k()));
  }
  if (cm.has_centres()) {
    RETURN_IF_ERROR(VerifyFileRef(dir, cm.centres()));
    ASSIGN_OR_RETURN(
        clustering.centres,
        LoadFaissIndex((fs::path(dir) / cm.centres().path()).string(), "Flat"));
    if (clustering.centres->size() != cm.k() ||
        clustering.centres->dim() != cm.dim()) {
      return absl::DataLossError(
          absl::StrCat(cm.centres().path(), ": ", clustering.centres->size(),
                       " centres of dim ", clustering.centres->dim(),
                       ", MANIFEST says ", cm.k(), " of dim ", cm.dim()));
    }
  }
  IndexClustering(&clustering);
  return clustering;
}

// Loads and verifies one set of ranked lists; item-keyed lists need one list
// per item.
absl::StatusOr<NamedLists> LoadLists(const std::string& dir,
                                     const v1::RankedListsManifest& lm,
                                     int64_t item_count) {
  RETURN_IF_ERROR(VerifyFileRef(dir, lm.file()));
  const std::string path = (fs::path(dir) / lm.file().path()).string();
  ASSIGN_OR_RETURN(RankedLists lists, RankedLists::Read(path, item_count));
  if (lists.size() != lm.keys() || lists.entries() != lm.entries() ||
      (!lists.named() && lists.size() != item_count)) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", lists.size(), " keys and ", lists.entries(),
        " entries, MANIFEST says ", lm.keys(), " and ", lm.entries(),
        lists.named() ? "" : absl::StrCat(" (and ", item_count, " items)")));
  }
  return NamedLists{lm, std::move(lists)};
}

// Runs every task, on up to one thread per core; returns the first failure
// in `tasks` order (all run to the end either way).
absl::Status RunAll(const std::vector<std::function<absl::Status()>>& tasks) {
  std::vector<absl::Status> results(tasks.size());
  ParallelFor(static_cast<int64_t>(tasks.size()), /*threads=*/0, /*block=*/1,
              [&](int64_t i) { results[i] = tasks[i](); });
  for (absl::Status& status : results) RETURN_IF_ERROR(status);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<const RankedLists>> LoadNeighbourTable(
    const std::string& dir, const v1::NeighbourTableManifest& tm,
    int64_t item_count) {
  RETURN_IF_ERROR(VerifyFileRef(dir, tm.file()));
  const std::string path = (fs::path(dir) / tm.file().path()).string();
  ASSIGN_OR_RETURN(RankedLists lists, RankedLists::Read(path, item_count));
  if (lists.key_kind() != ListKeys::kItemRows || lists.size() != tm.items() ||
      lists.entries() != tm.entries()) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", lists.size(), " item lists and ", lists.entries(),
        " entries, MANIFEST says ", tm.items(), " and ", tm.entries()));
  }
  for (int64_t i = 0; i < lists.size(); ++i) {
    absl::Span<const RankedEntry> list = lists.List(i);
    if (static_cast<int64_t>(list.size()) > tm.k() ||
        (!list.empty() && list.back().score < tm.min_similarity())) {
      return absl::DataLossError(absl::StrCat(
          path, ": item row ", lists.rows()[i], " has ", list.size(),
          " neighbours down to ", list.empty() ? 0.0f : list.back().score,
          ", MANIFEST says at most k=", tm.k(), " and none under ",
          tm.min_similarity()));
    }
  }
  return std::make_unique<const RankedLists>(std::move(lists));
}

Snapshot::Snapshot(v1::Manifest manifest, ItemTable items,
                   std::vector<Space> spaces, std::unique_ptr<UserStore> users,
                   std::vector<VectorTable> tables,
                   std::vector<Clustering> clusterings,
                   std::vector<NamedLists> lists,
                   std::vector<std::string> titles)
    : manifest_(std::move(manifest)),
      items_(std::move(items)),
      spaces_(std::move(spaces)),
      users_(std::move(users)),
      tables_(std::move(tables)),
      clusterings_(std::move(clusterings)),
      lists_(std::move(lists)),
      titles_(std::move(titles)) {}

std::shared_ptr<const Snapshot> Snapshot::FromParts(
    v1::Manifest manifest, ItemTable items, std::vector<Space> spaces,
    std::unique_ptr<UserStore> users, std::vector<VectorTable> tables,
    std::vector<Clustering> clusterings, std::vector<NamedLists> lists,
    std::vector<std::string> titles) {
  return std::shared_ptr<const Snapshot>(
      new Snapshot(std::move(manifest), std::move(items), std::move(spaces),
                   std::move(users), std::move(tables), std::move(clusterings),
                   std::move(lists), std::move(titles)));
}

absl::string_view Snapshot::Title(ItemRow row) const {
  if (row < 0 || static_cast<size_t>(row) >= titles_.size()) return {};
  return titles_[static_cast<size_t>(row)];
}

const NamedLists* Snapshot::FindLists(absl::string_view name) const {
  for (const NamedLists& lists : lists_) {
    if (lists.name() == name) return &lists;
  }
  return nullptr;
}

void IndexClustering(Clustering* clustering) {
  clustering->via.clear();
  clustering->assigned_via.clear();
  for (const v1::Cluster& cluster : clustering->table.clusters()) {
    std::string via = absl::StrCat(clustering->name(), "/", cluster.id(), "/",
                                   cluster.label());
    clustering->assigned_via.push_back(absl::StrCat(via, " (assigned)"));
    clustering->via.push_back(std::move(via));
  }
}

const Clustering* Snapshot::FindClustering(absl::string_view name) const {
  for (const Clustering& clustering : clusterings_) {
    if (clustering.name() == name) return &clustering;
  }
  return nullptr;
}

VectorTable MakeVectorTable(std::string name, std::vector<std::string> ids,
                            std::unique_ptr<IndexHandle> index) {
  VectorTable table;
  table.manifest.set_name(std::move(name));
  table.manifest.set_dim(index->dim());
  table.manifest.set_count(static_cast<int64_t>(ids.size()));
  for (size_t i = 0; i < ids.size(); ++i) {
    table.row_of.emplace(ids[i], static_cast<int32_t>(i));
  }
  table.ids = std::move(ids);
  table.index = std::move(index);
  return table;
}

const VectorTable* Snapshot::FindTable(absl::string_view name) const {
  for (const VectorTable& table : tables_) {
    if (table.manifest.name() == name) return &table;
  }
  return nullptr;
}

const Space* Snapshot::FindSpace(absl::string_view name) const {
  for (const Space& space : spaces_) {
    if (space.manifest.name() == name) return &space;
  }
  return nullptr;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Snapshot::Load(
    const std::string& root, const std::string& version) {
  const std::string dir = (fs::path(root) / version).string();
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot, LoadFromDir(dir));
  if (snapshot->version() != version) {
    return absl::DataLossError(absl::StrCat(dir, "/MANIFEST: version \"",
                                            snapshot->version(),
                                            "\" does not match its directory"));
  }
  return snapshot;
}

namespace {

// A space's index, checked against its MANIFEST entry and by a smoke query,
// with its neighbour table when it has one.
absl::StatusOr<Space> LoadSpace(const std::string& dir,
                                const v1::SpaceManifest& sm,
                                int64_t item_count) {
  RETURN_IF_ERROR(VerifyFileRef(dir, sm.index()));
  const std::string path = (fs::path(dir) / sm.index().path()).string();
  ASSIGN_OR_RETURN(std::unique_ptr<IndexHandle> index,
                   LoadIndex(path, sm.factory(), sm.ef_search()));
  if (index->dim() != sm.dim() || index->size() != sm.count()) {
    return absl::DataLossError(absl::StrCat(
        path, ": index has dim ", index->dim(), " and ", index->size(),
        " vectors, MANIFEST says dim ", sm.dim(), " and ", sm.count()));
  }
  Space space{sm, std::move(index)};
  RETURN_IF_ERROR(SmokeQuery(space, item_count));
  if (sm.has_neighbours()) {
    ASSIGN_OR_RETURN(space.neighbours,
                     LoadNeighbourTable(dir, sm.neighbours(), item_count));
  }
  return space;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> Snapshot::LoadFromDir(
    const std::string& dir) {
  ASSIGN_OR_RETURN(v1::Manifest manifest, ReadManifest(dir));
  const v1::Manifest& m = manifest;
  // Every part reads, checksums and checks its own files independently of
  // the others (the item count comes from the MANIFEST and is checked
  // against the table at the end), so they load on every core; the first
  // failure in MANIFEST order is the error, as if they loaded one by one.
  const int64_t item_count = m.items().count();
  std::vector<std::function<absl::Status()>> tasks;
  ItemTable items;
  std::vector<std::string> titles;
  tasks.push_back([&]() -> absl::Status {
    RETURN_IF_ERROR(VerifyFileRef(dir, m.items().file()));
    ASSIGN_OR_RETURN(
        items,
        ItemTable::ReadTsv((fs::path(dir) / m.items().file().path()).string()));
    if (items.size() != item_count) {
      return absl::DataLossError(
          absl::StrCat(dir, ": item table has ", items.size(),
                       " rows, MANIFEST says ", item_count));
    }
    if (!m.has_titles()) return absl::OkStatus();
    RETURN_IF_ERROR(VerifyFileRef(dir, m.titles()));
    ASSIGN_OR_RETURN(
        titles,
        ReadTitlesTsv((fs::path(dir) / m.titles().path()).string(), items));
    return absl::OkStatus();
  });
  std::vector<Space> spaces(m.spaces_size());
  for (int i = 0; i < m.spaces_size(); ++i) {
    tasks.push_back([&, i]() -> absl::Status {
      ASSIGN_OR_RETURN(spaces[i], LoadSpace(dir, m.spaces(i), item_count));
      return absl::OkStatus();
    });
  }
  std::unique_ptr<UserStore> users;
  tasks.push_back([&]() -> absl::Status {
    for (const v1::FileRef& ref : m.store().files()) {
      RETURN_IF_ERROR(VerifyFileRef(dir, ref));
    }
    ASSIGN_OR_RETURN(users, OpenRocksDbUserStore(
                                (fs::path(dir) / m.store().dir()).string()));
    return absl::OkStatus();
  });
  std::vector<VectorTable> tables(m.tables_size());
  for (int i = 0; i < m.tables_size(); ++i) {
    tasks.push_back([&, i]() -> absl::Status {
      ASSIGN_OR_RETURN(tables[i], LoadVectorTable(dir, m.tables(i)));
      return absl::OkStatus();
    });
  }
  std::vector<Clustering> clusterings(m.clusterings_size());
  for (int i = 0; i < m.clusterings_size(); ++i) {
    tasks.push_back([&, i]() -> absl::Status {
      ASSIGN_OR_RETURN(clusterings[i], LoadClustering(dir, m.clusterings(i)));
      return absl::OkStatus();
    });
  }
  std::vector<NamedLists> lists(m.lists_size());
  for (int i = 0; i < m.lists_size(); ++i) {
    tasks.push_back([&, i]() -> absl::Status {
      ASSIGN_OR_RETURN(lists[i], LoadLists(dir, m.lists(i), item_count));
      return absl::OkStatus();
    });
  }
  RETURN_IF_ERROR(RunAll(tasks));
  return FromParts(std::move(manifest), std::move(items), std::move(spaces),
                   std::move(users), std::move(tables), std::move(clusterings),
                   std::move(lists), std::move(titles));
}

}  // namespace recall
