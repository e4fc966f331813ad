// The version layout's paths and the codecs it owns (ids lists, cluster
// tables): round trips and the errors a damaged file gets.
#include "store/version_layout.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(VersionLayoutTest, PathsAreTheOnesTheManifestRecords) {
  EXPECT_EQ(layout::SpaceIndex("dssm", "faiss"), "spaces/dssm.faiss");
  EXPECT_EQ(layout::SpaceIndex("dssm", "hnswlib"), "spaces/dssm.hnswlib");
  EXPECT_EQ(layout::TableIds("tags"), "tables/tags.ids");
  EXPECT_EQ(layout::TableIndex("tags"), "tables/tags.faiss");
  EXPECT_EQ(layout::ClusterTable("kmeans"), "clusters/kmeans.pb");
  EXPECT_EQ(layout::ClusterCentres("kmeans"), "clusters/kmeans.faiss");
  EXPECT_EQ(layout::Lists("itemcf"), "lists/itemcf.rl");
}

TEST(VersionLayoutTest, CreateDirsMakesEverySubdirectory) {
  ScopedTempDir tmp("layout_dirs");
  ASSERT_TRUE(layout::CreateDirs(tmp.Path("v1")).ok());
  for (const char* sub : {"spaces", "tables", "clusters", "lists"}) {
    EXPECT_TRUE(std::filesystem::is_directory(tmp.Path("v1") + "/" + sub))
        << sub;
  }
}

TEST(VersionLayoutTest, IdListsRoundTrip) {
  ScopedTempDir tmp("layout_ids");
  const std::string path = tmp.Path("tags.ids");
  ASSERT_TRUE(WriteIdList(path, {"sport", "", "étoile"}).ok());
  auto ids = ReadIdList(path);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("sport", "", "étoile"));
  EXPECT_TRUE(absl::IsNotFound(ReadIdList(tmp.Path("missing")).status()));
}

TEST(VersionLayoutTest, ClusterTablesRoundTripAndGarbageIsDataLoss) {
  ScopedTempDir tmp("layout_clusters");
  v1::ClusterTable table;
  v1::Cluster* cluster = table.add_clusters();
  cluster->set_id(3);
  cluster->set_label("sport");
  const std::string path = tmp.Path("kmeans.pb");
  ASSERT_TRUE(WriteClusterTable(path, table).ok());
  auto read = ReadClusterTable(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->clusters_size(), 1);
  EXPECT_EQ(read->clusters(0).id(), 3);
  EXPECT_EQ(read->clusters(0).label(), "sport");

  std::ofstream(tmp.Path("bad.pb"), std::ios::binary) << "\xff\xff\xff\xff";
  auto bad = ReadClusterTable(tmp.Path("bad.pb"));
  EXPECT_TRUE(absl::IsDataLoss(bad.status())) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.pb: not a ClusterTable"));
  EXPECT_TRUE(
      absl::IsNotFound(ReadClusterTable(tmp.Path("missing.pb")).status()));
}

}  // namespace
}  // namespace recall
