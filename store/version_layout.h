// The layout of one snapshot version directory: every file it holds, the
// path each has (relative to the version directory, as the MANIFEST's
// FileRefs record them), and which module encodes it. This header and the
// codecs it names are the only code that knows the on-disk format; the
// builder (pipeline/snapshot) writes through them and the loader
// (recall/snapshot.cc) reads through them.
//
//   MANIFEST                text-format recall.v1.Manifest: what follows,
//                           with sizes and CRC32Cs (store/snapshot_files.h)
//   items.tsv               the item table (store/item_table.h)
//   titles.tsv              the items' titles, when the world had them
//                           (store/item_table.h)
//   spaces/<space>.<ext>    one vector index per space, ext by backend
//                           (index/index_factory.h: .faiss, .hnswlib;
//                           snapshots before 2026-12-07 wrote .faiss for
//                           both: the MANIFEST's factory says which)
//   tables/<name>.ids       a vector table's ids, one per line (here)
//   tables/<name>.faiss     its vectors, Flat inner product (index/)
//   clusters/<name>.pb      binary recall.v1.ClusterTable (here)
//   clusters/<name>.faiss   a k-means clustering's centres, Flat (index/)
//   lists/<name>.rl         ranked lists, "itemcf" and "hot"
//                           (store/ranked_lists.h)
//   lists/<space>.neighbours.rl
//                           a space's i2i neighbour table, key = item row
//                           (store/ranked_lists.h)
//   store/                  the RocksDB user store (store/user_store.h)
//
// The root holding versions: see store/snapshot_files.h (CURRENT, LOCK).
#ifndef RECALL_STORE_VERSION_LAYOUT_H_
#define RECALL_STORE_VERSION_LAYOUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/recall/v1/snapshot.pb.h"

namespace recall {
namespace layout {

inline constexpr char kItems[] = "items.tsv";
inline constexpr char kTitles[] = "titles.tsv";
inline constexpr char kStoreDir[] = "store";

// `extension` from IndexFileExtension (index/index_factory.h).
std::string SpaceIndex(absl::string_view space, absl::string_view extension);
std::string TableIds(absl::string_view table);
std::string TableIndex(absl::string_view table);
std::string ClusterTable(absl::string_view clustering);
std::string ClusterCentres(absl::string_view clustering);
std::string Lists(absl::string_view name);
std::string Neighbours(absl::string_view space);

// Creates the subdirectories a version's files live in (spaces/, tables/,
// clusters/, lists/) under `version_dir`.
absl::Status CreateDirs(const std::string& version_dir);

}  // namespace layout

// tables/<name>.ids: one id per line, row i is line i. Ids never contain a
// newline (the builder's inputs are line-based).
absl::Status WriteIdList(const std::string& path,
                         const std::vector<std::string>& ids);
// NOT_FOUND when the file cannot be opened.
absl::StatusOr<std::vector<std::string>> ReadIdList(const std::string& path);

// clusters/<name>.pb: a binary recall.v1.ClusterTable.
absl::Status WriteClusterTable(const std::string& path,
                               const v1::ClusterTable& table);
// NOT_FOUND when the file cannot be opened; DATA_LOSS "PATH: not a
// ClusterTable" when it does not parse.
absl::StatusOr<v1::ClusterTable> ReadClusterTable(const std::string& path);

}  // namespace recall

#endif  // RECALL_STORE_VERSION_LAYOUT_H_
