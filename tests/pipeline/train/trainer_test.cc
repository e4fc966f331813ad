#include "pipeline/train/trainer.h"

#include <cmath>
#include <fstream>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/data/word2vec_io.h"
#include "store/item_table.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::HasSubstr;

double Cosine(const VectorSet& v, size_t a, size_t b) {
  double dot = 0, na = 0, nb = 0;
  for (int j = 0; j < v.dim; ++j) {
    dot += double{v.row(a)[j]} * v.row(b)[j];
    na += double{v.row(a)[j]} * v.row(a)[j];
    nb += double{v.row(b)[j]} * v.row(b)[j];
  }
  return dot / std::sqrt(na * nb);
}

// Two groups of 20 articles; every user reads within one group only, in
// sessions. Co-clicked articles must end up closer than articles never read
// together.
class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ItemTable items;
    for (int i = 0; i < 40; ++i) {
      Item item;
      item.id = absl::StrCat("item", i);
      item.cat1 = i < 20 ? "sports" : "finance";
      item.media_id = i < 20 ? "m_sports" : "m_finance";
      item.tags = {{i < 20 ? "football" : "stocks", 1.0f},
                   {i < 20 ? "goal" : "bonds", 0.5f}};
      item.publish_ts = 1000;
      ASSERT_TRUE(items.Add(item).ok());
    }
    ASSERT_TRUE(items.WriteTsv(tmp_.Path("items.tsv")).ok());
    std::ofstream clicks(tmp_.Path("clicks.tsv"));
    clicks << "user_id\titem_id\tts\n";
    std::mt19937 rng(7);
    for (int u = 0; u < 300; ++u) {
      const int group = u % 2;
      for (int c = 0; c < 12; ++c) {
        clicks << "u" << u << "\titem" << group * 20 + rng() % 20 << "\t"
               << 10000 + c * 60 << "\n";
      }
    }
  }
  ScopedTempDir tmp_{"trainer_test"};
};

TEST_F(TrainerTest, CoClickedItemsAreCloserThanRandomPairs) {
  TrainOptions options;
  options.world = tmp_.dir();
  options.spaces = {"item2vec", "media2vec", "tag2vec"};
  options.dim = 16;
  options.epochs = 20;
  options.subsample = 1;  // 40 items: every one is "frequent"
  options.threads = 1;    // deterministic
  auto report = TrainSpaces(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->spaces.at("item2vec").vectors, 40);
  EXPECT_THAT(report->ToText(), HasSubstr("item2vec"));

  auto vectors = ReadWord2VecText(tmp_.Path("vectors/item2vec.item.vec"));
  ASSERT_TRUE(vectors.ok()) << vectors.status();
  ASSERT_EQ(vectors->size(), 40u);
  std::map<std::string, size_t> at;
  for (size_t i = 0; i < vectors->size(); ++i) at[vectors->ids[i]] = i;
  double same = 0, other = 0;
  int n_same = 0, n_other = 0;
  for (int a = 0; a < 40; ++a) {
    for (int b = a + 1; b < 40; ++b) {
      const double c = Cosine(*vectors, at[absl::StrCat("item", a)],
                              at[absl::StrCat("item", b)]);
      if ((a < 20) == (b < 20)) {
        same += c;
        ++n_same;
      } else {
        other += c;
        ++n_other;
      }
    }
  }
  EXPECT_GT(same / n_same, other / n_other + 0.2)
      << "same group " << same / n_same << ", across " << other / n_other;

  // media2vec and tag2vec files land where the builder reads them.
  auto media = ReadWord2VecText(tmp_.Path("vectors/media.vec"));
  ASSERT_TRUE(media.ok());
  EXPECT_EQ(media->size(), 2u);
  auto tags = ReadWord2VecText(tmp_.Path("vectors/tags.vec"));
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 4u);
}

TEST_F(TrainerTest, RareItemsAreReportedNotSilentlyDropped) {
  std::ofstream(tmp_.Path("clicks.tsv"), std::ios::app)
      << "lonely\titem0\t99999\n";
  TrainOptions options;
  options.world = tmp_.dir();
  options.spaces = {"item2vec"};
  options.dim = 8;
  options.min_count = 1000;  // nothing is frequent enough
  auto report = TrainSpaces(options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TrainerTest, UnknownSpacesAndMissingTitlesAreErrors) {
  TrainOptions options;
  options.world = tmp_.dir();
  options.spaces = {"bert"};
  EXPECT_EQ(TrainSpaces(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.spaces = {"title2vec"};
  EXPECT_THAT(TrainSpaces(options).status().message(), HasSubstr("titles.tsv"));
}

}  // namespace
}  // namespace recall
