// A snapshot whose dssm space is built with hnswlib ("HNSWLIB16" as the
// space's factory) builds, loads and serves rows like a Faiss one.
#include <filesystem>
#include <vector>

#include "gtest/gtest.h"
#include "index/index_handle.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/snapshot/builder.h"
#include "recall/snapshot.h"
#include "store/snapshot_files.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

TEST(HnswlibSpaceTest, SnapshotWithAnHnswlibSpaceLoadsAndSearches) {
  ScopedTempDir tmp("hnswlib_space_test");
  const fs::path dir = tmp.dir();
  GenWorldOptions gen;
  gen.items = 400;
  gen.users = 60;
  gen.dim = 8;
  gen.mean_clicks_per_user = 5;
  gen.extra_spaces = false;
  ASSERT_TRUE(GenerateWorld(gen, (dir / "world").string()).ok());

  BuildOptions build;
  build.input_dir = dir / "world";
  build.out_root = dir / "root";
  build.factory = "Flat";
  build.space_factory = {{"dssm", "HNSWLIB16"}};
  build.version = "v1";
  absl::StatusOr<v1::Manifest> manifest = BuildSnapshot(build);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  bool found = false;
  for (const v1::SpaceManifest& sm : manifest->spaces()) {
    if (sm.name() != "dssm") continue;
    found = true;
    EXPECT_EQ(sm.factory(), "HNSWLIB16");
    EXPECT_EQ(sm.ef_search(), build.ef_search);
  }
  ASSERT_TRUE(found);

  auto snapshot = Snapshot::LoadFromDir((dir / "root" / "v1").string());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const Space* space = (*snapshot)->FindSpace("dssm");
  ASSERT_NE(space, nullptr);
  const IndexHandle& index = *space->index;
  EXPECT_EQ(index.description(), "HNSWLIB16");
  EXPECT_EQ(index.size(), 400);
  EXPECT_EQ(index.dim(), 8);
  const int64_t items = (*snapshot)->items().size();
  std::vector<float> v(index.dim());
  std::vector<Neighbor> got;
  for (int32_t row : {0, 17, 399}) {
    SCOPED_TRACE(row);
    // An item's own vector finds the item first, among valid rows.
    ASSERT_TRUE(index.Reconstruct(row, v.data()).ok());
    ASSERT_TRUE(index.Search(v.data(), 20, {}, &got).ok());
    ASSERT_EQ(got.size(), 20u);
    EXPECT_EQ(got[0].row, row);
    for (const Neighbor& n : got) {
      EXPECT_GE(n.row, 0);
      EXPECT_LT(n.row, items);
    }
  }
}

}  // namespace
}  // namespace recall
