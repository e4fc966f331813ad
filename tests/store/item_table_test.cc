#include "store/item_table.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;
using ::testing::Pair;

// A fresh directory per test, removed afterwards.
class ItemTableTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return tmp_.Path(name); }

  // Writes `content` to a file named `name` and returns its path.
  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = Path(name);
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  // A file with the header followed by `rows` (each without newline).
  std::string WriteTable(const std::vector<std::string>& rows) {
    std::string content = absl::StrCat(kItemTsvHeader, "\n");
    for (const std::string& row : rows) absl::StrAppend(&content, row, "\n");
    return WriteFile("items.tsv", content);
  }

  // Expects ReadTsv of `path` to fail with INVALID_ARGUMENT naming
  // `path:line` and containing `problem`.
  void ExpectRejected(const std::string& path, int line,
                      const std::string& problem) {
    absl::StatusOr<ItemTable> table = ItemTable::ReadTsv(path);
    ASSERT_FALSE(table.ok());
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument)
        << table.status();
    EXPECT_THAT(std::string(table.status().message()),
                HasSubstr(absl::StrCat(path, ":", line, ": ")));
    EXPECT_THAT(std::string(table.status().message()), HasSubstr(problem));
  }

  ScopedTempDir tmp_{"item_table_test"};
};

constexpr char kGoodRow[] =
    "20261025A0C3FL00\tsports\tsports/football\tm00042\t"
    "football_t17:0.75;ball_t3:0.5\t1793400000\t12.5\t0.0425";

Item MakeItem(std::string id) {
  Item item;
  item.id = std::move(id);
  item.cat1 = "sports";
  item.cat2 = "sports/football";
  item.media_id = "m00042";
  item.tags = {{"football_t17", 0.75f}, {"ball_t3", 0.5f}};
  item.publish_ts = 1793400000;
  item.hotness = 12.5f;
  item.ctr = 0.0425f;
  return item;
}

TEST_F(ItemTableTest, AddAssignsDenseRowsAndFindLooksThemUp) {
  ItemTable table;
  ASSERT_TRUE(table.Add(MakeItem("a")).ok());
  ASSERT_TRUE(table.Add(MakeItem("b")).ok());
  EXPECT_EQ(table.size(), 2);
  EXPECT_EQ(table.Find("a"), 0);
  EXPECT_EQ(table.Find("b"), 1);
  EXPECT_EQ(table.Find("c"), kNoItem);
  EXPECT_EQ(table.item(1).id, "b");
}

TEST_F(ItemTableTest, AddRejectsEmptyDuplicateAndSeparators) {
  ItemTable table;
  ASSERT_TRUE(table.Add(MakeItem("a")).ok());

  absl::Status s = table.Add(MakeItem(""));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);

  s = table.Add(MakeItem("a"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("duplicate"));

  EXPECT_EQ(table.Add(MakeItem("x\ty")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table.Add(MakeItem("x\ny")).code(),
            absl::StatusCode::kInvalidArgument);
  Item bad_cat = MakeItem("c");
  bad_cat.cat2 = "sports\tfootball";
  EXPECT_EQ(table.Add(std::move(bad_cat)).code(),
            absl::StatusCode::kInvalidArgument);
  Item bad_media = MakeItem("d");
  bad_media.media_id = "m1\n";
  EXPECT_EQ(table.Add(std::move(bad_media)).code(),
            absl::StatusCode::kInvalidArgument);
  // Failed adds leave the table unchanged.
  EXPECT_EQ(table.size(), 1);
  EXPECT_EQ(table.Find("c"), kNoItem);
}

TEST_F(ItemTableTest, WriteThenReadRoundTrips) {
  ItemTable table;
  ASSERT_TRUE(table.Add(MakeItem("20261025A0C3FL00")).ok());
  Item no_tags = MakeItem("20261026A1B2C3D4");
  no_tags.tags.clear();
  no_tags.cat1 = "tech";
  no_tags.cat2 = "tech/ai";
  no_tags.publish_ts = -5;  // negative times are still integers
  no_tags.hotness = 0;
  no_tags.ctr = 1;
  ASSERT_TRUE(table.Add(std::move(no_tags)).ok());
  Item odd_tag = MakeItem("20261027AZZZZZZZ");
  odd_tag.tags = {{"a:b", 1.0f}};  // the weight follows the last ':'
  odd_tag.hotness = 123456.0f;
  odd_tag.ctr = 0.3f;
  ASSERT_TRUE(table.Add(std::move(odd_tag)).ok());

  const std::string path = Path("items.tsv");
  ASSERT_TRUE(table.WriteTsv(path).ok());
  absl::StatusOr<ItemTable> read = ItemTable::ReadTsv(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), table.size());
  for (ItemRow row = 0; row < table.size(); ++row) {
    const Item& want = table.item(row);
    const Item& got = read->item(row);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.cat1, want.cat1);
    EXPECT_EQ(got.cat2, want.cat2);
    EXPECT_EQ(got.media_id, want.media_id);
    EXPECT_EQ(got.tags, want.tags);
    EXPECT_EQ(got.publish_ts, want.publish_ts);
    EXPECT_EQ(got.hotness, want.hotness);
    EXPECT_EQ(got.ctr, want.ctr);
    EXPECT_EQ(read->Find(want.id), row);
  }
}

TEST_F(ItemTableTest, RoundTripKeepsSixSignificantDigits) {
  ItemTable table;
  Item item = MakeItem("a");
  item.hotness = 1234.56789f;
  item.ctr = 0.0123456789f;
  item.tags = {{"t", 0.333333333f}};
  ASSERT_TRUE(table.Add(std::move(item)).ok());
  const std::string path = Path("items.tsv");
  ASSERT_TRUE(table.WriteTsv(path).ok());
  absl::StatusOr<ItemTable> read = ItemTable::ReadTsv(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_NEAR(read->item(0).hotness, 1234.56789f, 1234.57 * 1e-5);
  EXPECT_NEAR(read->item(0).ctr, 0.0123456789f, 0.0123457 * 1e-5);
  EXPECT_NEAR(read->item(0).tags[0].second, 0.333333333f, 1e-6);
}

TEST_F(ItemTableTest, WriteReplacesExistingFile) {
  const std::string path = WriteFile("items.tsv", std::string(10000, 'x'));
  ItemTable table;
  ASSERT_TRUE(table.Add(MakeItem("a")).ok());
  ASSERT_TRUE(table.WriteTsv(path).ok());
  absl::StatusOr<ItemTable> read = ItemTable::ReadTsv(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 1);
}

TEST_F(ItemTableTest, WriteToMissingDirectoryFails) {
  ItemTable table;
  ASSERT_TRUE(table.Add(MakeItem("a")).ok());
  EXPECT_FALSE(table.WriteTsv(Path("no/such/dir/items.tsv")).ok());
}

TEST_F(ItemTableTest, ReadsParsedFields) {
  absl::StatusOr<ItemTable> table = ItemTable::ReadTsv(WriteTable({kGoodRow}));
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->size(), 1);
  const Item& item = table->item(0);
  EXPECT_EQ(item.id, "20261025A0C3FL00");
  EXPECT_EQ(item.cat1, "sports");
  EXPECT_EQ(item.cat2, "sports/football");
  EXPECT_EQ(item.media_id, "m00042");
  EXPECT_THAT(item.tags, ElementsAre(Pair("football_t17", FloatEq(0.75f)),
                                     Pair("ball_t3", FloatEq(0.5f))));
  EXPECT_EQ(item.publish_ts, 1793400000);
  EXPECT_FLOAT_EQ(item.hotness, 12.5f);
  EXPECT_FLOAT_EQ(item.ctr, 0.0425f);
}

TEST_F(ItemTableTest, AcceptsCrlfAndBlankLines) {
  const std::string path =
      WriteFile("items.tsv",
                absl::StrCat(kItemTsvHeader, "\r\n", kGoodRow, "\r\n\r\n\n"));
  absl::StatusOr<ItemTable> table = ItemTable::ReadTsv(path);
  ASSERT_TRUE(table.ok()) << table.status();
  ASSERT_EQ(table->size(), 1);
  EXPECT_FLOAT_EQ(table->item(0).ctr, 0.0425f);
}

TEST_F(ItemTableTest, MissingFileIsNotFound) {
  EXPECT_EQ(ItemTable::ReadTsv(Path("absent.tsv")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ItemTableTest, RejectsEmptyInput) {
  ExpectRejected(WriteFile("empty.tsv", ""), 1, "empty input");
}

TEST_F(ItemTableTest, RejectsHeaderWithoutRows) {
  ExpectRejected(WriteTable({}), 1, "empty input");
}

TEST_F(ItemTableTest, RejectsBadHeader) {
  ExpectRejected(WriteFile("a.tsv", absl::StrCat("id\tcat1\n", kGoodRow, "\n")),
                 1, "header");
}

TEST_F(ItemTableTest, RejectsMissingHeader) {
  ExpectRejected(WriteFile("a.tsv", absl::StrCat(kGoodRow, "\n")), 1, "header");
}

TEST_F(ItemTableTest, RejectsWrongColumnCount) {
  ExpectRejected(WriteTable({kGoodRow, "b\tsports\tsports/football\tm1"}), 3,
                 "4 columns, want 8");
  ExpectRejected(WriteTable({absl::StrCat(kGoodRow, "\textra")}), 2,
                 "9 columns, want 8");
}

TEST_F(ItemTableTest, RejectsDuplicateId) {
  ExpectRejected(WriteTable({kGoodRow, kGoodRow}), 3, "duplicate");
}

TEST_F(ItemTableTest, RejectsEmptyId) {
  ExpectRejected(
      WriteTable({"\tsports\tsports/football\tm1\t\t1793400000\t1\t0.1"}), 2,
      "empty item id");
}

TEST_F(ItemTableTest, RejectsBadNumbers) {
  const std::string prefix = "a\tsports\tsports/football\tm1\tt:1\t";
  struct Case {
    std::string tail;  // publish_ts, hotness, ctr
    std::string problem;
  };
  const std::vector<Case> cases = {
      {"soon\t1\t0.1", "publish_ts"},      {"1.5\t1\t0.1", "publish_ts"},
      {"\t1\t0.1", "publish_ts"},          {"1793400000\thot\t0.1", "hotness"},
      {"1793400000\t-1\t0.1", "hotness"},  {"1793400000\tinf\t0.1", "hotness"},
      {"1793400000\tnan\t0.1", "hotness"}, {"1793400000\t1\t1.5", "ctr"},
      {"1793400000\t1\t-0.1", "ctr"},      {"1793400000\t1\tnan", "ctr"},
      {"1793400000\t1\t", "ctr"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tail);
    ExpectRejected(WriteTable({kGoodRow, prefix + c.tail}), 3, c.problem);
  }
}

TEST_F(ItemTableTest, RejectsMalformedTags) {
  const std::vector<std::string> bad_tags = {"notag", ":0.5",   "t:abc",
                                             "t:-1",  "t:0.5;", "t:inf"};
  for (const std::string& tags : bad_tags) {
    SCOPED_TRACE(tags);
    ExpectRejected(WriteTable({absl::StrCat("a\tsports\tsports/football\tm1\t",
                                            tags, "\t1793400000\t1\t0.1")}),
                   2, "malformed tag");
  }
}

TEST_F(ItemTableTest, TitlesRoundTripByRow) {
  ItemTable items;
  ASSERT_TRUE(items.Add(MakeItem("a")).ok());
  ASSERT_TRUE(items.Add(MakeItem("b")).ok());
  ASSERT_TRUE(items.Add(MakeItem("c")).ok());
  const std::string path = Path("titles.tsv");
  ASSERT_TRUE(
      WriteTitlesTsv(path, items, {"Tab\there <b>bold</b>", "", "Ünïcode"})
          .ok());
  absl::StatusOr<std::vector<std::string>> titles = ReadTitlesTsv(path, items);
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_THAT(*titles, ElementsAre("Tab here <b>bold</b>", "", "Ünïcode"));
}

TEST_F(ItemTableTest, TitlesOfUnknownItemsAreSkippedAndBadRowsNamed) {
  ItemTable items;
  ASSERT_TRUE(items.Add(MakeItem("a")).ok());
  absl::StatusOr<std::vector<std::string>> titles = ReadTitlesTsv(
      WriteFile("t1.tsv", "item_id\ttitle\nzz\tgone\r\na\tkept\n\n"), items);
  ASSERT_TRUE(titles.ok()) << titles.status();
  EXPECT_THAT(*titles, ElementsAre("kept"));

  const std::string no_tab = WriteFile("t2.tsv", "item_id\ttitle\na kept\n");
  EXPECT_THAT(ReadTitlesTsv(no_tab, items).status().message(),
              HasSubstr(absl::StrCat(no_tab, ":2: no tab")));
  const std::string header = WriteFile("t3.tsv", "id\ttitle\n");
  EXPECT_THAT(ReadTitlesTsv(header, items).status().message(),
              HasSubstr(absl::StrCat(header, ":1: bad header")));
  const std::string utf8 = WriteFile("t4.tsv", "item_id\ttitle\na\t\xff\n");
  EXPECT_THAT(ReadTitlesTsv(utf8, items).status().message(),
              HasSubstr(absl::StrCat(utf8, ":2: the title is not UTF-8")));
  EXPECT_EQ(ReadTitlesTsv(Path("missing.tsv"), items).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recall
