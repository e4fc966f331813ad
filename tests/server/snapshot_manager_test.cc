// SnapshotManager on real snapshot files: loads CURRENT once, swaps in a new
// version, keeps serving the old one when a load fails, and frees a replaced
// version only once no request holds it.
#include "server/snapshot_manager.h"

#include <filesystem>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "recall/channel.h"
#include "store/snapshot_files.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

class SnapshotManagerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RegisterBuiltinChannels();
    dir_ = new ScopedTempDir("snapshot_manager_test");
    ASSERT_TRUE(MakeSmallSnapshot(dir_->dir(), 300, 50, 8, "v1").ok());
    ASSERT_TRUE(BuildFlatSnapshot(dir_->dir(), "v2").ok());
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string Root() { return dir_->Path("root"); }
  static std::string VersionOf(const SnapshotManager& m) {
    return m.Current()->engine->snapshot().version();
  }

  static ScopedTempDir* dir_;
};
ScopedTempDir* SnapshotManagerTest::dir_ = nullptr;

TEST_F(SnapshotManagerTest, LoadsOnceSwapsAndReleasesWhatNoRequestHolds) {
  ASSERT_TRUE(PublishCurrent(Root(), "v1").ok());
  SnapshotManager manager(Root(), {});
  EXPECT_EQ(manager.Current(), nullptr);
  absl::StatusOr<bool> loaded = manager.LoadCurrent();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(*loaded);
  EXPECT_EQ(VersionOf(manager), "v1");
  loaded = manager.LoadCurrent();  // already serving: nothing to do
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(*loaded);

  std::shared_ptr<const Serving> held = manager.Current();  // a request
  ASSERT_TRUE(PublishCurrent(Root(), "v2").ok());
  loaded = manager.LoadCurrent();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(*loaded);
  EXPECT_EQ(VersionOf(manager), "v2");
  EXPECT_EQ(held->engine->snapshot().version(), "v1");  // still whole
  EXPECT_EQ(manager.ReleaseRetired(), 1);
  held.reset();
  EXPECT_EQ(manager.ReleaseRetired(), 0);
}

TEST_F(SnapshotManagerTest, AFailedLoadKeepsThePreviousVersionServing) {
  ASSERT_TRUE(PublishCurrent(Root(), "v1").ok());
  SnapshotManager manager(Root(), {});
  ASSERT_TRUE(manager.LoadCurrent().ok());
  // CURRENT names a version whose files are damaged.
  fs::copy(Root() + "/v2", Root() + "/v3", fs::copy_options::recursive);
  WriteFile(Root() + "/v3/items.tsv", "damaged");
  ASSERT_TRUE(PublishCurrent(Root(), "v3").ok());
  absl::StatusOr<bool> loaded = manager.LoadCurrent();
  EXPECT_FALSE(loaded.ok());
  EXPECT_THAT(std::string(loaded.status().message()),
              ::testing::HasSubstr("v3"));
  EXPECT_EQ(VersionOf(manager), "v1");
  fs::remove_all(Root() + "/v3");
}

TEST_F(SnapshotManagerTest, NoCurrentIsAnErrorBeforeTheFirstLoad) {
  ScopedTempDir empty("snapshot_manager_empty");
  SnapshotManager manager(empty.dir(), {});
  EXPECT_FALSE(manager.LoadCurrent().ok());
  EXPECT_EQ(manager.Current(), nullptr);
}

}  // namespace
}  // namespace recall
