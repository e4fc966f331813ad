// pipeline/snapshot/spaces: finding a world's spaces, reading item and user
// vectors into rows (ids checked, takedowns left out, zero vectors and wrong
// dimensions named by file and line), writing an index per backend.
#include "pipeline/snapshot/spaces.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "index/index_factory.h"
#include "tests/test_util.h"

namespace recall {
namespace build_spaces {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SpacesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.Path("vectors"));
    WriteFile(tmp_.Path("items.tsv"),
              absl::StrCat(kItemTsvHeader, "\n",
                           "a\tnews\tnews/x\tm1\t\t100\t1\t0.1\n",
                           "b\tnews\tnews/x\tm1\t\t200\t1\t0.1\n",
                           "c\tnews\tnews/x\tm1\t\t300\t1\t0.1\n"));
    auto items = ItemTable::ReadTsv(tmp_.Path("items.tsv"));
    ASSERT_TRUE(items.ok()) << items.status();
    items_ = *std::move(items);
  }

  void Vectors(const std::string& file, const std::string& text) {
    WriteFile(tmp_.Path("vectors/" + file), text);
  }

  ScopedTempDir tmp_{"spaces_test"};
  ItemTable items_;
};

TEST_F(SpacesTest, FindsTheSpacesSortedAndRefusesAnEmptyWorld) {
  EXPECT_THAT(FindSpaces(tmp_.dir()).status().message(),
              HasSubstr("no <space>.item.vec files"));
  Vectors("title2vec.item.vec", "1 2\na 1 0\n");
  Vectors("dssm.item.vec", "1 2\na 1 0\n");
  Vectors("dssm.user.vec", "1 2\nu 1 0\n");
  Vectors("tags.vec", "1 2\nt 1 0\n");
  auto spaces = FindSpaces(tmp_.dir());
  ASSERT_TRUE(spaces.ok()) << spaces.status();
  EXPECT_THAT(*spaces, ElementsAre("dssm", "title2vec"));
}

TEST_F(SpacesTest, ReadsItemVectorsInRowOrderNormalised) {
  Vectors("dssm.item.vec", "3 2\nc 0 2\na 3 4\nb 1 0\n");
  auto vectors = ReadItemVectors(tmp_.dir(), items_, "dssm", {});
  ASSERT_TRUE(vectors.ok()) << vectors.status();
  EXPECT_EQ(vectors->dim, 2);
  EXPECT_THAT(vectors->rows, ElementsAre(0, 1, 2));
  EXPECT_THAT(vectors->data, ElementsAre(0.6f, 0.8f, 1.0f, 0.0f, 0.0f, 1.0f));
}

TEST_F(SpacesTest, AnUnknownIdIsAnErrorUnlessTakenDown) {
  Vectors("dssm.item.vec", "2 2\na 1 0\nz 0 1\n");
  auto vectors = ReadItemVectors(tmp_.dir(), items_, "dssm", {});
  EXPECT_EQ(vectors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(vectors.status().message(),
              HasSubstr("dssm.item.vec:3: item \"z\" is not in items.tsv"));
  vectors = ReadItemVectors(tmp_.dir(), items_, "dssm", {"z"});
  ASSERT_TRUE(vectors.ok()) << vectors.status();
  EXPECT_THAT(vectors->rows, ElementsAre(0));
}

TEST_F(SpacesTest, AZeroVectorIsNamedByLine) {
  Vectors("dssm.item.vec", "2 2\na 1 0\nb 0 0\n");
  EXPECT_THAT(
      ReadItemVectors(tmp_.dir(), items_, "dssm", {}).status().message(),
      HasSubstr("dssm.item.vec:3: zero vector"));
}

TEST_F(SpacesTest, UserVectorsMustMatchTheSpaceDimension) {
  v1::SpaceManifest space;
  space.set_name("dssm");
  space.set_dim(2);
  UserVectors users;
  auto found = ReadUserVectors(tmp_.dir(), space, &users);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(*found);  // no file: no user vectors, not an error
  Vectors("dssm.user.vec", "1 3\nu 1 0 0\n");
  EXPECT_THAT(
      ReadUserVectors(tmp_.dir(), space, &users).status().message(),
      HasSubstr("dssm.user.vec:1: wrong dimension: user vectors have 3"));
  Vectors("dssm.user.vec", "1 2\nu 0 5\n");
  found = ReadUserVectors(tmp_.dir(), space, &users);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(*found);
  EXPECT_EQ(users.space, "dssm");
  EXPECT_THAT(users.vectors.values, ElementsAre(0.0f, 1.0f));
}

TEST_F(SpacesTest, WritesTheSpaceWithItsBackendsExtension) {
  Vectors("dssm.item.vec", "3 2\na 1 0\nb 0 1\nc 1 1\n");
  auto vectors = ReadItemVectors(tmp_.dir(), items_, "dssm", {});
  ASSERT_TRUE(vectors.ok());
  fs::create_directories(tmp_.Path("out/spaces"));
  BuildOptions options;
  options.factory = "Flat";
  options.space_factory["hnsw"] = "HNSWLIB8";
  auto flat = WriteSpace(options, "dssm", *vectors, tmp_.Path("out"));
  ASSERT_TRUE(flat.ok()) << flat.status();
  EXPECT_EQ(flat->index().path(), "spaces/dssm.faiss");
  EXPECT_EQ(flat->count(), 3);
  auto graph = WriteSpace(options, "hnsw", *vectors, tmp_.Path("out"));
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->index().path(), "spaces/hnsw.hnswlib");
  EXPECT_EQ(graph->factory(), "HNSWLIB8");
  EXPECT_TRUE(fs::exists(tmp_.Path("out/spaces/hnsw.hnswlib")));
}

}  // namespace
}  // namespace build_spaces
}  // namespace recall
