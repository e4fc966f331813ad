#include "pipeline/snapshot/builder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "index/faiss_index.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/word2vec_io.h"
#include "pipeline/snapshot/click_lists.h"
#include "pipeline/snapshot/cluster_builder.h"
#include "pipeline/snapshot/neighbours.h"
#include "pipeline/snapshot/profiles.h"
#include "pipeline/snapshot/spaces.h"
#include "pipeline/snapshot/takedowns.h"
#include "pipeline/snapshot/user_records.h"
#include "recall/engine.h"
#include "recall/snapshot.h"
#include "store/item_table.h"
#include "store/snapshot_files.h"
#include "store/version_layout.h"
#include "util/line_error.h"
#include "util/parallel.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

using build_spaces::FindSpaces;
using build_spaces::ItemVectors;
using build_spaces::kTag2vec;
using build_spaces::ReadItemVectors;
using build_spaces::ReadOptionalVectors;
using build_spaces::ReadUserVectors;
using build_spaces::ReportItemsWithoutVector;
using build_spaces::UserVectors;
using build_spaces::WriteSpace;
using build_spaces::WriteVectorTable;

// Reads clicks.tsv (optional). Clicks on items missing from items.tsv are
// skipped and counted: click logs outlive articles.
absl::Status ReadClicks(const std::string& input_dir, const ItemTable& items,
                        ClickLog* log, int64_t* skipped) {
  const std::string path = (fs::path(input_dir) / "clicks.tsv").string();
  if (!fs::exists(path)) return absl::OkStatus();
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  return ReadClickRows(
             in, path,
             [&](absl::string_view user, absl::string_view item, int64_t ts) {
               const ItemRow row = items.Find(item);
               if (row == kNoItem) {
                 ++*skipped;
               } else {
                 log->AddClick(log->AddUser(user), row, ts);
               }
             })
      .status();
}

// The policy from --policy FILE (text-format recall.v1.Policy), or an empty
// one (the engine then derives the default).
absl::StatusOr<v1::Policy> ReadPolicy(const std::string& path) {
  v1::Policy policy;
  if (!path.empty()) RETURN_IF_ERROR(ReadTextProto(path, &policy));
  return policy;
}

std::string DefaultVersion(const std::string& root) {
  const std::string base =
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone());
  std::string version = base;
  for (int i = 2; fs::exists(fs::path(root) / version); ++i)
    version = absl::StrCat(base, "-", i);
  return version;
}

absl::Status SyncTree(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    RETURN_IF_ERROR(SyncPath(entry.path().string()));
  }
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  return SyncPath(dir);
}

// Builds the policy's channels against `snapshot`, as a server will, and
// returns the policy as the engine completed it (default back-fill). An
// error names the channel whose policy is wrong.
absl::StatusOr<v1::Policy> CheckPolicy(std::shared_ptr<const Snapshot> snapshot,
                                       v1::Policy policy) {
  RegisterBuiltinChannels();
  EngineOptions engine_options;
  engine_options.policy = std::move(policy);
  ASSIGN_OR_RETURN(
      std::unique_ptr<RecallEngine> engine,
      RecallEngine::Create(std::move(snapshot), std::move(engine_options)));
  return engine->policy();
}

// Prints "build: stage NAME S s" as each stage of a build ends, so that
// the time a new article waits for a snapshot can be attributed.
class StageClock {
 public:
  void End(const char* stage) {
    const absl::Time now = absl::Now();
    fprintf(stderr, "build: stage %-9s %6.1f s\n", stage,
            absl::ToDoubleSeconds(now - last_));
    last_ = now;
  }

 private:
  absl::Time last_ = absl::Now();
};

// The world's spaces: one index each, and the user vectors that come with
// them (appended to `user_vectors`).
absl::Status WriteSpaces(const BuildOptions& options, const ItemTable& items,
                         const absl::flat_hash_set<std::string>& taken_down,
                         const std::vector<std::string>& space_names,
                         const std::string& dir, v1::Manifest* manifest,
                         std::vector<UserVectors>* user_vectors) {
  for (const std::string& name : space_names) {
    ASSIGN_OR_RETURN(
        ItemVectors vectors,
        ReadItemVectors(options.input_dir, items, name, taken_down));
    ReportItemsWithoutVector(name, items, vectors.rows);
    const absl::Time start = absl::Now();
    ASSIGN_OR_RETURN(v1::SpaceManifest space,
                     WriteSpace(options, name, vectors, dir));
    fprintf(stderr, "build: space %s: %lld vectors, %s index in %.1f s\n",
            name.c_str(), static_cast<long long>(space.count()),
            space.factory().c_str(),
            absl::ToDoubleSeconds(absl::Now() - start));
    UserVectors uv;
    ASSIGN_OR_RETURN(bool has_users,
                     ReadUserVectors(options.input_dir, space, &uv));
    if (has_users) {
      space.set_user_count(static_cast<int64_t>(uv.vectors.size()));
      user_vectors->push_back(std::move(uv));
    }
    *manifest->add_spaces() = std::move(space);
  }
  return absl::OkStatus();
}

// The "tags" and "media" vector tables when the world has them, and the
// tag2vec space derived from the tags (articles as their top tags, users as
// their profile) unless the world brings its own.
absl::Status WriteTagTables(
    const BuildOptions& options, const ItemTable& items,
    std::optional<VectorSet> tag_set, std::optional<VectorSet> media_set,
    const std::vector<std::string>& space_names,
    const std::vector<std::vector<v1::TagWeight>>& profiles,
    const ClickLog& log, const std::string& dir, v1::Manifest* manifest,
    std::vector<UserVectors>* user_vectors) {
  ASSIGN_OR_RETURN(TagCombine combine,
                   ParseTagCombine(options.tag2vec_combine));
  if (tag_set.has_value()) {
    ASSIGN_OR_RETURN(*manifest->add_tables(),
                     WriteVectorTable("tags", *tag_set, dir));
    const VectorLookup tags(std::move(*tag_set));
    if (std::find(space_names.begin(), space_names.end(), kTag2vec) ==
        space_names.end()) {
      // The tag2vec space: articles as their top tags, users as their profile.
      ItemVectors vectors;
      vectors.dim = tags.dim();
      Tag2vecItemVectors(items, tags, combine, options.tag2vec_top_tags,
                         &vectors.rows, &vectors.data);
      if (vectors.rows.empty()) {
        return absl::InvalidArgumentError(
            "vectors/tags.vec: no item has a tag with a vector (tag2vec would "
            "be empty)");
      }
      ASSIGN_OR_RETURN(v1::SpaceManifest space,
                       WriteSpace(options, kTag2vec, vectors, dir));
      space.mutable_derived_from_tags()->set_combine(options.tag2vec_combine);
      space.mutable_derived_from_tags()->set_top_tags(options.tag2vec_top_tags);
      UserVectors uv{std::string(kTag2vec), {}};
      uv.vectors.dim = tags.dim();
      std::vector<float> v(tags.dim());
      for (size_t u = 0; u < profiles.size(); ++u) {
        if (!ProfileVector(profiles[u], tags, v.data())) continue;
        uv.vectors.ids.push_back(log.users()[u]);
        uv.vectors.values.insert(uv.vectors.values.end(), v.begin(), v.end());
      }
      space.set_user_count(static_cast<int64_t>(uv.vectors.size()));
      if (!uv.vectors.ids.empty()) user_vectors->push_back(std::move(uv));
      *manifest->add_spaces() = std::move(space);
    }
  }
  if (media_set.has_value()) {
    ASSIGN_OR_RETURN(*manifest->add_tables(),
                     WriteVectorTable("media", *media_set, dir));
  }

  return absl::OkStatus();
}

// The user clusterings of --clusters (none without it): their files and
// manifests, and each user's memberships for the user store.
absl::Status WriteClusterings(
    const BuildOptions& options, const ItemTable& items, int64_t newest,
    ClickLog* log, const std::vector<std::vector<v1::TagWeight>>& profiles,
    const std::vector<UserVectors>& user_vectors, const std::string& dir,
    v1::Manifest* manifest,
    std::vector<std::vector<v1::ClusterMembership>>* memberships) {
  // Clusterings see every user with a vector or a click.
  for (const UserVectors& uv : user_vectors) {
    for (const std::string& id : uv.vectors.ids) log->AddUser(id);
  }
  if (!options.clusters_file.empty()) {
    v1::ClusteringConfig config;
    RETURN_IF_ERROR(ReadTextProto(options.clusters_file, &config));
    ClusterInputs inputs;
    inputs.items = &items;
    inputs.reference_time = newest;
    inputs.log = log;
    inputs.profiles = &profiles;
    for (const UserVectors& uv : user_vectors)
      inputs.spaces.push_back({uv.space, &uv.vectors});
    if (absl::StatusOr<std::string> current = ReadCurrent(options.out_root);
        current.ok()) {
      inputs.previous_version_dir =
          (fs::path(options.out_root) / *current).string();
    }
    absl::StatusOr<std::vector<v1::ClusteringManifest>> clusterings =
        BuildClusterings(config, inputs, dir, memberships);
    if (!clusterings.ok()) {
      return absl::Status(clusterings.status().code(),
                          absl::StrCat(options.clusters_file, ": ",
                                       clusterings.status().message()));
    }
    for (v1::ClusteringManifest& cm : *clusterings)
      *manifest->add_clusterings() = std::move(cm);
  }
  return absl::OkStatus();
}

// What a build reads from the world before it writes anything.
struct BuildInputs {
  absl::flat_hash_set<std::string> taken_down;  // --takedowns
  ItemTable items;                              // less those taken down
  std::vector<std::string> space_names;
  v1::Policy policy;
  std::optional<VectorSet> tag_set;
  std::optional<VectorSet> media_set;
  // By row of `items`; empty when the world has no titles.tsv.
  std::vector<std::string> titles;
};

// Reads the takedowns, the items (at least one must be left), the spaces,
// the policy and the tag and media vectors; fails early on a bad
// --tag2vec_combine, before any work.
absl::StatusOr<BuildInputs> ReadBuildInputs(const BuildOptions& options) {
  BuildInputs in;
  const std::string items_path =
      (fs::path(options.input_dir) / "items.tsv").string();
  ASSIGN_OR_RETURN(in.taken_down, ReadTakedowns(options.takedowns_file));
  ASSIGN_OR_RETURN(ItemTable all_items, ItemTable::ReadTsv(items_path));
  in.items = WithoutItems(std::move(all_items), in.taken_down);
  if (in.items.size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(items_path, ": every item is taken down (--takedowns)"));
  }
  ASSIGN_OR_RETURN(in.space_names, FindSpaces(options.input_dir));
  RETURN_IF_ERROR(ParseTagCombine(options.tag2vec_combine).status());
  ASSIGN_OR_RETURN(in.policy, ReadPolicy(options.policy_file));
  ASSIGN_OR_RETURN(in.tag_set, ReadOptionalVectors(options.input_dir, "tags"));
  ASSIGN_OR_RETURN(in.media_set,
                   ReadOptionalVectors(options.input_dir, "media"));
  const fs::path titles = fs::path(options.input_dir) / layout::kTitles;
  if (fs::exists(titles)) {
    ASSIGN_OR_RETURN(in.titles, ReadTitlesTsv(titles.string(), in.items));
  }
  return in;
}

// Starts `version`'s manifest, its reference time the newest publish time
// of `items`, creates its folders in `dir` and writes its items.tsv and,
// when there are `titles` (by row of `items`), its titles.tsv.
absl::StatusOr<v1::Manifest> StartVersion(
    const std::string& dir, const std::string& version, const ItemTable& items,
    const std::vector<std::string>& titles) {
  v1::Manifest manifest;
  manifest.set_format_version(kManifestFormatVersion);
  manifest.set_version(version);
  manifest.set_created_at_unix(absl::ToUnixSeconds(absl::Now()));
  int64_t newest = 0;
  for (const Item& item : items.items()) {
    newest = std::max(newest, item.publish_ts);
  }
  manifest.set_reference_time_unix(newest);

  RETURN_IF_ERROR(layout::CreateDirs(dir));
  RETURN_IF_ERROR(items.WriteTsv((fs::path(dir) / layout::kItems).string()));
  ASSIGN_OR_RETURN(*manifest.mutable_items()->mutable_file(),
                   MakeFileRef(dir, layout::kItems));
  manifest.mutable_items()->set_count(items.size());
  if (!titles.empty()) {
    RETURN_IF_ERROR(WriteTitlesTsv((fs::path(dir) / layout::kTitles).string(),
                                   items, titles));
    ASSIGN_OR_RETURN(*manifest.mutable_titles(),
                     MakeFileRef(dir, layout::kTitles));
  }
  return manifest;
}

// Each user's tag profile (tags of clicked items, recency-weighted as of
// `newest`), indexed like log.users().
std::vector<std::vector<v1::TagWeight>> UserProfiles(
    const BuildOptions& options, const ItemTable& items, const ClickLog& log,
    int64_t newest) {
  std::vector<std::vector<v1::TagWeight>> profiles(log.users().size());
  ParallelFor(static_cast<int64_t>(profiles.size()), 0, 256, [&](int64_t u) {
    profiles[u] = UserTagProfile(log.ClicksOf(static_cast<int32_t>(u)), items,
                                 newest, options.profile_half_life_days * 86400,
                                 options.profile_tags);
  });
  return profiles;
}

// Loads what was written in `dir`, as a server will, and builds the
// policy's channels against it: a policy naming a missing space or an
// unknown kind stops the build here, before anything is published. Sets
// the manifest's policy to the policy as the engine completed it, and
// returns the loaded snapshot.
absl::StatusOr<std::shared_ptr<const Snapshot>> LoadAndCheckPolicy(
    const BuildOptions& options, const std::string& dir, v1::Policy policy,
    v1::Manifest* manifest) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                   Snapshot::LoadFromDir(dir));
  absl::StatusOr<v1::Policy> checked = CheckPolicy(snapshot, std::move(policy));
  if (!checked.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.policy_file.empty() ? "default policy" : options.policy_file,
        ": ", checked.status().message()));
  }
  *manifest->mutable_policy() = *std::move(checked);
  return snapshot;
}

// The neighbour tables follow the policy as the engine completed it (the
// default policy's i2i channels when there was no --policy), so they come
// after the first load, `snapshot`, which verified everything else; the
// tables are then verified as a server's load would (LoadNeighbourTable),
// the rest is not read again. Writes the manifest, with the tables when
// there are any.
absl::Status WriteNeighboursAndReverify(
    const BuildOptions& options, const ItemTable& items, const ClickLog& log,
    const std::string& dir, std::shared_ptr<const Snapshot>* snapshot,
    StageClock* clock, v1::Manifest* manifest) {
  const NamedLists* hot = (*snapshot)->FindLists("hot");
  const std::vector<int32_t> seed_rows = build_neighbours::SeedRows(
      manifest->policy(), log, hot == nullptr ? nullptr : &hot->lists,
      items.size(), options.neighbours_all_items);
  ASSIGN_OR_RETURN(const int tables,
                   build_neighbours::WriteNeighbourTables(
                       **snapshot, manifest->policy(), options.neighbours,
                       seed_rows, dir, manifest));
  snapshot->reset();
  if (tables == 0) return WriteManifest(dir, *manifest);
  clock->End("neighbours");
  RETURN_IF_ERROR(WriteManifest(dir, *manifest));
  std::vector<const v1::NeighbourTableManifest*> written;
  for (const v1::SpaceManifest& space : manifest->spaces()) {
    if (space.has_neighbours()) written.push_back(&space.neighbours());
  }
  std::vector<absl::Status> checked(written.size());
  ParallelFor(static_cast<int64_t>(written.size()), /*threads=*/0,
              /*block=*/1, [&](int64_t i) {
                checked[i] =
                    LoadNeighbourTable(dir, *written[i], items.size()).status();
              });
  for (const absl::Status& status : checked) RETURN_IF_ERROR(status);
  clock->End("reverify");
  return absl::OkStatus();
}

absl::StatusOr<v1::Manifest> BuildInto(const BuildOptions& options,
                                       const std::string& dir,
                                       const std::string& version) {
  StageClock clock;
  ASSIGN_OR_RETURN(BuildInputs in, ReadBuildInputs(options));
  const ItemTable& items = in.items;
  ASSIGN_OR_RETURN(v1::Manifest manifest,
                   StartVersion(dir, version, items, in.titles));
  const int64_t newest = manifest.reference_time_unix();
  clock.End("read");

  // Clicks first: user profiles feed the tag2vec user vectors.
  ClickLog log;
  int64_t skipped_clicks = 0;
  RETURN_IF_ERROR(ReadClicks(options.input_dir, items, &log, &skipped_clicks));
  log.Finish();
  RETURN_IF_ERROR(BuildClickLists(options.itemcf, options.hot_half_life_hours,
                                  options.hot_items, items, log, dir,
                                  &manifest));
  clock.End("lists");
  const std::vector<std::vector<v1::TagWeight>> profiles =
      UserProfiles(options, items, log, newest);
  clock.End("profiles");

  std::vector<UserVectors> user_vectors;
  const BuildOptions indexing =
      build_spaces::WithExactUnsearchedSpaces(options, in.policy);
  RETURN_IF_ERROR(WriteSpaces(indexing, items, in.taken_down, in.space_names,
                              dir, &manifest, &user_vectors));
  clock.End("spaces");
  RETURN_IF_ERROR(WriteTagTables(indexing, items, std::move(in.tag_set),
                                 std::move(in.media_set), in.space_names,
                                 profiles, log, dir, &manifest, &user_vectors));
  clock.End("tables");
  std::vector<std::vector<v1::ClusterMembership>> memberships;
  RETURN_IF_ERROR(WriteClusterings(options, items, newest, &log, profiles,
                                   user_vectors, dir, &manifest, &memberships));
  clock.End("clusters");

  RETURN_IF_ERROR(build_users::WriteUserStore(
      options, dir, user_vectors, log, profiles, memberships, &manifest));
  clock.End("store");
  if (skipped_clicks > 0) {
    fprintf(stderr,
            "build: skipped %lld clicks on items missing from items.tsv\n",
            static_cast<long long>(skipped_clicks));
  }
  RETURN_IF_ERROR(ValidateManifest(manifest));
  RETURN_IF_ERROR(WriteManifest(dir, manifest));

  ASSIGN_OR_RETURN(
      std::shared_ptr<const Snapshot> snapshot,
      LoadAndCheckPolicy(options, dir, std::move(in.policy), &manifest));
  clock.End("verify");
  RETURN_IF_ERROR(WriteNeighboursAndReverify(options, items, log, dir,
                                             &snapshot, &clock, &manifest));
  RETURN_IF_ERROR(SyncTree(dir));
  clock.End("sync");
  return manifest;
}

// Deletes versions beyond the `keep` newest (by MANIFEST creation time, ties
// by name), never the one just published nor the one it replaced: servers
// follow CURRENT within their reload interval, so only those two can be in
// use. Also deletes ROOT/.<version>.tmp folders that interrupted builds left
// and nobody has written to for kAbandonedBuildAge (a build still running
// writes to its own folder far more often than that).
constexpr auto kAbandonedBuildAge = std::chrono::hours(6);

void RemoveOldVersions(const std::string& root, int keep,
                       const std::string& current,
                       const std::string& previous) {
  std::vector<std::pair<int64_t, std::string>> versions;
  std::vector<std::string> abandoned;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty()) continue;
    if (name[0] == '.') {
      const auto written = entry.last_write_time(ec);
      if (!ec && absl::EndsWith(name, ".tmp") &&
          fs::file_time_type::clock::now() - written > kAbandonedBuildAge) {
        abandoned.push_back(name);
      }
      continue;
    }
    absl::StatusOr<v1::Manifest> m = ReadManifest(entry.path().string());
    if (m.ok()) versions.emplace_back(m->created_at_unix(), name);
  }
  for (const std::string& name : abandoned) {
    fs::remove_all(fs::path(root) / name, ec);
    fprintf(stderr, "build: removed abandoned build %s\n", name.c_str());
  }
  std::sort(versions.begin(), versions.end(), std::greater<>());
  for (size_t i = static_cast<size_t>(keep); i < versions.size(); ++i) {
    const std::string& name = versions[i].second;
    if (name == current || name == previous) continue;
    fs::remove_all(fs::path(root) / name, ec);
    fprintf(stderr, "build: removed old version %s\n", name.c_str());
  }
}

}  // namespace

absl::StatusOr<v1::Manifest> BuildSnapshot(const BuildOptions& options) {
  for (const auto& [space, factory] : options.space_factory) {
    if (space.empty() || factory.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--space_index: want SPACE=FACTORY, got \"", space, "=",
                       factory, "\""));
    }
  }
  std::error_code ec;
  fs::create_directories(options.out_root, ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat(options.out_root, ": ", ec.message()));
  // One build per ROOT at a time: two would pick the same version name
  // within a second and share its temp folder. The lock is released when
  // the process ends, however it ends.
  const std::string lock_path = (fs::path(options.out_root) / "LOCK").string();
  const int lock_fd =
      open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return absl::InternalError(
        absl::StrCat(lock_path, ": cannot open: ", strerror(errno)));
  }
  struct LockGuard {
    int fd;
    ~LockGuard() { close(fd); }  // closing releases the flock
  } lock_guard{lock_fd};
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "another build holds ", lock_path, "; wait for it to finish"));
  }
  const std::string version = options.version.empty()
                                  ? DefaultVersion(options.out_root)
                                  : options.version;
  const fs::path final_dir = fs::path(options.out_root) / version;
  if (fs::exists(final_dir)) {
    return absl::AlreadyExistsError(absl::StrCat(
        final_dir.string(), ": version exists; versions are immutable"));
  }
  const fs::path tmp_dir =
      fs::path(options.out_root) / ("." + version + ".tmp");
  fs::remove_all(tmp_dir, ec);

  absl::StatusOr<v1::Manifest> manifest =
      BuildInto(options, tmp_dir.string(), version);
  if (!manifest.ok()) {
    fs::remove_all(tmp_dir, ec);
    return manifest.status();
  }
  fs::rename(tmp_dir, final_dir, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("rename to ", final_dir.string(), ": ", ec.message()));
  RETURN_IF_ERROR(SyncPath(options.out_root));
  // The version servers follow until they notice the new CURRENT.
  absl::StatusOr<std::string> previous = ReadCurrent(options.out_root);
  RETURN_IF_ERROR(PublishCurrent(options.out_root, version));
  if (options.keep_versions > 0) {
    RemoveOldVersions(options.out_root, options.keep_versions, version,
                      previous.ok() ? *previous : "");
  }
  return manifest;
}

absl::Status PublishVersion(const std::string& root,
                            const std::string& version) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                   Snapshot::Load(root, version));
  v1::Policy policy = snapshot->manifest().policy();
  if (absl::Status s =
          CheckPolicy(std::move(snapshot), std::move(policy)).status();
      !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat((fs::path(root) / version / "MANIFEST").string(),
                     ": policy: ", s.message()));
  }
  return PublishCurrent(root, version);
}

}  // namespace recall
