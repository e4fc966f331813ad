#include "pipeline/data/split.h"

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kItems[] =
    "item_id\tcat1\tcat2\tmedia_id\ttags\tpublish_ts\thotness\tctr\n"
    "a\tc\tc/x\tm\tt:1\t1\t1\t0.5\n"
    "b\tc\tc/x\tm\t\t1\t1\t0.5\n";

class SplitTest : public ::testing::Test {
 protected:
  // Writes a world with kItems and the given clicks.tsv body (no header).
  std::string MakeWorld(const std::string& name, const std::string& clicks) {
    const std::string dir = tmp_.Path(name);
    fs::create_directories(dir);
    WriteFile(dir + "/items.tsv", kItems);
    WriteFile(dir + "/clicks.tsv", "user_id\titem_id\tts\n" + clicks);
    return dir;
  }

  // Splits `clicks` with `options`; train clicks.tsv and test body (no
  // header) go to *train / *test.
  absl::StatusOr<SplitReport> Split(const std::string& clicks,
                                    const SplitOptions& options,
                                    std::string* train, std::string* test) {
    const std::string world = MakeWorld(absl::StrCat("w", ++runs_), clicks);
    const std::string train_world = tmp_.Path(absl::StrCat("train", runs_));
    const std::string test_tsv = tmp_.Path(absl::StrCat("test", runs_, ".tsv"));
    absl::StatusOr<SplitReport> report =
        SplitWorld(world, train_world, test_tsv, options);
    if (report.ok()) {
      const std::string header = "user_id\titem_id\tts\n";
      *train = ReadFile(train_world + "/clicks.tsv");
      *test = ReadFile(test_tsv);
      EXPECT_EQ(train->substr(0, header.size()), header);
      EXPECT_EQ(test->substr(0, header.size()), header);
      train->erase(0, header.size());
      test->erase(0, header.size());
      users_ = ReadFile(train_world + "/users.txt");
    }
    return report;
  }

  ScopedTempDir tmp_{"split_test"};
  int runs_ = 0;
  std::string users_;  // train users.txt of the last Split
};

// u1: 4 clicks, two of them at ts 30 (tie broken by item id: a before b);
// u2: 1 click; u3: 2 clicks. In file order that is neither sorted by user
// nor by time.
constexpr char kClicks[] =
    "u3\ta\t5\n"
    "u1\tb\t30\n"
    "u1\ta\t10\n"
    "u2\tb\t7\n"
    "u1\ta\t30\n"
    "u3\tb\t6\n"
    "u1\tb\t20\n";

TEST_F(SplitTest, LastNKeepsOneTrainingClickPerUser) {
  std::string train, test;
  absl::StatusOr<SplitReport> report =
      Split(kClicks, {.last_n = 2}, &train, &test);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(train,
            "u1\ta\t10\n"
            "u1\tb\t20\n"
            "u2\tb\t7\n"
            "u3\ta\t5\n");
  // u1: the last two in (ts, item) order; u3: one of two (capped at n - 1);
  // u2: its only click stays in training.
  EXPECT_EQ(test,
            "u1\ta\t30\n"
            "u1\tb\t30\n"
            "u3\tb\t6\n");
  EXPECT_EQ(users_, "u1\nu2\nu3\n");
  EXPECT_EQ(report->train_clicks, 4);
  EXPECT_EQ(report->test_clicks, 3);
  EXPECT_EQ(report->test_users, 2);
  EXPECT_EQ(report->ToText(),
            "train clicks 4, test clicks 3 (42.9%), test users 2\n");
}

TEST_F(SplitTest, TieBreakPicksTheLargerItemIdForTest) {
  std::string train, test;
  ASSERT_TRUE(Split(kClicks, {.last_n = 1}, &train, &test).ok());
  EXPECT_EQ(test,
            "u1\tb\t30\n"
            "u3\tb\t6\n");
  EXPECT_THAT(train, HasSubstr("u1\ta\t30\n"));
}

TEST_F(SplitTest, IsDeterministicWhateverTheInputOrder) {
  std::string train1, test1, train2, test2;
  ASSERT_TRUE(Split(kClicks, {.last_n = 1}, &train1, &test1).ok());
  const std::string reversed =
      "u1\tb\t20\n"
      "u3\tb\t6\n"
      "u1\ta\t30\n"
      "u2\tb\t7\n"
      "u1\ta\t10\n"
      "u1\tb\t30\n"
      "u3\ta\t5\n";
  ASSERT_TRUE(Split(reversed, {.last_n = 1}, &train2, &test2).ok());
  EXPECT_EQ(train1, train2);
  EXPECT_EQ(test1, test2);
}

TEST_F(SplitTest, LastFractionRoundsUpWithAtLeastOneAndNeverAll) {
  // u1: 4 clicks, u2: 1 click, u3: 2 clicks, u4: 100 clicks.
  std::string clicks = kClicks;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&clicks, "u4\t", i % 2 == 0 ? "a" : "b", "\t", 1000 + i,
                    "\n");
  }
  std::string train, test;
  // 0.07 * 100 is 7.000000000000001 in doubles, and must still give 7.
  absl::StatusOr<SplitReport> report =
      Split(clicks, {.last_fraction = 0.07}, &train, &test);
  ASSERT_TRUE(report.ok()) << report.status();
  // u1: ceil(0.28) = 1; u2: 0 (its only click); u3: at least 1; u4: 7.
  EXPECT_EQ(report->test_clicks, 1 + 0 + 1 + 7);
  EXPECT_EQ(report->train_clicks, 3 + 1 + 1 + 93);
  EXPECT_EQ(report->test_users, 3);
  EXPECT_THAT(test, HasSubstr("u1\tb\t30\nu3\tb\t6\nu4\tb\t1093\n"));

  // 0.3 of 4 = 1.2 -> 2.
  ASSERT_TRUE(Split(kClicks, {.last_fraction = 0.3}, &train, &test).ok());
  EXPECT_EQ(test, "u1\ta\t30\nu1\tb\t30\nu3\tb\t6\n");

  // All: every user still keeps one training click.
  report = Split(kClicks, {.last_fraction = 1}, &train, &test);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(train, "u1\ta\t10\nu2\tb\t7\nu3\ta\t5\n");
  EXPECT_EQ(report->test_clicks, 4);
  EXPECT_EQ(users_, "u1\nu2\nu3\n");
}

TEST_F(SplitTest, CutoffIsGlobal) {
  std::string train, test;
  absl::StatusOr<SplitReport> report =
      Split(kClicks, {.cutoff_unix = 7}, &train, &test);
  ASSERT_TRUE(report.ok()) << report.status();
  // ts >= 7 is test. u2's only click is at the cut-off: u2 has no training
  // click (a cold-start user) and is not in the training users.
  EXPECT_EQ(train, "u3\ta\t5\nu3\tb\t6\n");
  EXPECT_EQ(test,
            "u1\ta\t10\n"
            "u1\tb\t20\n"
            "u1\ta\t30\n"
            "u1\tb\t30\n"
            "u2\tb\t7\n");
  EXPECT_EQ(users_, "u3\n");
  EXPECT_EQ(report->train_clicks, 2);
  EXPECT_EQ(report->test_clicks, 5);
  EXPECT_EQ(report->test_users, 2);
}

TEST_F(SplitTest, CopiesItemsAndVectors) {
  const std::string world = MakeWorld("world", kClicks);
  fs::create_directories(world + "/vectors");
  WriteFile(world + "/vectors/dssm.item.vec", "2 1\na 1\nb 1\n");
  const std::string train_world = tmp_.Path("train");
  ASSERT_TRUE(
      SplitWorld(world, train_world, tmp_.Path("out/test.tsv"), {.last_n = 1})
          .ok());
  EXPECT_EQ(ReadFile(train_world + "/items.tsv"), kItems);
  EXPECT_EQ(ReadFile(train_world + "/vectors/dssm.item.vec"),
            "2 1\na 1\nb 1\n");
  EXPECT_TRUE(fs::exists(tmp_.Path("out/test.tsv")));

  // Runs again over existing output.
  EXPECT_TRUE(
      SplitWorld(world, train_world, tmp_.Path("out/test.tsv"), {.last_n = 2})
          .ok());
}

TEST_F(SplitTest, ACutoffLeavesOutTheItemsPublishedAfterIt) {
  const std::string world = tmp_.Path("later");
  fs::create_directories(world + "/vectors");
  WriteFile(world + "/items.tsv",
            "item_id\tcat1\tcat2\tmedia_id\ttags\tpublish_ts\thotness\tctr\n"
            "a\tc\tc/x\tm\tt:1\t1\t1\t0.5\n"
            "late\tc\tc/x\tm\t\t8\t1\t0.5\n");
  WriteFile(world + "/clicks.tsv",
            "user_id\titem_id\tts\nu1\ta\t5\nu1\tlate\t9\n");
  WriteFile(world + "/vectors/dssm.item.vec", "2 1\na 1\nlate 0.5\n");
  WriteFile(world + "/vectors/tags.vec", "1 1\nt 1\n");
  SplitOptions options{.cutoff_unix = 7};
  options.new_items_dir = tmp_.Path("new");
  absl::StatusOr<SplitReport> report =
      SplitWorld(world, tmp_.Path("t"), tmp_.Path("test.tsv"), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->new_items, 1);
  EXPECT_THAT(report->ToText(), HasSubstr("after the cut-off 1"));
  EXPECT_THAT(ReadFile(tmp_.Path("t/items.tsv")), HasSubstr("\na\t"));
  EXPECT_THAT(ReadFile(tmp_.Path("t/items.tsv")), Not(HasSubstr("late")));
  EXPECT_THAT(ReadFile(tmp_.Path("t/vectors/dssm.item.vec")),
              Not(HasSubstr("late")));
  EXPECT_EQ(ReadFile(tmp_.Path("t/vectors/tags.vec")), "1 1\nt 1\n");
  EXPECT_THAT(ReadFile(tmp_.Path("new/items.tsv")), HasSubstr("\nlate\t"));
  EXPECT_THAT(ReadFile(tmp_.Path("new/dssm.item.vec")), HasSubstr("late 0.5"));
}

TEST_F(SplitTest, RejectsBadOptions) {
  const std::string world = MakeWorld("world", kClicks);
  const std::string train = tmp_.Path("train");
  const std::string test = tmp_.Path("test.tsv");
  for (const SplitOptions& options : {
           SplitOptions{},
           SplitOptions{.last_n = 1, .last_fraction = 0.5},
           SplitOptions{.last_n = 1, .cutoff_unix = 5},
           SplitOptions{.last_n = -1},
           SplitOptions{.last_fraction = 1.5},
           SplitOptions{.last_fraction = -0.1},
       }) {
    absl::StatusOr<SplitReport> report =
        SplitWorld(world, train, test, options);
    EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument)
        << options.last_n << " " << options.last_fraction << " "
        << options.cutoff_unix;
  }
  EXPECT_FALSE(fs::exists(train));
  EXPECT_EQ(SplitWorld(world, world, test, {.last_n = 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SplitTest, RejectsMalformedInput) {
  const std::string train = tmp_.Path("train");
  const std::string test = tmp_.Path("test.tsv");
  std::string world = MakeWorld("bad_ts", "u1\ta\t1\nu1\tb\tlater\n");
  absl::StatusOr<SplitReport> report =
      SplitWorld(world, train, test, {.last_n = 1});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr(world + "/clicks.tsv:3: bad ts \"later\""));

  world = MakeWorld("bad_columns", "u1\ta\n");
  report = SplitWorld(world, train, test, {.last_n = 1});
  EXPECT_THAT(report.status().message(),
              HasSubstr(world + "/clicks.tsv:2: malformed row"));

  world = MakeWorld("bad_header", "");
  WriteFile(world + "/clicks.tsv", "user\titem\tts\nu1\ta\t1\n");
  report = SplitWorld(world, train, test, {.last_n = 1});
  EXPECT_THAT(report.status().message(),
              HasSubstr(world + "/clicks.tsv:1: bad header"));

  world = MakeWorld("empty", "");
  report = SplitWorld(world, train, test, {.last_n = 1});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("no clicks"));

  world = MakeWorld("no_items", kClicks);
  fs::remove(world + "/items.tsv");
  report = SplitWorld(world, train, test, {.last_n = 1});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr(world + "/items.tsv"));

  world = MakeWorld("no_clicks", kClicks);
  fs::remove(world + "/clicks.tsv");
  report = SplitWorld(world, train, test, {.last_n = 1});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr(world + "/clicks.tsv"));
  EXPECT_FALSE(fs::exists(train));
}

}  // namespace
}  // namespace recall
