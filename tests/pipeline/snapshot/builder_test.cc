#include "pipeline/snapshot/builder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index_handle.h"
#include "pipeline/data/gen_world.h"
#include "recall/snapshot.h"
#include "store/item_table.h"
#include "store/snapshot_files.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

class BuilderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new fs::path(fs::path(::testing::TempDir()) /
                          ("builder_world_" + std::to_string(::getpid())));
    GenWorldOptions options;
    options.items = 400;
    options.users = 60;
    options.dim = 8;
    options.mean_clicks_per_user = 5;
    ASSERT_TRUE(GenerateWorld(options, world_->string()).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*world_);
    delete world_;
  }

  void SetUp() override {
    fs::copy(*world_, input_, fs::copy_options::recursive);
  }

  BuildOptions Options(const std::string& version = "") const {
    BuildOptions o;
    o.input_dir = input_;
    o.out_root = root_;
    o.factory = "Flat";
    o.version = version;
    return o;
  }

  // Rewrites line `line_no` (1-based) of `path` with `f(line)`.
  static void EditLine(
      const fs::path& path, int line_no,
      const std::function<std::string(const std::string&)>& f) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    lines[line_no - 1] = f(lines[line_no - 1]);
    std::ofstream out(path, std::ios::trunc);
    for (const std::string& line : lines) out << line << "\n";
  }

  // Expects the build to fail with INVALID_ARGUMENT mentioning every part.
  void ExpectRejected(const std::vector<std::string>& parts) {
    absl::StatusOr<v1::Manifest> m = BuildSnapshot(Options("bad"));
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument)
        << m.status();
    for (const std::string& part : parts)
      EXPECT_THAT(m.status().message(), HasSubstr(part));
    EXPECT_FALSE(fs::exists(root_ / "bad"));
    EXPECT_FALSE(fs::exists(root_ / ".bad.tmp"));
  }

  static fs::path* world_;
  ScopedTempDir tmp_{"builder_test"};
  const fs::path dir_{tmp_.dir()};
  const fs::path input_{dir_ / "world"};
  const fs::path root_{dir_ / "root"};
};
fs::path* BuilderTest::world_ = nullptr;

TEST_F(BuilderTest, BuildsAVerifiableSnapshotAndPublishesIt) {
  auto m = BuildSnapshot(Options("v1"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(*ReadCurrent(root_), "v1");
  EXPECT_EQ(m->items().count(), 400);
  std::map<std::string, int64_t> users_per_space;
  for (const auto& space : m->spaces())
    users_per_space[space.name()] = space.user_count();
  // dssm has user vectors; tag2vec is derived from the tag vectors, with a
  // user vector per user with a profile; item2vec and title2vec are items only.
  EXPECT_EQ(
      users_per_space,
      (std::map<std::string, int64_t>{
          {"dssm", 60}, {"item2vec", 0}, {"tag2vec", 60}, {"title2vec", 0}}));
  ASSERT_EQ(m->tables_size(), 2);
  EXPECT_EQ(m->tables(0).name(), "tags");
  EXPECT_EQ(m->tables(1).name(), "media");
  EXPECT_EQ(m->store().user_count(), 60);
  EXPECT_GT(m->policy().channels_size(), 0);  // the default, written out

  auto snapshot = Snapshot::Load(root_, "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  v1::UserRecord user;
  ASSERT_TRUE(*(*snapshot)->users().Get("u0000001", &user));
  ASSERT_EQ(user.vectors_size(), 2);  // dssm, tag2vec
  EXPECT_EQ(user.vectors(0).values_size(), 8);
  ASSERT_GT(user.recent_clicks_size(), 0);
  for (int i = 1; i < user.recent_clicks_size(); ++i) {
    EXPECT_GE(user.recent_clicks(i - 1).ts(),
              user.recent_clicks(i).ts());  // newest first
  }
  // Seen: every distinct clicked item; the profile: tags of clicked items.
  std::set<uint32_t> clicked;
  for (const auto& c : user.recent_clicks()) clicked.insert(c.item_row());
  EXPECT_EQ(
      std::set<uint32_t>(user.seen_rows().begin(), user.seen_rows().end()),
      clicked);
  ASSERT_GT(user.tags_size(), 0);
  for (int i = 1; i < user.tags_size(); ++i) {
    EXPECT_GE(user.tags(i - 1).weight(), user.tags(i).weight());
  }
  const ItemTable& items = (*snapshot)->items();
  bool tag_was_clicked = false;
  for (uint32_t row : clicked) {
    for (const auto& [tag, w] : items.item(row).tags)
      tag_was_clicked |= tag == user.tags(0).tag();
  }
  EXPECT_TRUE(tag_was_clicked);
}

TEST_F(BuilderTest, TitlesAreKeptInTheSnapshotForPeopleToRead) {
  auto items = ItemTable::ReadTsv((input_ / "items.tsv").string());
  ASSERT_TRUE(items.ok());
  std::vector<std::string> titles(static_cast<size_t>(items->size()));
  titles[0] = "<script>first</script>";
  titles[2] = "third";
  ASSERT_TRUE(
      WriteTitlesTsv((input_ / "titles.tsv").string(), *items, titles).ok());
  auto m = BuildSnapshot(Options("v1"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->titles().path(), "titles.tsv");
  auto snapshot = Snapshot::Load(root_, "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ((*snapshot)->Title(0), "<script>first</script>");
  EXPECT_EQ((*snapshot)->Title(1), "");
  EXPECT_EQ((*snapshot)->Title(2), "third");
  EXPECT_EQ((*snapshot)->Title(kNoItem), "");
}

TEST_F(BuilderTest, TakenDownItemsAreLeftOutWithTheirVectorsAndClicks) {
  auto all = BuildSnapshot(Options("all"));
  ASSERT_TRUE(all.ok()) << all.status();
  auto full = Snapshot::Load(root_, "all");
  ASSERT_TRUE(full.ok());
  const std::string a = (*full)->items().item(3).id;
  const std::string b = (*full)->items().item(200).id;
  std::ofstream(dir_ / "takedowns.txt") << "# taken down on 2026-12-06\n"
                                        << a << "\n\n  " << b << "  \n";
  BuildOptions options = Options("without");
  options.takedowns_file = (dir_ / "takedowns.txt").string();
  auto m = BuildSnapshot(options);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->items().count(), 398);
  auto snapshot = Snapshot::Load(root_, "without");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ((*snapshot)->items().Find(a), kNoItem);
  EXPECT_EQ((*snapshot)->items().Find(b), kNoItem);
  for (const Space& space : (*snapshot)->spaces()) {
    const Space* before = (*full)->FindSpace(space.manifest.name());
    EXPECT_EQ(space.manifest.count() + 2, before->manifest.count())
        << space.manifest.name();
  }
  // A bad id names the file and line.
  std::ofstream(dir_ / "bad.txt") << "ok\nbad\tid\n";
  options.takedowns_file = (dir_ / "bad.txt").string();
  options.version = "bad";
  auto bad = BuildSnapshot(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.txt:2"));
  EXPECT_THAT(bad.status().message(), HasSubstr("tab or newline"));
}

TEST_F(BuilderTest, Tag2vecArticleIsTheNormalisedSumOfItsTopThreeTags) {
  ASSERT_TRUE(BuildSnapshot(Options("v1")).ok());
  auto snapshot = Snapshot::Load(root_, "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const VectorTable* tags = (*snapshot)->FindTable("tags");
  const Space* tag2vec = (*snapshot)->FindSpace("tag2vec");
  ASSERT_NE(tags, nullptr);
  ASSERT_NE(tag2vec, nullptr);
  const int dim = tag2vec->index->dim();
  for (ItemRow row : {0, 17, 123}) {
    auto item_tags = (*snapshot)->items().item(row).tags;
    std::stable_sort(
        item_tags.begin(), item_tags.end(),
        [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<float> want(dim, 0), tv(dim), got(dim);
    int used = 0;
    for (const auto& [tag, weight] : item_tags) {
      if (used == 3) break;
      ASSERT_TRUE(tags->index->Reconstruct(tags->Find(tag), tv.data()).ok());
      for (int j = 0; j < dim; ++j) want[j] += tv[j];
      ++used;
    }
    double norm = 0;
    for (float x : want) norm += double{x} * x;
    ASSERT_TRUE(tag2vec->index->Reconstruct(row, got.data()).ok());
    for (int j = 0; j < dim; ++j)
      EXPECT_NEAR(got[j], want[j] / std::sqrt(norm), 1e-5);
  }
}

TEST_F(BuilderTest, PolicyFileIsValidatedAndWrittenIntoTheManifest) {
  const fs::path policy = dir_ / "policy.textproto";
  std::ofstream(policy) << R"pb(
    channels { name: "u2i" kind: "u2i" space: "dssm" quota: 50 }
    channels {
      name: "similar"
      kind: "i2i"
      space: "item2vec"
      min_similarity: 0.7
    }
    backfill { name: "hot" kind: "popular" freshness_window_hours: 24 }
    features {
      ctr_weight: 0.5
      freshness_half_life_hours: 48
      freshness_floor: 0.5
    }
  )pb";
  BuildOptions o = Options("v1");
  o.policy_file = policy;
  auto m = BuildSnapshot(o);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->policy().channels_size(), 2);
  EXPECT_EQ(m->policy().channels(0).quota(), 50);
  EXPECT_EQ(m->policy().backfill().name(), "hot");
  EXPECT_FLOAT_EQ(m->policy().features().ctr_weight(), 0.5f);
  auto manifest = ReadManifest(root_ / "v1");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(manifest->policy().SerializeAsString(),
            m->policy().SerializeAsString());

  // A space the snapshot lacks, an unknown kind, a syntax error: refused
  // before publishing, naming the file.
  std::ofstream(policy, std::ios::trunc)
      << R"pb(channels { name: "x" kind: "u2i" space: "nope" })pb";
  o.version = "bad";
  auto bad = BuildSnapshot(o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              AllOf(HasSubstr("policy.textproto"), HasSubstr("nope")));
  std::ofstream(policy, std::ios::trunc)
      << R"pb(channels { name: "x" kind: "teleport" })pb";
  EXPECT_THAT(BuildSnapshot(o).status().message(),
              HasSubstr("unknown kind \"teleport\""));
  std::ofstream(policy, std::ios::trunc) << "channels {\n  nme: 1\n}\n";
  EXPECT_THAT(BuildSnapshot(o).status().message(),
              HasSubstr("policy.textproto:2:"));
  EXPECT_FALSE(fs::exists(root_ / "bad"));
  EXPECT_EQ(*ReadCurrent(root_), "v1");
}

TEST_F(BuilderTest, ClusteringsAreBuiltStoredAndServed) {
  const fs::path clusters = dir_ / "clusters.textproto";
  std::ofstream(clusters) << R"pb(
    clusterings { name: "km" kind: "kmeans" spaces: "dssm" k: 4 top_n: 2 }
    clusterings {
      name: "mix"
      kind: "kmeans"
      spaces: "dssm"
      spaces: "tag2vec"
      k_range: [ 2, 3, 4 ]
    }
    clusterings { name: "rules" kind: "rules" max_k: 2 min_size: 5 }
    items_per_cluster: 20
  )pb";
  BuildOptions o = Options("v1");
  o.clusters_file = clusters;
  auto m = BuildSnapshot(o);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->clusterings_size(), 3);
  EXPECT_EQ(m->clusterings(0).k(), 4);
  EXPECT_EQ(m->clusterings(1).dim(), 16);  // dssm (8) + tag2vec (8)
  EXPECT_FALSE(m->clusterings(2).has_centres());
  // The default policy gains the cluster channels.
  std::set<std::string> channels;
  for (const auto& c : m->policy().channels()) channels.insert(c.name());
  EXPECT_TRUE(channels.count("cluster_center_km"));
  EXPECT_TRUE(channels.count("cluster_cf_rules"));
  EXPECT_TRUE(channels.count("cluster_profile_rules"));
  EXPECT_FALSE(channels.count(
      "cluster_center_mix"));  // two spaces: no single item space

  auto snapshot = Snapshot::Load(root_, "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const Clustering* km = (*snapshot)->FindClustering("km");
  ASSERT_NE(km, nullptr);
  int64_t members = 0;
  for (const auto& cluster : km->table.clusters()) {
    members += cluster.size();
    // Named after its id and its profile's two heaviest tags.
    std::string label = absl::StrCat("c", cluster.id());
    for (int j = 0; j < cluster.profile_size() && j < 2; ++j)
      absl::StrAppend(&label, j == 0 ? ":" : "+", cluster.profile(j).tag());
    EXPECT_EQ(cluster.label(), label);
    EXPECT_GE(cluster.profile_size(), 2);
    EXPECT_LE(cluster.items_size(), 20);
    for (int i = 1; i < cluster.items_size(); ++i) {
      EXPECT_GE(cluster.items(i - 1).score(), cluster.items(i).score());
    }
  }
  EXPECT_EQ(members, 60);  // every user with a dssm vector, once (top cluster)
  v1::UserRecord user;
  ASSERT_TRUE(*(*snapshot)->users().Get("u0000002", &user));
  std::map<std::string, std::vector<v1::ClusterMembership>> by_clustering;
  for (const auto& membership : user.clusters())
    by_clustering[membership.clustering()].push_back(membership);
  ASSERT_EQ(by_clustering["km"].size(), 2u);
  EXPECT_GE(by_clustering["km"][0].weight(), by_clustering["km"][1].weight());
  EXPECT_NEAR(by_clustering["km"][0].weight() + by_clustering["km"][1].weight(),
              1.0, 1e-5);
  EXPECT_EQ(by_clustering["rules"].size(), 1u);
  // The stored top cluster is the nearest centre.
  std::vector<Neighbor> nearest;
  ASSERT_TRUE(
      km->centres->Search(user.vectors(0).values().data(), 1, {}, &nearest)
          .ok());
  EXPECT_EQ(by_clustering["km"][0].cluster(), nearest[0].row);
}

TEST_F(BuilderTest, StableCentresKeepTheClustersOfThePreviousVersion) {
  const fs::path clusters = dir_ / "clusters.textproto";
  std::ofstream(clusters)
      << R"pb(clusterings { name: "km" kind: "kmeans" spaces: "dssm" k: 5 })pb";
  BuildOptions o = Options("v1");
  o.clusters_file = clusters;
  ASSERT_TRUE(BuildSnapshot(o).ok());
  std::ofstream(clusters, std::ios::trunc) << R"pb(clusterings {
                                                     name: "km"
                                                     kind: "kmeans"
                                                     spaces: "dssm"
                                                     k: 5
                                                     stable_centres: true
                                                   })pb";
  o.version = "v2";
  ASSERT_TRUE(BuildSnapshot(o).ok());
  auto v1 = Snapshot::Load(root_, "v1");
  auto v2 = Snapshot::Load(root_, "v2");
  ASSERT_TRUE(v1.ok() && v2.ok());
  const Clustering* a = (*v1)->FindClustering("km");
  const Clustering* b = (*v2)->FindClustering("km");
  std::vector<float> ca(8), cb(8);
  for (int c = 0; c < 5; ++c) {
    ASSERT_TRUE(a->centres->Reconstruct(c, ca.data()).ok());
    ASSERT_TRUE(b->centres->Reconstruct(c, cb.data()).ok());
    EXPECT_EQ(ca, cb) << "cluster " << c;
    EXPECT_EQ(a->table.clusters(c).size(), b->table.clusters(c).size());
  }
  v1::UserRecord ua, ub;
  ASSERT_TRUE(*(*v1)->users().Get("u0000007", &ua));
  ASSERT_TRUE(*(*v2)->users().Get("u0000007", &ub));
  EXPECT_EQ(ua.clusters(0).cluster(), ub.clusters(0).cluster());

  // Without a previous version there is nothing to keep.
  BuildOptions fresh = o;
  fresh.out_root = dir_ / "other_root";
  fresh.version = "v1";
  auto bad = BuildSnapshot(fresh);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("stable_centres needs a previous version"));
}

TEST_F(BuilderTest, BadClusteringSpecsNameTheClustering) {
  const fs::path clusters = dir_ / "clusters.textproto";
  BuildOptions o = Options("bad");
  o.clusters_file = clusters;
  for (const auto& [spec, problem] : std::
           vector<std::pair<std::string, std::string>>{
               {R"pb(clusterings { name: "x" kind: "spectral" })pb",
                "unknown kind"},
               {R"pb(clusterings {
                       name: "x"
                       kind: "kmeans"
                       spaces: "nope"
                       k: 2
                     })pb",
                "no user vectors in space \"nope\""},
               {R"pb(clusterings {
                       name: "x"
                       kind: "kmeans"
                       spaces: "dssm"
                       k: 1000
                     })pb",
                "k=1000 is not in [1, 60"}}) {
    std::ofstream(clusters, std::ios::trunc) << spec;
    auto m = BuildSnapshot(o);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    EXPECT_THAT(m.status().message(),
                AllOf(HasSubstr("clusters.textproto"),
                      HasSubstr("clustering \"x\""), HasSubstr(problem)));
  }
  EXPECT_FALSE(fs::exists(root_ / "bad"));
}

TEST_F(BuilderTest, OldVersionsAreRemovedKeepingCurrentAndPrevious) {
  // What interrupted builds left: one untouched for 7 hours (removed), one
  // written a minute ago (maybe a build still running: kept).
  fs::create_directories(root_ / ".crashed.tmp/spaces");
  fs::create_directories(root_ / ".running.tmp");
  fs::last_write_time(root_ / ".crashed.tmp",
                      fs::file_time_type::clock::now() - std::chrono::hours(7));
  fs::last_write_time(root_ / ".running.tmp", fs::file_time_type::clock::now() -
                                                  std::chrono::minutes(1));
  for (const std::string v : {"v1", "v2", "v3", "v4"}) {
    BuildOptions o = Options(v);
    o.keep_versions = 2;
    ASSERT_TRUE(BuildSnapshot(o).ok()) << v;
  }
  std::set<std::string> left;
  for (const auto& entry : fs::directory_iterator(root_)) {
    if (entry.is_directory()) left.insert(entry.path().filename().string());
  }
  EXPECT_EQ(left, (std::set<std::string>{".running.tmp", "v3", "v4"}));
  EXPECT_EQ(*ReadCurrent(root_), "v4");
  EXPECT_TRUE(
      Snapshot::Load(root_, "v3").ok());  // the one servers may still serve
}

// Issue 11.7: two builds into one ROOT at once shared a temp folder and
// both failed; now the second is refused at once, naming the lock.
TEST_F(BuilderTest, ASecondConcurrentBuildIsRefusedByTheLock) {
  fs::create_directories(root_);
  const std::string lock = (fs::path(root_) / "LOCK").string();
  const int fd = open(lock.c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running build holds it
  absl::StatusOr<v1::Manifest> refused = BuildSnapshot(Options("v1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("another build holds " + lock));
  EXPECT_FALSE(fs::exists(fs::path(root_) / "v1"));
  close(fd);  // the build ends: the next one goes ahead
  ASSERT_TRUE(BuildSnapshot(Options("v1")).ok());
  // Two threads at once: one publishes, the other is refused or runs after
  // it; neither fails any other way.
  std::vector<absl::Status> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      results[i] = BuildSnapshot(Options("t" + std::to_string(i))).status();
    });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& r : results) {
    if (r.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(r.code(), absl::StatusCode::kFailedPrecondition) << r;
    }
  }
  EXPECT_GE(ok, 1);
}

// Issue 11.2: an invalid byte in a category built with exit 0, and then user
// records failed to parse ("corrupt record") or answers could not be
// decoded by clients. Every text input is now checked, by file and line.
TEST_F(BuilderTest, RejectsInvalidUtf8InEveryTextInput) {
  const std::string bad = "\xff\xfe";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      // items.tsv: id, cat1, cat2, media, a tag
      {"items.tsv:col0", {"items.tsv:3", "not valid UTF-8"}},
      {"items.tsv:col1", {"items.tsv:3", "not valid UTF-8"}},
      {"items.tsv:col2", {"items.tsv:3", "not valid UTF-8"}},
      {"items.tsv:col3", {"items.tsv:3", "not valid UTF-8"}},
      {"items.tsv:col4", {"items.tsv:3", "not valid UTF-8"}},
      {"clicks.tsv:col0", {"clicks.tsv:3", "not valid UTF-8"}},
      {"clicks.tsv:col1", {"clicks.tsv:3", "not valid UTF-8"}},
      {"vectors/dssm.item.vec:col0", {"dssm.item.vec:3", "not valid UTF-8"}},
      {"vectors/dssm.user.vec:col0", {"dssm.user.vec:3", "not valid UTF-8"}},
      {"vectors/tags.vec:col0", {"tags.vec:3", "not valid UTF-8"}},
      {"vectors/media.vec:col0", {"media.vec:3", "not valid UTF-8"}},
  };
  for (const auto& [where, parts] : cases) {
    SCOPED_TRACE(where);
    fs::remove_all(input_);
    fs::copy(*world_, input_, fs::copy_options::recursive);
    const std::string file = where.substr(0, where.find(':'));
    const int column = std::stoi(where.substr(where.find(":col") + 4));
    const char sep = absl::EndsWith(file, ".vec") ? ' ' : '\t';
    EditLine(input_ / file, 3, [&](const std::string& line) {
      std::vector<std::string> fields = absl::StrSplit(line, sep);
      fields[column] = column == 4 && file == "items.tsv"
                           ? "tag" + bad + ":1"
                           : fields[column] + bad;
      return absl::StrJoin(fields, std::string(1, sep));
    });
    ExpectRejected(parts);
  }
}

TEST_F(BuilderTest, VersionsAreImmutable) {
  ASSERT_TRUE(BuildSnapshot(Options("v1")).ok());
  EXPECT_EQ(BuildSnapshot(Options("v1")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(BuilderTest, FailedBuildLeavesCurrentUntouched) {
  ASSERT_TRUE(BuildSnapshot(Options("v1")).ok());
  // The user vectors are read after the index is written: a late failure.
  EditLine(input_ / "vectors/dssm.user.vec", 3, [](const std::string& line) {
    return line.substr(0, line.rfind(' '));
  });
  ExpectRejected({"dssm.user.vec:3", "wrong dimension"});
  EXPECT_EQ(*ReadCurrent(root_), "v1");
  EXPECT_TRUE(Snapshot::Load(root_, "v1").ok());
}

TEST_F(BuilderTest, RejectsWrongDimension) {
  EditLine(input_ / "vectors/dssm.item.vec", 5,
           [](const std::string& line) { return line + " 0.5"; });
  ExpectRejected({"dssm.item.vec:5", "wrong dimension"});
}

TEST_F(BuilderTest, RejectsNaNAndInf) {
  EditLine(input_ / "vectors/dssm.item.vec", 4, [](const std::string& line) {
    return line.substr(0, line.find(' ')) + " nan" +
           line.substr(line.find(' ', line.find(' ') + 1));
  });
  ExpectRejected({"dssm.item.vec:4", "NaN"});
}

TEST_F(BuilderTest, RejectsDuplicateIds) {
  std::string first_id;
  EditLine(input_ / "vectors/dssm.item.vec", 2, [&](const std::string& line) {
    first_id = line.substr(0, line.find(' '));
    return line;
  });
  EditLine(input_ / "vectors/dssm.item.vec", 7, [&](const std::string& line) {
    return first_id + line.substr(line.find(' '));
  });
  ExpectRejected({"dssm.item.vec:7", "duplicate id"});
  fs::copy(*world_ / "vectors/dssm.item.vec", input_ / "vectors/dssm.item.vec",
           fs::copy_options::overwrite_existing);
  EditLine(input_ / "items.tsv", 9, [&](const std::string& line) {
    return first_id + line.substr(line.find('\t'));
  });
  ExpectRejected({"items.tsv:9", "duplicate"});
}

TEST_F(BuilderTest, RejectsMalformedRows) {
  EditLine(input_ / "items.tsv", 3, [](const std::string& line) {
    return line.substr(0, line.rfind('\t'));
  });
  ExpectRejected({"items.tsv:3", "columns"});
  fs::copy(*world_ / "items.tsv", input_ / "items.tsv",
           fs::copy_options::overwrite_existing);
  EditLine(input_ / "clicks.tsv", 6,
           [](const std::string&) { return "u1\tonly-two"; });
  ExpectRejected({"clicks.tsv:6", "malformed"});
}

TEST_F(BuilderTest, RejectsVectorsOfUnknownItemsAndZeroVectors) {
  EditLine(input_ / "vectors/dssm.item.vec", 6, [](const std::string& line) {
    return "NOT_AN_ITEM" + line.substr(line.find(' '));
  });
  ExpectRejected({"dssm.item.vec:6", "NOT_AN_ITEM", "not in items.tsv"});
  fs::copy(*world_ / "vectors/dssm.item.vec", input_ / "vectors/dssm.item.vec",
           fs::copy_options::overwrite_existing);
  EditLine(input_ / "vectors/dssm.item.vec", 3, [](const std::string& line) {
    std::string out = line.substr(0, line.find(' '));
    for (int i = 0; i < 8; ++i) out += " 0";
    return out;
  });
  ExpectRejected({"dssm.item.vec:3", "zero vector"});
}

TEST_F(BuilderTest, RejectsEmptyInput) {
  std::ofstream(input_ / "items.tsv", std::ios::trunc);
  ExpectRejected({"items.tsv", "empty input"});
  fs::copy(*world_ / "items.tsv", input_ / "items.tsv",
           fs::copy_options::overwrite_existing);
  std::ofstream(input_ / "vectors/dssm.item.vec", std::ios::trunc);
  ExpectRejected({"dssm.item.vec", "empty input"});
  fs::remove_all(input_ / "vectors");
  fs::create_directories(input_ / "vectors");
  ExpectRejected({"vectors", "empty input"});
}

TEST_F(BuilderTest, TooFewVectorsForTheIndexIsAClearError) {
  BuildOptions o = Options("bad");
  o.factory = "IVF1024,Flat";
  auto m = BuildSnapshot(o);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(),
              AllOf(HasSubstr("dssm"), HasSubstr("needs at least 1024")));
}

// Issue 21: an hnswlib graph was written as spaces/<space>.faiss.
TEST_F(BuilderTest, EachBackendWritesItsOwnExtension) {
  BuildOptions o = Options("v1");
  o.space_factory["dssm"] = "HNSWLIB16";
  auto manifest = BuildSnapshot(o);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_TRUE(fs::exists(root_ / "v1/spaces/dssm.hnswlib"));
  EXPECT_FALSE(fs::exists(root_ / "v1/spaces/dssm.faiss"));
  EXPECT_TRUE(fs::exists(root_ / "v1/spaces/item2vec.faiss"));
  auto snapshot = Snapshot::Load(root_, "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ((*snapshot)->FindSpace("dssm")->index->description(), "HNSWLIB16");
}

// A space whose channels the policy all disables gets an exact index instead
// of a graph (issue 22: build time); one that an enabled or an i2i channel
// searches, or that --space_index names, keeps the graph.
TEST_F(BuilderTest, SpacesOnlyDisabledChannelsSearchGetAnExactIndex) {
  const fs::path policy = dir_ / "policy.textproto";
  std::ofstream(policy) << R"pb(
    channels { name: "u2i" kind: "u2i" space: "dssm" }
    channels { name: "i2i" kind: "i2i" space: "item2vec" disabled: true }
    channels { name: "u2i_tag2vec" kind: "u2i" space: "tag2vec" disabled: true }
    channels {
      name: "crosstag"
      kind: "crosstag"
      space: "tag2vec"
      disabled: true
    }
  )pb";
  BuildOptions o = Options("v1");
  o.factory = "HNSWLIB16";
  o.policy_file = policy;
  auto built = BuildSnapshot(o);
  ASSERT_TRUE(built.ok()) << built.status();
  std::map<std::string, std::string> factories;
  for (const v1::SpaceManifest& space : built->spaces())
    factories[space.name()] = space.factory();
  EXPECT_EQ(factories["dssm"], "HNSWLIB16");
  EXPECT_EQ(factories["item2vec"], "HNSWLIB16");
  EXPECT_EQ(factories["tag2vec"], "Flat");
  EXPECT_TRUE(fs::exists(root_ / "v1/spaces/tag2vec.faiss"));
  // Enabled by a request, the channel's space still answers, exactly.
  auto snapshot = Snapshot::Load(root_, "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const Space* tag2vec = (*snapshot)->FindSpace("tag2vec");
  ASSERT_NE(tag2vec, nullptr);
  std::vector<float> query(tag2vec->index->dim());
  ASSERT_TRUE(tag2vec->index->Reconstruct(0, query.data()).ok());
  std::vector<Neighbor> found;
  ASSERT_TRUE(tag2vec->index->Search(query.data(), 5, {}, &found).ok());
  ASSERT_FALSE(found.empty());
  EXPECT_NEAR(found[0].score, 1.0f, 1e-4);

  // --space_index wins.
  o.version = "v2";
  o.space_factory["tag2vec"] = "HNSWLIB16";
  built = BuildSnapshot(o);
  ASSERT_TRUE(built.ok()) << built.status();
  for (const v1::SpaceManifest& space : built->spaces())
    EXPECT_EQ(space.factory(), "HNSWLIB16") << space.name();
}

TEST_F(BuilderTest, CorruptedSnapshotIsRefusedAtLoad) {
  ASSERT_TRUE(BuildSnapshot(Options("v1")).ok());
  const fs::path index = root_ / "v1/spaces/dssm.faiss";
  {
    std::fstream f(index, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
  }
  auto snapshot = Snapshot::Load(root_, "v1");
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(snapshot.status().message(),
              AllOf(HasSubstr("dssm.faiss"), HasSubstr("crc32c")));
}

// Issue 11.4: bit flips in the store's SST files were loaded and served; the
// MANIFEST now covers every file of the store.
TEST_F(BuilderTest, CorruptStoreFilesAreRefusedAtLoad) {
  ASSERT_TRUE(BuildSnapshot(Options("v1")).ok());
  absl::StatusOr<v1::Manifest> manifest = ReadManifest((root_ / "v1").string());
  ASSERT_TRUE(manifest.ok());
  ASSERT_GE(manifest->store().files_size(), 3);  // CURRENT, MANIFEST, an SST
  bool has_sst = false;
  for (const v1::FileRef& ref : manifest->store().files())
    has_sst = has_sst || absl::EndsWith(ref.path(), ".sst");
  ASSERT_TRUE(has_sst);
  for (const v1::FileRef& ref : manifest->store().files()) {
    if (!absl::EndsWith(ref.path(), ".sst")) continue;
    const fs::path sst = root_ / "v1" / ref.path();
    {
      std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(fs::file_size(sst) / 2));
      const char c = static_cast<char>(f.get());
      f.seekp(static_cast<std::streamoff>(fs::file_size(sst) / 2));
      f.put(static_cast<char>(c ^ 0x10));
    }
    auto snapshot = Snapshot::Load(root_, "v1");
    EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(snapshot.status().message(), HasSubstr(ref.path()));
    break;
  }
}

}  // namespace
}  // namespace recall
