// The lists stage of a build: "itemcf" and "hot" written as lists/*.rl with
// their MANIFEST entries; nothing without clicks; "none" skips item-CF.
#include "pipeline/snapshot/click_lists.h"

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/ranked_lists.h"
#include "store/version_layout.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ClickListsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tsv = absl::StrCat(kItemTsvHeader, "\n");
    for (const char* id : {"a", "b", "c", "d"})
      absl::StrAppend(&tsv, id, "\tnews\tnews/x\tm1\t\t100\t1\t0.1\n");
    WriteFile(tmp_.Path("items.tsv"), tsv);
    items_ = *ItemTable::ReadTsv(tmp_.Path("items.tsv"));
    ASSERT_TRUE(layout::CreateDirs(tmp_.Path("v1")).ok());
  }

  // Users 0-5 click a then b; users 0-1 also click c; nobody clicks d.
  ClickLog Clicks() {
    ClickLog log;
    for (int u = 0; u < 6; ++u) {
      const int32_t user = log.AddUser(absl::StrCat("u", u));
      log.AddClick(user, 0, 1000 + u);
      log.AddClick(user, 1, 1001 + u);
      if (u < 2) log.AddClick(user, 2, 1002 + u);
    }
    log.Finish();
    return log;
  }

  ScopedTempDir tmp_{"click_lists_test"};
  ItemTable items_;
};

TEST_F(ClickListsTest, WritesItemCfAndHotWithManifestEntries) {
  v1::Manifest manifest;
  ItemCfOptions itemcf;
  itemcf.method = "cosine";
  ASSERT_TRUE(BuildClickLists(itemcf, 72, 10, items_, Clicks(), tmp_.Path("v1"),
                              &manifest)
                  .ok());
  ASSERT_EQ(manifest.lists_size(), 2);
  EXPECT_EQ(manifest.lists(0).name(), "itemcf");
  EXPECT_THAT(manifest.lists(0).method(), HasSubstr("cosine"));
  EXPECT_EQ(manifest.lists(1).name(), "hot");
  EXPECT_EQ(manifest.lists(1).file().path(), "lists/hot.rl");

  auto itemcf_lists =
      RankedLists::Read(tmp_.Path("v1/lists/itemcf.rl"), items_.size());
  ASSERT_TRUE(itemcf_lists.ok()) << itemcf_lists.status();
  // a's neighbours: b (co-clicked by all six) before c (by two).
  const auto a = itemcf_lists->List(itemcf_lists->FindRow(0));
  ASSERT_GE(a.size(), 2u);
  EXPECT_EQ(a[0].row, 1u);
  EXPECT_EQ(a[1].row, 2u);
  EXPECT_EQ(manifest.lists(0).entries(), itemcf_lists->entries());

  auto hot = RankedLists::Read(tmp_.Path("v1/lists/hot.rl"), items_.size());
  ASSERT_TRUE(hot.ok()) << hot.status();
  const int64_t overall = hot->Find("*");
  ASSERT_GE(overall, 0);
  const auto list = hot->List(overall);
  ASSERT_EQ(list.size(), 3u);  // d was never clicked
  EXPECT_EQ(list[2].row, 2u);  // c: two clicks, fewest
}

TEST_F(ClickListsTest, NoneSkipsItemCfAndNoClicksWritesNothing) {
  v1::Manifest manifest;
  ItemCfOptions none;
  none.method = "none";
  ASSERT_TRUE(BuildClickLists(none, 72, 10, items_, Clicks(), tmp_.Path("v1"),
                              &manifest)
                  .ok());
  ASSERT_EQ(manifest.lists_size(), 1);
  EXPECT_EQ(manifest.lists(0).name(), "hot");
  EXPECT_FALSE(fs::exists(tmp_.Path("v1/lists/itemcf.rl")));

  v1::Manifest empty_manifest;
  ClickLog empty;
  empty.AddUser("u0");
  empty.Finish();
  ASSERT_TRUE(BuildClickLists({}, 72, 10, items_, empty, tmp_.Path("v2"),
                              &empty_manifest)
                  .ok());
  EXPECT_EQ(empty_manifest.lists_size(), 0);
}

}  // namespace
}  // namespace recall
