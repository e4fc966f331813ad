// The store stage of a build; see pipeline/snapshot/user_records.h.
#include "pipeline/snapshot/user_records.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "store/snapshot_files.h"
#include "store/user_store.h"
#include "store/version_layout.h"
#include "util/status_macros.h"

namespace recall {
namespace build_users {

using build_spaces::UserVectors;

namespace {

namespace fs = std::filesystem;

// Writes the RocksDB user store's records: for every user with a vector or
// a click, its vectors, newest clicks, seen items, tag profile and cluster
// memberships. The number of users.
absl::StatusOr<int64_t> WriteUserRecords(
    const BuildOptions& options, const std::string& dir,
    const std::vector<UserVectors>& user_vectors, ClickLog& log,
    const std::vector<std::vector<v1::TagWeight>>& profiles,
    const std::vector<std::vector<v1::ClusterMembership>>& memberships) {
  // vector position per (space, user)
  std::vector<absl::flat_hash_map<int32_t, size_t>> vector_of(
      user_vectors.size());
  for (size_t s = 0; s < user_vectors.size(); ++s) {
    const VectorSet& vs = user_vectors[s].vectors;
    for (size_t i = 0; i < vs.size(); ++i) {
      vector_of[s][log.AddUser(vs.ids[i])] = i;
    }
  }
  const std::vector<std::string>& ids = log.users();
  std::vector<int32_t> order(ids.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(),
            [&ids](int32_t a, int32_t b) { return ids[a] < ids[b]; });

  ASSIGN_OR_RETURN(
      auto writer,
      UserStoreWriter::Open((fs::path(dir) / layout::kStoreDir).string()));
  v1::UserRecord record;
  absl::flat_hash_set<ItemRow> seen;
  for (int32_t u : order) {
    record.Clear();
    for (size_t s = 0; s < user_vectors.size(); ++s) {
      auto it = vector_of[s].find(u);
      if (it == vector_of[s].end()) continue;
      v1::UserVector* v = record.add_vectors();
      v->set_space(user_vectors[s].space);
      const float* values = user_vectors[s].vectors.row(it->second);
      v->mutable_values()->Add(values, values + user_vectors[s].vectors.dim);
    }
    seen.clear();
    for (const UserClick& c : log.ClicksOf(u)) {  // newest first
      if (record.recent_clicks_size() < options.recent_clicks) {
        v1::Click* click = record.add_recent_clicks();
        click->set_item_row(static_cast<uint32_t>(c.item));
        click->set_ts(c.ts);
      }
      if (static_cast<int>(seen.size()) < options.seen_items &&
          seen.insert(c.item).second) {
        record.add_seen_rows(static_cast<uint32_t>(c.item));
      }
    }
    if (static_cast<size_t>(u) < profiles.size()) {
      for (const v1::TagWeight& t : profiles[u]) *record.add_tags() = t;
    }
    if (static_cast<size_t>(u) < memberships.size()) {
      for (const v1::ClusterMembership& m : memberships[u])
        *record.add_clusters() = m;
    }
    RETURN_IF_ERROR(writer->Add(ids[u], record));
  }
  RETURN_IF_ERROR(writer->Finish());
  return writer->count();
}

// Lists the store's files (sorted by name) with their checksums, but for
// RocksDB's info logs and lock file, which a read-only open may touch.
absl::Status AddStoreFileRefs(const std::string& dir,
                              v1::StoreManifest* store) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry :
       fs::directory_iterator(fs::path(dir) / store->dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || absl::StartsWith(name, "LOG") ||
        name == "LOCK") {
      continue;
    }
    names.push_back(name);
  }
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(*store->add_files(),
                     MakeFileRef(dir, store->dir() + "/" + name));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteUserStore(
    const BuildOptions& options, const std::string& dir,
    const std::vector<UserVectors>& user_vectors, ClickLog& log,
    const std::vector<std::vector<v1::TagWeight>>& profiles,
    const std::vector<std::vector<v1::ClusterMembership>>& memberships,
    v1::Manifest* manifest) {
  ASSIGN_OR_RETURN(
      int64_t user_count,
      WriteUserRecords(options, dir, user_vectors, log, profiles, memberships));
  manifest->mutable_store()->set_dir(layout::kStoreDir);
  manifest->mutable_store()->set_user_count(user_count);
  return AddStoreFileRefs(dir, manifest->mutable_store());
}

}  // namespace build_users
}  // namespace recall
