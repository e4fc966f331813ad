#include "pipeline/snapshot/cluster_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "index/faiss_index.h"
#include "pipeline/snapshot/clustering.h"
#include "store/snapshot_files.h"
#include "store/user_store.h"
#include "store/version_layout.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

absl::Status SpecError(const v1::ClusteringSpec& spec,
                       absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("clustering \"", spec.name(), "\": ", problem));
}

// The users that have a vector in every space of `spec`, and their
// (concatenated) vectors.
absl::Status UserMatrix(const v1::ClusteringSpec& spec, const ClusterInputs& in,
                        std::vector<int32_t>* users, std::vector<float>* matrix,
                        int* dim) {
  if (spec.spaces().empty())
    return SpecError(spec, "k-means needs at least one space");
  std::vector<const VectorSet*> sets;
  for (const std::string& space : spec.spaces()) {
    auto it = std::find_if(
        in.spaces.begin(), in.spaces.end(),
        [&](const UserSpaceVectors& s) { return s.space == space; });
    if (it == in.spaces.end()) {
      return SpecError(
          spec, absl::StrCat("no user vectors in space \"", space, "\""));
    }
    sets.push_back(it->vectors);
  }
  // Row of each user in each set.
  std::vector<absl::flat_hash_map<std::string, size_t>> rows(sets.size());
  for (size_t s = 0; s < sets.size(); ++s) {
    for (size_t i = 0; i < sets[s]->size(); ++i)
      rows[s].emplace(sets[s]->ids[i], i);
  }
  std::vector<std::vector<float>> parts(sets.size());
  std::vector<int> dims;
  for (const VectorSet* set : sets) dims.push_back(set->dim);
  const std::vector<std::string>& ids = in.log->users();
  for (size_t u = 0; u < ids.size(); ++u) {
    bool everywhere = true;
    for (size_t s = 0; s < sets.size() && everywhere; ++s)
      everywhere = rows[s].contains(ids[u]);
    if (!everywhere) continue;
    users->push_back(static_cast<int32_t>(u));
    for (size_t s = 0; s < sets.size(); ++s) {
      const float* v = sets[s]->row(rows[s].at(ids[u]));
      parts[s].insert(parts[s].end(), v, v + sets[s]->dim);
    }
  }
  if (users->empty())
    return SpecError(spec, "no user has a vector in every space");
  if (sets.size() == 1) {
    *matrix = std::move(parts[0]);
    *dim = dims[0];
    return absl::OkStatus();
  }
  std::vector<absl::Span<const float>> spans(parts.begin(), parts.end());
  ASSIGN_OR_RETURN(
      *matrix,
      ConcatenateSpaces(spans, dims, static_cast<int64_t>(users->size())));
  *dim = 0;
  for (int d : dims) *dim += d;
  return absl::OkStatus();
}

// The previous version's centres of clustering `name`, and its memberships
// by user id.
absl::StatusOr<Centres> PreviousCentres(const v1::ClusteringSpec& spec,
                                        const std::string& previous_dir,
                                        int dim) {
  if (previous_dir.empty()) {
    return SpecError(
        spec, "stable_centres needs a previous version in the output root");
  }
  ASSIGN_OR_RETURN(v1::Manifest previous, ReadManifest(previous_dir));
  for (const v1::ClusteringManifest& cm : previous.clusterings()) {
    if (cm.spec().name() != spec.name() || !cm.has_centres()) continue;
    ASSIGN_OR_RETURN(
        auto index,
        LoadFaissIndex((fs::path(previous_dir) / cm.centres().path()).string(),
                       "Flat"));
    if (index->dim() != dim || index->size() < 1) {
      return SpecError(
          spec,
          absl::StrCat("previous centres: ", index->size(), " of dim ",
                       index->dim(), ", the users' vectors have dim ", dim));
    }
    Centres centres;
    centres.k = static_cast<int>(index->size());
    centres.dim = dim;
    centres.values.resize(static_cast<size_t>(centres.k) * dim);
    for (int c = 0; c < centres.k; ++c) {
      RETURN_IF_ERROR(index->Reconstruct(c, centres.values.data() + c * dim));
    }
    return centres;
  }
  return SpecError(
      spec,
      absl::StrCat("stable_centres: the previous version ", previous.version(),
                   " has no k-means clustering of that name"));
}

// How many of `users` had a different top cluster in the previous version.
int64_t ChangedClusters(const std::string& clustering,
                        const std::string& previous_dir,
                        const ClusterInputs& in,
                        const std::vector<int32_t>& users,
                        const std::vector<std::vector<Membership>>& now) {
  auto store = OpenRocksDbUserStore(
      (fs::path(previous_dir) / layout::kStoreDir).string());
  if (!store.ok()) return -1;
  int64_t changed = 0;
  v1::UserRecord record;
  for (size_t i = 0; i < users.size(); ++i) {
    auto found = (*store)->Get(in.log->users()[users[i]], &record);
    if (!found.ok() || !*found) continue;
    for (const v1::ClusterMembership& m : record.clusters()) {
      if (m.clustering() != clustering) continue;
      changed += m.cluster() != now[i][0].cluster;
      break;
    }
  }
  return changed;
}

// Sizes, merged profiles and members' most-clicked items of each cluster.
// Profiles and clicks count with the member's weight in the cluster. An
// empty label (k-means) becomes "c<id>:" and the profile's top two tags,
// e.g. "c7:airlines_t18+hotels_t30", so that `via` says what a cluster is.
v1::ClusterTable MakeTable(
    int k, const std::vector<std::string>& labels, const ClusterInputs& in,
    const std::vector<int32_t>& users,
    const std::vector<std::vector<Membership>>& memberships,
    int items_per_cluster, double half_life_s) {
  std::vector<absl::flat_hash_map<std::string, std::pair<double, std::string>>>
      tags(k);
  std::vector<absl::flat_hash_map<ItemRow, double>> clicked(k);
  v1::ClusterTable table;
  for (int c = 0; c < k; ++c) {
    v1::Cluster* cluster = table.add_clusters();
    cluster->set_id(c);
    cluster->set_label(labels[c]);
  }
  for (size_t i = 0; i < users.size(); ++i) {
    const int32_t u = users[i];
    table.mutable_clusters(memberships[i][0].cluster)
        ->set_size(table.clusters(memberships[i][0].cluster).size() + 1);
    for (const Membership& m : memberships[i]) {
      if (static_cast<size_t>(u) < in.profiles->size()) {
        for (const v1::TagWeight& t : (*in.profiles)[u]) {
          auto& [weight, category] = tags[m.cluster][t.tag()];
          weight += m.weight * t.weight();
          if (category.empty()) category = t.category();
        }
      }
      for (const UserClick& click : in.log->ClicksOf(u)) {
        const double age = std::max<int64_t>(0, in.reference_time - click.ts);
        clicked[m.cluster][click.item] +=
            m.weight * std::exp2(-age / half_life_s);
      }
    }
  }
  for (int c = 0; c < k; ++c) {
    v1::Cluster* cluster = table.mutable_clusters(c);
    std::vector<std::pair<double, std::string>> by_weight;
    for (const auto& [tag, wc] : tags[c]) by_weight.emplace_back(wc.first, tag);
    std::sort(
        by_weight.begin(), by_weight.end(), [](const auto& a, const auto& b) {
          return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
    for (size_t j = 0; j < by_weight.size() && j < 50; ++j) {
      v1::TagWeight* t = cluster->add_profile();
      t->set_tag(by_weight[j].second);
      t->set_category(tags[c][by_weight[j].second].second);
      t->set_weight(static_cast<float>(by_weight[j].first));
    }
    if (cluster->label().empty()) {
      std::string label = absl::StrCat("c", c);
      for (int j = 0; j < cluster->profile_size() && j < 2; ++j) {
        absl::StrAppend(&label, j == 0 ? ":" : "+", cluster->profile(j).tag());
      }
      cluster->set_label(label);
    }
    std::vector<std::pair<double, ItemRow>> items;
    for (const auto& [row, score] : clicked[c]) items.emplace_back(score, row);
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (size_t j = 0;
         j < items.size() && static_cast<int>(j) < items_per_cluster; ++j) {
      v1::ClusterItem* item = cluster->add_items();
      item->set_item_row(static_cast<uint32_t>(items[j].second));
      item->set_score(static_cast<float>(items[j].first));
    }
  }
  return table;
}

absl::StatusOr<v1::FileRef> WriteTable(const v1::ClusterTable& table,
                                       const std::string& dir,
                                       const std::string& name) {
  const std::string relative = layout::ClusterTable(name);
  RETURN_IF_ERROR(
      WriteClusterTable((fs::path(dir) / relative).string(), table));
  return MakeFileRef(dir, relative);
}

// A k-means clustering (spec.kind "kmeans"): the users with vectors in the
// spec's spaces, their nearest centres, and the centres' index file.
absl::Status KMeansClustering(const v1::ClusteringSpec& spec,
                              const ClusterInputs& in, const std::string& dir,
                              v1::ClusteringManifest* manifest,
                              std::vector<int32_t>* users,
                              std::vector<std::vector<Membership>>* assigned,
                              std::vector<std::string>* labels) {
  std::vector<float> matrix;
  int dim = 0;
  RETURN_IF_ERROR(UserMatrix(spec, in, users, &matrix, &dim));
  const int64_t n = static_cast<int64_t>(users->size());
  KMeansOptions options;
  Centres centres;
  if (spec.stable_centres()) {
    ASSIGN_OR_RETURN(centres,
                     PreviousCentres(spec, in.previous_version_dir, dim));
  } else if (spec.k_range_size() > 0) {
    std::vector<int> ks(spec.k_range().begin(), spec.k_range().end());
    std::sort(ks.begin(), ks.end());
    ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
    std::vector<double> inertias;
    // The sweep trains every candidate k: the chosen one's centres are kept.
    ASSIGN_OR_RETURN(options.k, ChooseKByElbow(matrix.data(), n, dim, ks,
                                               options, &inertias, &centres));
    std::vector<std::string> report;
    for (size_t j = 0; j < ks.size(); ++j) {
      report.push_back(absl::StrCat("k=", ks[j], ": ", inertias[j]));
    }
    fprintf(stderr, "build: clustering %s: inertia %s; elbow chose k=%d\n",
            spec.name().c_str(), absl::StrJoin(report, ", ").c_str(),
            options.k);
  } else {
    options.k = spec.k();
    if (options.k < 1 || options.k > n) {
      return SpecError(spec, absl::StrCat("k=", options.k, " is not in [1, ", n,
                                          " users with vectors]"));
    }
    absl::StatusOr<Centres> trained =
        TrainKMeans(matrix.data(), n, dim, options);
    if (!trained.ok()) return SpecError(spec, trained.status().message());
    centres = std::move(*trained);
  }
  double inertia = 0;
  *assigned = AssignToCentres(matrix.data(), n, centres,
                              spec.top_n() > 0 ? spec.top_n() : 1, &inertia);
  fprintf(stderr, "build: clustering %s: k=%d over %lld users, inertia %.1f\n",
          spec.name().c_str(), centres.k, static_cast<long long>(n), inertia);
  if (spec.stable_centres()) {
    const int64_t changed = ChangedClusters(
        spec.name(), in.previous_version_dir, in, *users, *assigned);
    if (changed >= 0) {
      fprintf(stderr, "build: clustering %s: %lld users changed cluster\n",
              spec.name().c_str(), static_cast<long long>(changed));
    } else {
      fprintf(stderr, "build: clustering %s: previous memberships unreadable\n",
              spec.name().c_str());
    }
  }
  labels->assign(centres.k, "");  // named after their profiles below
  FaissBuildOptions flat;
  flat.factory = "Flat";
  ASSIGN_OR_RETURN(
      auto index, BuildFaissIndex(flat, dim, centres.values.data(), centres.k));
  const std::string relative = layout::ClusterCentres(spec.name());
  RETURN_IF_ERROR(WriteFaissIndex(*index, (fs::path(dir) / relative).string()));
  ASSIGN_OR_RETURN(*manifest->mutable_centres(), MakeFileRef(dir, relative));
  manifest->set_dim(dim);
  manifest->set_k(centres.k);
  return absl::OkStatus();
}

// A rule clustering (spec.kind "rules"): every user, labelled by its top
// profile tags (see ClusterByRules).
void RulesClustering(const v1::ClusteringSpec& spec, const ClusterInputs& in,
                     v1::ClusteringManifest* manifest,
                     std::vector<int32_t>* users,
                     std::vector<std::vector<Membership>>* assigned,
                     std::vector<std::string>* labels) {
  std::vector<std::vector<Interest>> interests;
  for (size_t u = 0; u < in.log->users().size(); ++u) {
    users->push_back(static_cast<int32_t>(u));
    std::vector<Interest>& mine = interests.emplace_back();
    if (u < in.profiles->size()) {
      for (const v1::TagWeight& t : (*in.profiles)[u])
        mine.push_back({t.tag(), t.weight()});
    }
  }
  RuleClusteringOptions options;
  if (spec.max_k() > 0) options.max_k = spec.max_k();
  if (spec.min_size() > 0) options.min_size = spec.min_size();
  RuleClusters rules = ClusterByRules(interests, options);
  for (int32_t c : rules.cluster_of) assigned->push_back({{c, 1.0f}});
  *labels = rules.labels;
  manifest->set_k(static_cast<int32_t>(labels->size()));
  fprintf(stderr, "build: clustering %s: %s\n", spec.name().c_str(),
          SizeDistribution(rules.sizes).c_str());
}

}  // namespace

absl::StatusOr<std::vector<v1::ClusteringManifest>> BuildClusterings(
    const v1::ClusteringConfig& config, const ClusterInputs& in,
    const std::string& dir,
    std::vector<std::vector<v1::ClusterMembership>>* memberships) {
  RETURN_IF_ERROR(layout::CreateDirs(dir));
  memberships->resize(in.log->users().size());
  const int items_per_cluster =
      config.items_per_cluster() > 0 ? config.items_per_cluster() : 500;
  const double half_life_s = 3600.0 * (config.click_half_life_hours() > 0
                                           ? config.click_half_life_hours()
                                           : 72.0);
  std::vector<v1::ClusteringManifest> manifests;
  for (const v1::ClusteringSpec& spec : config.clusterings()) {
    if (spec.name().empty() || spec.name().find('/') != std::string::npos) {
      return SpecError(spec, "needs a name without '/'");
    }
    for (const auto& m : manifests) {
      if (m.spec().name() == spec.name())
        return SpecError(spec, "duplicate name");
    }
    const absl::Time start = absl::Now();
    v1::ClusteringManifest manifest;
    *manifest.mutable_spec() = spec;
    std::vector<int32_t> users;
    std::vector<std::vector<Membership>> assigned;
    std::vector<std::string> labels;
    if (spec.kind() == "kmeans") {
      RETURN_IF_ERROR(KMeansClustering(spec, in, dir, &manifest, &users,
                                       &assigned, &labels));
    } else if (spec.kind() == "rules") {
      RulesClustering(spec, in, &manifest, &users, &assigned, &labels);
    } else {
      return SpecError(spec, absl::StrCat("unknown kind \"", spec.kind(),
                                          "\" (want kmeans or rules)"));
    }
    const v1::ClusterTable table =
        MakeTable(manifest.k(), labels, in, users, assigned, items_per_cluster,
                  half_life_s);
    if (spec.kind() == "kmeans") {
      std::vector<int64_t> sizes;
      for (const v1::Cluster& c : table.clusters()) sizes.push_back(c.size());
      fprintf(stderr, "build: clustering %s: %s\n", spec.name().c_str(),
              SizeDistribution(sizes).c_str());
    }
    ASSIGN_OR_RETURN(*manifest.mutable_clusters(),
                     WriteTable(table, dir, spec.name()));
    fprintf(stderr, "build: clustering %s: done in %.1f s\n",
            spec.name().c_str(), absl::ToDoubleSeconds(absl::Now() - start));
    for (size_t i = 0; i < users.size(); ++i) {
      for (const Membership& m : assigned[i]) {
        v1::ClusterMembership* out = &(*memberships)[users[i]].emplace_back();
        out->set_clustering(spec.name());
        out->set_cluster(m.cluster);
        out->set_weight(m.weight);
      }
    }
    manifests.push_back(std::move(manifest));
  }
  return manifests;
}

}  // namespace recall
