#include "store/ranked_lists.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

TEST(RankedListsTest, ItemKeyedRoundTripSortsBestFirst) {
  ScopedTempDir tmp("ranked_lists");
  RankedLists lists;
  lists.Add({{2, 0.5f}, {1, 0.9f}});
  lists.Add({});
  lists.Add({{0, 0.3f}});
  ASSERT_TRUE(lists.Write(tmp.Path("l.rl")).ok());
  auto read = RankedLists::Read(tmp.Path("l.rl"), 3);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 3);
  EXPECT_EQ(read->entries(), 3);
  EXPECT_FALSE(read->named());
  ASSERT_EQ(read->List(0).size(), 2u);
  EXPECT_EQ(read->List(0)[0].row, 1u);
  EXPECT_FLOAT_EQ(read->List(0)[0].score, 0.9f);
  EXPECT_TRUE(read->List(1).empty());
  EXPECT_EQ(read->List(2)[0].row, 0u);
}

TEST(RankedListsTest, NamedRoundTrip) {
  ScopedTempDir tmp("ranked_lists");
  RankedLists lists(/*named=*/true);
  lists.Add("*", {{0, 3}, {1, 2}});
  lists.Add("sports", {{1, 2}});
  ASSERT_TRUE(lists.Write(tmp.Path("h.rl")).ok());
  auto read = RankedLists::Read(tmp.Path("h.rl"), 2);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->named());
  EXPECT_EQ(read->Find("*"), 0);
  EXPECT_EQ(read->Find("sports"), 1);
  EXPECT_EQ(read->Find("news"), -1);
  EXPECT_EQ(read->keys()[1], "sports");
  EXPECT_EQ(read->List(1)[0].row, 1u);
}

TEST(RankedListsTest, SomeItemRowsRoundTripAndAreFoundByRow) {
  ScopedTempDir tmp("ranked_lists");
  RankedLists lists(ListKeys::kItemRows);
  lists.AddRow(1, {{2, 0.5f}, {3, 0.9f}});
  lists.AddRow(4, {});
  ASSERT_TRUE(lists.Write(tmp.Path("n.rl")).ok());
  auto read = RankedLists::Read(tmp.Path("n.rl"), 5);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->key_kind(), ListKeys::kItemRows);
  EXPECT_FALSE(read->named());
  EXPECT_EQ(read->size(), 2);
  EXPECT_EQ(read->FindRow(1), 0);
  EXPECT_EQ(read->FindRow(4), 1);
  for (int64_t row : {-1, 0, 2, 3, 5}) EXPECT_EQ(read->FindRow(row), -1);
  EXPECT_EQ(read->List(0)[0].row, 3u);
  EXPECT_TRUE(read->List(1).empty());
  // Every-row lists find a row by itself.
  RankedLists every;
  every.Add({});
  EXPECT_EQ(every.FindRow(0), 0);
  EXPECT_EQ(every.FindRow(1), -1);
  // A key row outside the item table, or out of order, is refused.
  auto small = RankedLists::Read(tmp.Path("n.rl"), 4);
  EXPECT_TRUE(absl::IsDataLoss(small.status())) << small.status();
  EXPECT_THAT(small.status().message(), HasSubstr("key 1: row 4"));
  RankedLists unordered(ListKeys::kItemRows);
  unordered.AddRow(2, {});
  unordered.AddRow(1, {});
  ASSERT_TRUE(unordered.Write(tmp.Path("u.rl")).ok());
  EXPECT_TRUE(
      absl::IsDataLoss(RankedLists::Read(tmp.Path("u.rl"), 5).status()));
}

TEST(RankedListsTest, RefusesRowsOutsideTheItemTable) {
  ScopedTempDir tmp("ranked_lists");
  RankedLists lists;
  lists.Add({{7, 1.0f}});
  ASSERT_TRUE(lists.Write(tmp.Path("l.rl")).ok());
  auto read = RankedLists::Read(tmp.Path("l.rl"), 5);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr("l.rl"));
}

TEST(RankedListsTest, RefusesTruncatedAndForeignFiles) {
  ScopedTempDir tmp("ranked_lists");
  RankedLists lists;
  lists.Add({{0, 1.0f}, {1, 0.5f}});
  ASSERT_TRUE(lists.Write(tmp.Path("l.rl")).ok());
  const std::string bytes = ReadFile(tmp.Path("l.rl"));
  for (size_t cut : {size_t{0}, size_t{5}, size_t{12}, bytes.size() - 1}) {
    WriteFile(tmp.Path("cut.rl"), bytes.substr(0, cut));
    EXPECT_EQ(RankedLists::Read(tmp.Path("cut.rl"), 2).status().code(),
              absl::StatusCode::kDataLoss)
        << cut;
  }
  WriteFile(tmp.Path("extra.rl"), bytes + "x");
  EXPECT_FALSE(RankedLists::Read(tmp.Path("extra.rl"), 2).ok());
  EXPECT_EQ(RankedLists::Read(tmp.Path("missing.rl"), 2).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recall
