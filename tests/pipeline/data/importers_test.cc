#include "pipeline/data/importers.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/item_table.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// The fixtures live beside this file; CMake compiles it by absolute path.
std::string TestData(const std::string& name) {
  return (fs::path(__FILE__).parent_path() / "testdata" / name).string();
}

// Copies the fixture directory `name` into a scratch directory, for tests
// that break one file.
std::string CopyFixture(const ScopedTempDir& tmp, const std::string& name) {
  const std::string dir = tmp.Path("src_" + name);
  fs::copy(TestData(name), dir, fs::copy_options::recursive);
  return dir;
}

// ---------------------------------------------------------------- MovieLens

TEST(ImportMovieLensTest, WritesItemsClicksAndUsers) {
  ScopedTempDir tmp("importers_test");
  const std::string src = TestData("movielens");
  const std::string out = tmp.Path("world");
  absl::StatusOr<ImportReport> report = ImportMovieLens(src, out, {});
  ASSERT_TRUE(report.ok()) << report.status();

  EXPECT_EQ(ReadFile(out + "/items.tsv"),
            absl::StrCat(
                kItemTsvHeader, "\n",
                "ml_m1\tAdventure\tAdventure/Animation\tml_decade_1990s\t"
                "adventure:1;animation:1;children:1;comedy:1;fantasy:1;"
                "pixar:1;a1:0.5;a2:0.5;a3:0.5;badtag:0.5\t788918400\t4\t0.5\n",
                "ml_m2\tComedy\tComedy/Drama\tml_decade_1990s\t"
                "comedy:1;drama:1;romance:1;politics,_sort_of:1\t788918400\t1"
                "\t1\n",
                // No year: the first rating's time; no genres: "unknown".
                "ml_m3\tunknown\tunknown/all\tml_unknown\t\t700\t2\t0.5\n",
                // A year range "(2006–2007)" gives its first year; the user
                // tag "Drama" is the genre's tag.
                "ml_m4\tDrama\tDrama/all\tml_decade_2000s\tdrama:1\t1136073600"
                "\t1\t1\n",
                // Quoted title with "" and a trailing space; never rated.
                "ml_m6\tDrama\tDrama/Film-Noir\tml_decade_2000s\t"
                "drama:1;film-noir:1\t1009843200\t0\t0\n",
                // No year and no ratings.
                "ml_m7\tHorror\tHorror/all\tml_unknown\thorror:1\t0\t0\t0\n"));
  // Sorted by user id in byte order, then ts, then item id (the tie at 600).
  EXPECT_EQ(ReadFile(out + "/clicks.tsv"),
            "user_id\titem_id\tts\n"
            "ml_u1\tml_m2\t900\n"
            "ml_u1\tml_m1\t1000\n"
            "ml_u10\tml_m1\t600\n"
            "ml_u10\tml_m4\t600\n"
            "ml_u2\tml_m3\t700\n");
  // ml_u3 rated only below 4: no clicks, not a user.
  EXPECT_EQ(ReadFile(out + "/users.txt"), "ml_u1\nml_u10\nml_u2\n");
  // Titles for title2vec, quoted CSV titles unquoted.
  const std::string titles = ReadFile(out + "/titles.tsv");
  EXPECT_EQ(titles.substr(0, titles.find('\n') + 1), "item_id\ttitle\n");
  EXPECT_NE(titles.find("ml_m1\tToy Story (1995)\n"), std::string::npos);
  EXPECT_NE(titles.find("ml_m2\tAmerican President, The (1995)\n"),
            std::string::npos);

  EXPECT_EQ(report->rows_read, 30);
  EXPECT_EQ(report->rows_kept, 20);
  EXPECT_THAT(report->skipped,
              ElementsAre(Pair("empty tag", 1), Pair("malformed row", 4),
                          Pair("movie not in movies.csv", 2),
                          Pair("rating below 4", 3)));
  int64_t skipped = 0;
  for (const auto& [reason, count] : report->skipped) skipped += count;
  EXPECT_EQ(report->rows_read, report->rows_kept + skipped);
  EXPECT_EQ(report->error_count, 6);
  EXPECT_THAT(
      report->errors,
      ElementsAre(src + "/movies.csv:6: 2 columns, want 3",
                  src + "/movies.csv:9: bad quoting",
                  src + "/ratings.csv:7: movieId 99 is not in movies.csv",
                  src + "/ratings.csv:8: bad rating \"abc\"",
                  src + "/tags.csv:7: movieId 99 is not in movies.csv",
                  src + "/tags.csv:9: 3 columns, want 4"));
  EXPECT_EQ(report->items, 6);
  EXPECT_EQ(report->users, 3);
  EXPECT_EQ(report->clicks, 5);

  const std::string text = report->ToText();
  EXPECT_THAT(text, HasSubstr("rows read 30, kept 20\n"));
  EXPECT_THAT(text, HasSubstr("skipped 3: rating below 4\n"));
  EXPECT_THAT(text, HasSubstr("6 malformed rows:\n  " + src +
                              "/movies.csv:6: 2 columns, want 3\n"));
  EXPECT_THAT(text, HasSubstr("wrote 6 items, 3 users, 5 clicks\n"));

  // The builder's reader accepts the item table.
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(out + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(items->size(), 6);
}

TEST(ImportMovieLensTest, MinRatingChangesClicksAndCtr) {
  ScopedTempDir tmp("importers_test");
  const std::string out = tmp.Path("world");
  absl::StatusOr<ImportReport> report =
      ImportMovieLens(TestData("movielens"), out, {.min_rating = 3.5});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->clicks, 6);
  EXPECT_EQ(report->skipped.at("rating below 3.5"), 2);
  EXPECT_THAT(ReadFile(out + "/clicks.tsv"), HasSubstr("ml_u1\tml_m3\t1100\n"));
  EXPECT_THAT(
      ReadFile(out + "/items.tsv"),
      HasSubstr("ml_m3\tunknown\tunknown/all\tml_unknown\t\t700\t2\t1\n"));
}

TEST(ImportMovieLensTest, TagsFileIsOptional) {
  ScopedTempDir tmp("importers_test");
  const std::string src = CopyFixture(tmp, "movielens");
  fs::remove(src + "/tags.csv");
  const std::string out = tmp.Path("world");
  absl::StatusOr<ImportReport> report = ImportMovieLens(src, out, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows_read, 18);
  EXPECT_THAT(ReadFile(out + "/items.tsv"),
              HasSubstr("\tadventure:1;animation:1;children:1;comedy:1;"
                        "fantasy:1\t"));
}

TEST(ImportMovieLensTest, FailsOnMissingOrEmptyRequiredFiles) {
  ScopedTempDir tmp("importers_test");
  const std::string src = CopyFixture(tmp, "movielens");
  const std::string out = tmp.Path("world");

  fs::remove(src + "/ratings.csv");
  absl::StatusOr<ImportReport> report = ImportMovieLens(src, out, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr(src + "/ratings.csv"));

  WriteFile(src + "/ratings.csv", "userId,movieId,rating,timestamp\n");
  report = ImportMovieLens(src, out, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr(src + "/ratings.csv: no data rows"));

  WriteFile(src + "/ratings.csv", "");
  report = ImportMovieLens(src, out, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr(src + "/ratings.csv:1: empty input"));

  WriteFile(src + "/ratings.csv", "user,movie,rating,ts\n1,1,5,1\n");
  report = ImportMovieLens(src, out, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr(src + "/ratings.csv:1: bad header"));

  fs::remove(src + "/movies.csv");
  report = ImportMovieLens(src, out, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr(src + "/movies.csv"));
  EXPECT_FALSE(fs::exists(out)) << "nothing is written on failure";
}

TEST(ImportMovieLensTest, FailsWhenNothingUsableRemains) {
  ScopedTempDir tmp("importers_test");
  const std::string out = tmp.Path("world");
  absl::StatusOr<ImportReport> report =
      ImportMovieLens(TestData("movielens"), out, {.min_rating = 6});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("no usable ratings >= 6"));

  const std::string src = CopyFixture(tmp, "movielens");
  WriteFile(src + "/movies.csv", "movieId,title,genres\nx,Bad,Drama\n");
  report = ImportMovieLens(src, out, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("no usable movies"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(ImportMovieLensTest, KeepsOnlyTheFirstErrorsButCountsAll) {
  ScopedTempDir tmp("importers_test");
  const std::string src = CopyFixture(tmp, "movielens");
  std::string ratings = ReadFile(src + "/ratings.csv");
  for (int i = 0; i < 30; ++i) ratings += "1,1,oops,5\n";
  WriteFile(src + "/ratings.csv", ratings);
  absl::StatusOr<ImportReport> report =
      ImportMovieLens(src, tmp.Path("world"), {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->error_count, 36);
  EXPECT_EQ(report->errors.size(), static_cast<size_t>(kMaxReportedErrors));
  EXPECT_EQ(report->skipped.at("malformed row"), 34);
  EXPECT_THAT(report->ToText(),
              HasSubstr("36 malformed rows (first 20 shown)"));
}

// Run by hand on the real data set (read-only; output under the temp dir):
//   RECALL_MOVIELENS_DIR=/path/to/ml-latest-small importers_test
//     --gtest_also_run_disabled_tests --gtest_filter='*RealMovieLens*'
// Without the variable it looks in ../shared/data/ml-latest-small beside the
// repository.
TEST(ImportMovieLensTest, DISABLED_RealMovieLensSmall) {
  const char* env = std::getenv("RECALL_MOVIELENS_DIR");
  const std::string src = env != nullptr
                              ? env
                              : (fs::path(__FILE__).parent_path() /
                                 "../../../shared/data/ml-latest-small")
                                    .lexically_normal()
                                    .string();
  if (!fs::exists(src + "/ratings.csv")) GTEST_SKIP() << "no data at " << src;
  ScopedTempDir tmp("importers_real");
  absl::StatusOr<ImportReport> report =
      ImportMovieLens(src, tmp.Path("world"), {});
  ASSERT_TRUE(report.ok()) << report.status();
  std::cout << report->ToText();
  EXPECT_GT(report->clicks, 0);
  EXPECT_TRUE(ItemTable::ReadTsv(tmp.Path("world/items.tsv")).ok());
}

// ---------------------------------------------------------------- MIND

// Times of the fixture's impressions (UTC).
constexpr int64_t kU1First = 1573390800;   // 11/10/2019 1:00:00 PM
constexpr int64_t kU1Second = 1573463158;  // 11/11/2019 9:05:58 AM
constexpr int64_t kU2First = 1573516800;   // 11/12/2019 12:00:00 AM
constexpr int64_t kU2Second = 1573561800;  // 11/12/2019 12:30:00 PM

TEST(ImportMindTest, WritesItemsClicksAndUsers) {
  ScopedTempDir tmp("importers_test");
  const std::string src = TestData("mind");
  const std::string out = tmp.Path("world");
  absl::StatusOr<ImportReport> report = ImportMind(src, out);
  ASSERT_TRUE(report.ok()) << report.status();

  EXPECT_EQ(
      ReadFile(out + "/items.tsv"),
      absl::StrCat(
          kItemTsvHeader, "\n",
          // Shown first to U1 (11/10, not clicked), clicked by U1's
          // history and by U2.
          "N1\tsports\tsports/football_nfl\tmind\tfootball_nfl:1;"
          "new_england_patriots:0.5;tom_brady:0.5\t",
          kU1First, "\t2\t0.5\n",
          // \u00e9 decoded, ';' removed.
          "N2\tnews\tnews/newsus\tmind\tnewsus:1;caf\xC3\xA9_society:0.5\t",
          kU1Second, "\t1\t0.5\n",
          "N3\tfinance\tfinance/finance-companies\tmind\tfinance-companies:1\t",
          kU1Second, "\t2\t1\n",
          // Empty subcategory.
          "N4\tnews\tnews/all\tmind\tnewsus:0.5;joe_\"the\"_smith:0.5\t",
          kU1First, "\t1\t0.5\n",
          "N5\tlifestyle\tlifestyle/lifestyleroyals\tmind\tlifestyleroyals:1"
          "\t0\t0\t0\n",
          // Never shown: its earliest (history) click; the "Golf" label
          // repeats the subcategory tag.
          "N6\tsports\tsports/golf\tmind\tgolf:1\t", kU1First - 3, "\t1\t0\n"));

  // U1's history comes from its first impression (line 3, [N6 N404 N1]),
  // not from the earlier line 1, and is placed just before that impression
  // with N404's slot kept. The tie at kU1Second is broken by item id.
  EXPECT_EQ(ReadFile(out + "/clicks.tsv"),
            absl::StrCat("user_id\titem_id\tts\n",        //
                         "U1\tN6\t", kU1First - 3, "\n",  //
                         "U1\tN1\t", kU1First - 1, "\n",  //
                         "U1\tN4\t", kU1First, "\n",      //
                         "U1\tN2\t", kU1Second, "\n",     //
                         "U1\tN3\t", kU1Second, "\n",     //
                         "U2\tN1\t", kU2First, "\n",      //
                         "U2\tN3\t", kU2Second, "\n"));
  EXPECT_EQ(ReadFile(out + "/users.txt"), "U1\nU2\n");

  EXPECT_EQ(report->rows_read, 15);
  EXPECT_EQ(report->rows_kept, 10);
  EXPECT_THAT(report->skipped,
              ElementsAre(Pair("history item not in news.tsv", 1),
                          Pair("impression item not in news.tsv", 1),
                          Pair("malformed row", 5)));
  EXPECT_EQ(report->error_count, 5);
  EXPECT_THAT(
      report->errors,
      ElementsAre(
          src + "/news.tsv:7: duplicate news_id \"N1\"",
          src + "/news.tsv:8: 3 columns, want 8",
          src + "/behaviors.tsv:5: bad time \"13/40/2019 1:00:00 PM\" (want "
                "M/D/YYYY h:mm:ss AM|PM)",
          src + "/behaviors.tsv:6: bad impression \"N3-x\" (want newsid-0 or "
                "newsid-1)",
          src + "/behaviors.tsv:7: 4 columns, want 5"));
  EXPECT_EQ(report->items, 6);
  EXPECT_EQ(report->users, 2);
  EXPECT_EQ(report->clicks, 7);
}

// Regression (issue 21): a lone UTF-16 surrogate escape in a label was
// decoded into invalid UTF-8 and stopped the whole import.
TEST(ImportMindTest, LoneSurrogatesAndBadEntityListsAreCountedNotFatal) {
  ScopedTempDir tmp("importers_test");
  const std::string src = CopyFixture(tmp, "mind");
  const std::string out = tmp.Path("world");
  WriteFile(src + "/news.tsv",
            "N1\tnews\tnewsus\tT1\tA\thttp://x\t"
            "[{\"Label\": \"Caf\\ud83d\", \"Type\": \"O\"}, "
            "{\"Label\": \"\\ud83d\\ude00 Smile \\\\ud83d\"}, "
            "{\"Label\": \"x\\udc00\"}]\t[]\n"
            "N2\tnews\tnewsus\tT2\tA\thttp://x\t[{\"Label\": \"Broken\"\t[]\n");
  WriteFile(src + "/behaviors.tsv",
            "1\tU1\t11/11/2019 9:05:58 AM\t\tN1-1 N2-1\n");
  absl::StatusOr<ImportReport> report = ImportMind(src, out);
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string items = ReadFile(out + "/items.tsv");
  // U+FFFD for the lone halves; the pair decoded; "\\ud83d" is text.
  EXPECT_THAT(items, HasSubstr("caf\xEF\xBF\xBD:0.5"));
  EXPECT_THAT(items, HasSubstr("\xF0\x9F\x98\x80_smile_\\ud83d:0.5"));
  EXPECT_THAT(items, HasSubstr("x\xEF\xBF\xBD:0.5"));
  EXPECT_THAT(items, HasSubstr("N2\tnews\tnews/newsus\tmind\tnewsus:1\t"));
  EXPECT_EQ(report->skipped["entity label with a lone surrogate (replaced)"],
            2);
  EXPECT_EQ(report->skipped["entity list not valid JSON (labels skipped)"], 1);
  EXPECT_EQ(report->items, 2);
}

TEST(ImportMindTest, FailsOnMissingFilesOrNoClicks) {
  ScopedTempDir tmp("importers_test");
  const std::string src = CopyFixture(tmp, "mind");
  const std::string out = tmp.Path("world");

  WriteFile(src + "/behaviors.tsv",
            "1\tU1\t11/11/2019 9:05:58 AM\tN404\tN1-0 N2-0\n");
  absl::StatusOr<ImportReport> report = ImportMind(src, out);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("no usable clicks"));

  WriteFile(src + "/behaviors.tsv", "");
  report = ImportMind(src, out);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr(src + "/behaviors.tsv: no data rows"));

  fs::remove(src + "/behaviors.tsv");
  report = ImportMind(src, out);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr(src + "/behaviors.tsv"));

  fs::remove(src + "/news.tsv");
  report = ImportMind(src, out);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr(src + "/news.tsv"));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace recall
