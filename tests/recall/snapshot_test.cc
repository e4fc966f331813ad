// recall/snapshot: loading a version through the format's codecs, the checks
// that refuse a damaged one (naming the file), and the lookups channels use.
#include "recall/snapshot.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "store/snapshot_files.h"
#include "store/version_layout.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Tags and media vectors too, so that the version has vector tables.
    GenWorldOptions gen;
    gen.items = 600;
    gen.users = 40;
    gen.dim = 8;
    ASSERT_TRUE(GenerateWorld(gen, tmp_.Path("world")).ok());
    ASSERT_TRUE(BuildFlatSnapshot(tmp_.dir(), "v1").ok());
  }
  std::string Version() const { return tmp_.Path("root/v1"); }

  ScopedTempDir tmp_{"snapshot_test"};
};

TEST_F(SnapshotTest, LoadsEveryPartAndFindsThemByName) {
  auto snapshot = Snapshot::Load(tmp_.Path("root"), "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const Snapshot& s = **snapshot;
  EXPECT_EQ(s.version(), "v1");
  EXPECT_EQ(s.items().size(), 600);
  ASSERT_NE(s.FindSpace("dssm"), nullptr);
  EXPECT_EQ(s.FindSpace("dssm")->index->dim(), 8);
  EXPECT_EQ(s.FindSpace("nope"), nullptr);
  const VectorTable* tags = s.FindTable("tags");
  ASSERT_NE(tags, nullptr);
  ASSERT_FALSE(tags->ids.empty());
  EXPECT_EQ(tags->Find(tags->ids[3]), 3);
  EXPECT_EQ(tags->Find("no such tag"), -1);
  EXPECT_EQ(tags->index->size(), static_cast<int64_t>(tags->ids.size()));
  EXPECT_EQ(s.FindTable("nope"), nullptr);
  EXPECT_EQ(s.FindClustering("nope"), nullptr);
  EXPECT_NE(s.FindLists("itemcf"), nullptr);
  EXPECT_EQ(s.FindLists("nope"), nullptr);
  // The default policy's i2i searches item2vec: its neighbour table.
  const Space* item2vec = s.FindSpace("item2vec");
  ASSERT_NE(item2vec, nullptr);
  ASSERT_NE(item2vec->neighbours, nullptr);
  // The items users' newest clicks and the hot lists hold.
  EXPECT_GT(item2vec->neighbours->size(), 0);
  EXPECT_LT(item2vec->neighbours->size(), 600);
  EXPECT_EQ(item2vec->neighbours->size(),
            item2vec->manifest.neighbours().items());
  EXPECT_GT(item2vec->neighbours->entries(), 0);
  EXPECT_EQ(item2vec->manifest.neighbours().k(), 1000);
  EXPECT_FLOAT_EQ(item2vec->manifest.neighbours().min_similarity(), 0.6f);
  EXPECT_EQ(s.FindSpace("dssm")->neighbours, nullptr);
}

TEST_F(SnapshotTest, ANeighbourTableThatBreaksItsManifestIsRefused) {
  // Damaged bytes: the checksum names the file.
  const std::string path = Version() + "/" + layout::Neighbours("item2vec");
  const std::string good = ReadFile(path);
  std::string bad = good;
  bad[bad.size() - 1] ^= 0x40;
  WriteFile(path, bad);
  auto snapshot = Snapshot::Load(tmp_.Path("root"), "v1");
  EXPECT_TRUE(absl::IsDataLoss(snapshot.status())) << snapshot.status();
  EXPECT_THAT(snapshot.status().message(),
              HasSubstr("lists/item2vec.neighbours.rl"));
  WriteFile(path, good);
  // Lists longer than the MANIFEST's k.
  absl::StatusOr<v1::Manifest> manifest = ReadManifest(Version());
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  for (v1::SpaceManifest& space : *manifest->mutable_spaces()) {
    if (space.has_neighbours()) space.mutable_neighbours()->set_k(1);
  }
  ASSERT_TRUE(WriteManifest(Version(), *manifest).ok());
  snapshot = Snapshot::Load(tmp_.Path("root"), "v1");
  EXPECT_TRUE(absl::IsDataLoss(snapshot.status())) << snapshot.status();
  EXPECT_THAT(snapshot.status().message(), HasSubstr("at most k=1"));
}

TEST_F(SnapshotTest, AVersionLoadedUnderAnotherNameIsRefused) {
  fs::rename(Version(), tmp_.Path("root/v2"));
  auto snapshot = Snapshot::Load(tmp_.Path("root"), "v2");
  EXPECT_TRUE(absl::IsDataLoss(snapshot.status())) << snapshot.status();
  EXPECT_THAT(snapshot.status().message(),
              HasSubstr("does not match its directory"));
  // A builder verifies a version before it gets its name.
  EXPECT_TRUE(Snapshot::LoadFromDir(tmp_.Path("root/v2")).ok());
}

TEST_F(SnapshotTest, ADamagedTableFileIsRefusedNamingIt) {
  // Same size, different bytes: only the checksum can tell.
  const std::string ids = Version() + "/" + layout::TableIds("tags");
  std::string content = ReadFile(ids);
  ASSERT_FALSE(content.empty());
  content[0] = content[0] == 'x' ? 'y' : 'x';
  WriteFile(ids, content);
  auto snapshot = Snapshot::Load(tmp_.Path("root"), "v1");
  EXPECT_TRUE(absl::IsDataLoss(snapshot.status())) << snapshot.status();
  EXPECT_THAT(snapshot.status().message(), HasSubstr("tables/tags.ids"));
}

TEST(SnapshotPartsTest, IndexClusteringNamesEveryClusterForProvenance) {
  Clustering clustering;
  clustering.manifest.mutable_spec()->set_name("interest");
  v1::Cluster* a = clustering.table.add_clusters();
  a->set_id(0);
  a->set_label("sport");
  v1::Cluster* b = clustering.table.add_clusters();
  b->set_id(1);
  b->set_label("tech");
  IndexClustering(&clustering);
  EXPECT_THAT(clustering.via,
              ::testing::ElementsAre("interest/0/sport", "interest/1/tech"));
  EXPECT_EQ(clustering.assigned_via[1], "interest/1/tech (assigned)");
}

TEST(SnapshotPartsTest, MakeVectorTableIndexesRowsById) {
  const VectorTable table = MakeVectorTable(
      "media", {"m0", "m1", "m2"}, *NewExactIndex(2, {1, 0, 0, 1, 1, 1}));
  EXPECT_EQ(table.manifest.name(), "media");
  EXPECT_EQ(table.manifest.count(), 3);
  EXPECT_EQ(table.manifest.dim(), 2);
  EXPECT_EQ(table.Find("m2"), 2);
  EXPECT_EQ(table.Find("m9"), -1);
}

}  // namespace
}  // namespace recall
