#include "pipeline/snapshot/spaces.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "index/faiss_index.h"
#include "index/index_factory.h"
#include "store/snapshot_files.h"
#include "store/version_layout.h"
#include "util/line_error.h"
#include "util/status_macros.h"

namespace recall {
namespace build_spaces {

namespace fs = std::filesystem;

namespace {

constexpr char kItemVecSuffix[] = ".item.vec";
constexpr char kUserVecSuffix[] = ".user.vec";

// Line of vector i in a word2vec file (the header is line 1).
int64_t VectorLine(size_t i) { return static_cast<int64_t>(i) + 2; }

// Normalises `vectors` in place, naming the file and line of a zero vector.
absl::Status Normalize(const std::string& path, VectorSet* vectors) {
  int64_t bad = 0;
  if (NormalizeRows(vectors->values.data(),
                    static_cast<int64_t>(vectors->size()), vectors->dim, &bad)
          .ok()) {
    return absl::OkStatus();
  }
  return LineError(path, VectorLine(bad), "zero vector (cannot be normalised)");
}

// The index factory of `space`: --space_index's entry, else Flat for an
// "mf" space of at most kExactMfItems vectors (its MIPS-reduced vectors all
// share one norm and mostly one direction, which HNSW graphs search badly:
// Recall@100 0.13 against 0.37 exact on MovieLens), else --index.
constexpr size_t kExactMfItems = 200000;

std::string SpaceFactory(const BuildOptions& options, const std::string& space,
                         size_t count) {
  auto it = options.space_factory.find(space);
  if (it != options.space_factory.end()) return it->second;
  if (space == "mf" && count <= kExactMfItems) return "Flat";
  return options.factory;
}

}  // namespace

BuildOptions WithExactUnsearchedSpaces(const BuildOptions& options,
                                       const v1::Policy& policy) {
  // space -> an enabled channel or an i2i channel searches it
  std::map<std::string, bool> searched;
  for (const v1::ChannelPolicy& channel : policy.channels()) {
    if (channel.space().empty()) continue;
    searched[channel.space()] |= !channel.disabled() || channel.kind() == "i2i";
  }
  BuildOptions out = options;
  for (const auto& [space, enabled] : searched) {
    if (enabled || options.space_factory.count(space) > 0) continue;
    out.space_factory[space] = "Flat";
    fprintf(stderr,
            "build: %s: Flat index, no graph (the policy's channels over it "
            "are all disabled; --space_index %s=FACTORY builds one)\n",
            space.c_str(), space.c_str());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> FindSpaces(
    const std::string& input_dir) {
  const fs::path dir = fs::path(input_dir) / "vectors";
  std::vector<std::string> spaces;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, kItemVecSuffix)) {
      spaces.push_back(name.substr(0, name.size() - strlen(kItemVecSuffix)));
    }
  }
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat(dir.string(), ": ", ec.message()));
  if (spaces.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir.string(), ": no <space>", kItemVecSuffix, " files (empty input)"));
  }
  std::sort(spaces.begin(), spaces.end());
  return spaces;
}

absl::StatusOr<ItemVectors> ReadItemVectors(
    const std::string& input_dir, const ItemTable& items,
    const std::string& space,
    const absl::flat_hash_set<std::string>& taken_down) {
  const std::string path =
      (fs::path(input_dir) / "vectors" / (space + kItemVecSuffix)).string();
  ASSIGN_OR_RETURN(VectorSet vectors, ReadWord2VecText(path));
  RETURN_IF_ERROR(Normalize(path, &vectors));
  // Faiss ids are item rows: order vectors by row.
  std::vector<std::pair<ItemRow, size_t>> order;
  order.reserve(vectors.size());
  for (size_t i = 0; i < vectors.size(); ++i) {
    ItemRow row = items.Find(vectors.ids[i]);
    if (row == kNoItem && taken_down.contains(vectors.ids[i])) continue;
    if (row == kNoItem) {
      return LineError(
          path, VectorLine(i),
          absl::StrCat("item \"", vectors.ids[i], "\" is not in items.tsv"));
    }
    order.emplace_back(row, i);
  }
  std::sort(order.begin(), order.end());
  ItemVectors out;
  out.dim = vectors.dim;
  out.data.resize(order.size() * vectors.dim);
  out.rows.resize(order.size());
  for (size_t j = 0; j < order.size(); ++j) {
    out.rows[j] = order[j].first;
    std::copy_n(vectors.row(order[j].second), vectors.dim,
                out.data.data() + j * vectors.dim);
  }
  return out;
}

void ReportItemsWithoutVector(const std::string& space, const ItemTable& items,
                              const std::vector<int32_t>& rows) {
  if (static_cast<int64_t>(rows.size()) >= items.size()) return;
  std::vector<bool> has(items.size(), false);
  for (int32_t row : rows) has[row] = true;
  std::string examples;
  int shown = 0;
  for (ItemRow row = 0; row < items.size() && shown < 5; ++row) {
    if (has[row]) continue;
    absl::StrAppend(&examples, shown++ > 0 ? ", " : "", items.item(row).id);
  }
  fprintf(
      stderr, "build: space %s: %lld of %lld items have no vector (%s%s)\n",
      space.c_str(),
      static_cast<long long>(items.size() - static_cast<int64_t>(rows.size())),
      static_cast<long long>(items.size()), examples.c_str(),
      items.size() - static_cast<int64_t>(rows.size()) > shown ? ", ..." : "");
}

absl::StatusOr<v1::SpaceManifest> WriteSpace(const BuildOptions& options,
                                             const std::string& space,
                                             const ItemVectors& vectors,
                                             const std::string& dir) {
  IndexBuildOptions index_options;
  index_options.factory = SpaceFactory(options, space, vectors.rows.size());
  index_options.hnsw_ef_construction = options.ef_construction;
  index_options.hnsw_ef_search = options.ef_search;
  absl::StatusOr<std::unique_ptr<IndexHandle>> index =
      BuildIndex(index_options, vectors.dim, vectors.data.data(),
                 static_cast<int64_t>(vectors.rows.size()), vectors.rows);
  if (!index.ok()) {
    return absl::Status(
        index.status().code(),
        absl::StrCat("space \"", space, "\": ", index.status().message()));
  }
  const std::string relative =
      layout::SpaceIndex(space, IndexFileExtension(index_options.factory));
  RETURN_IF_ERROR(WriteIndex(**index, (fs::path(dir) / relative).string()));

  v1::SpaceManifest manifest;
  manifest.set_name(space);
  ASSIGN_OR_RETURN(*manifest.mutable_index(), MakeFileRef(dir, relative));
  manifest.set_dim(vectors.dim);
  manifest.set_metric(v1::METRIC_INNER_PRODUCT);
  manifest.set_factory(index_options.factory);
  manifest.set_count(static_cast<int64_t>(vectors.rows.size()));
  manifest.set_ef_search(options.ef_search);
  manifest.set_nprobe(options.nprobe);
  return manifest;
}

absl::StatusOr<std::optional<VectorSet>> ReadOptionalVectors(
    const std::string& input_dir, const std::string& name) {
  const std::string path =
      (fs::path(input_dir) / "vectors" / (name + ".vec")).string();
  if (!fs::exists(path)) return std::nullopt;
  ASSIGN_OR_RETURN(VectorSet vectors, ReadWord2VecText(path));
  RETURN_IF_ERROR(Normalize(path, &vectors));
  return vectors;
}

absl::StatusOr<v1::VectorTableManifest> WriteVectorTable(
    const std::string& name, const VectorSet& vectors, const std::string& dir) {
  const std::string ids = layout::TableIds(name);
  const std::string index_file = layout::TableIndex(name);
  RETURN_IF_ERROR(WriteIdList((fs::path(dir) / ids).string(), vectors.ids));
  FaissBuildOptions flat;
  flat.factory = "Flat";
  ASSIGN_OR_RETURN(auto index,
                   BuildFaissIndex(flat, vectors.dim, vectors.values.data(),
                                   static_cast<int64_t>(vectors.size())));
  RETURN_IF_ERROR(
      WriteFaissIndex(*index, (fs::path(dir) / index_file).string()));
  v1::VectorTableManifest manifest;
  manifest.set_name(name);
  ASSIGN_OR_RETURN(*manifest.mutable_ids(), MakeFileRef(dir, ids));
  ASSIGN_OR_RETURN(*manifest.mutable_index(), MakeFileRef(dir, index_file));
  manifest.set_dim(vectors.dim);
  manifest.set_count(static_cast<int64_t>(vectors.size()));
  return manifest;
}

absl::StatusOr<bool> ReadUserVectors(const std::string& input_dir,
                                     const v1::SpaceManifest& space,
                                     UserVectors* out) {
  const std::string path =
      (fs::path(input_dir) / "vectors" / (space.name() + kUserVecSuffix))
          .string();
  if (!fs::exists(path)) return false;
  ASSIGN_OR_RETURN(out->vectors, ReadWord2VecText(path));
  if (out->vectors.dim != space.dim()) {
    return LineError(
        path, 1,
        absl::StrCat("wrong dimension: user vectors have ", out->vectors.dim,
                     ", item vectors of space \"", space.name(), "\" have ",
                     space.dim()));
  }
  RETURN_IF_ERROR(Normalize(path, &out->vectors));
  out->space = space.name();
  return true;
}

}  // namespace build_spaces
}  // namespace recall
