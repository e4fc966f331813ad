#include "pipeline/data/gen_world.h"

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/data/word2vec_io.h"
#include "store/item_table.h"
#include "tests/test_util.h"

namespace recall {
namespace {

// Written whatever GenWorldOptions::extra_spaces says.
constexpr const char* kBaseFiles[] = {"items.tsv", "clicks.tsv", "users.txt",
                                      "vectors/dssm.item.vec",
                                      "vectors/dssm.user.vec"};
// Written only with GenWorldOptions::extra_spaces.
constexpr const char* kExtraFiles[] = {"vectors/item2vec.item.vec",
                                       "vectors/title2vec.item.vec",
                                       "vectors/tags.vec", "vectors/media.vec"};

std::vector<std::string> AllFiles() {
  std::vector<std::string> files(std::begin(kBaseFiles), std::end(kBaseFiles));
  files.insert(files.end(), std::begin(kExtraFiles), std::end(kExtraFiles));
  return files;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

GenWorldOptions SmallOptions() {
  GenWorldOptions options;
  options.items = 2000;
  options.users = 500;
  options.mean_clicks_per_user = 20;
  return options;
}

struct Click {
  std::string user;
  std::string item;
  int64_t ts;
};

class GenWorldTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return tmp_.Path(name); }

  std::vector<Click> ReadClicks(const std::string& world) {
    std::vector<std::string> lines = ReadLines(world + "/clicks.tsv");
    EXPECT_FALSE(lines.empty());
    if (lines.empty()) return {};
    EXPECT_EQ(lines[0], "user_id\titem_id\tts");
    std::vector<Click> clicks;
    for (size_t i = 1; i < lines.size(); ++i) {
      std::vector<std::string> f = absl::StrSplit(lines[i], '\t');
      EXPECT_EQ(f.size(), 3u) << lines[i];
      if (f.size() != 3) continue;
      Click click{f[0], f[1], 0};
      EXPECT_TRUE(absl::SimpleAtoi(f[2], &click.ts)) << lines[i];
      clicks.push_back(std::move(click));
    }
    return clicks;
  }

  ScopedTempDir tmp_{"gen_world_test"};
};

double Dot(const float* a, const float* b, int dim) {
  double sum = 0;
  for (int j = 0; j < dim; ++j) sum += static_cast<double>(a[j]) * b[j];
  return sum;
}

// Reads a word2vec file that must exist and parse.
VectorSet ReadVectors(const std::string& path) {
  absl::StatusOr<VectorSet> vectors = ReadWord2VecText(path);
  EXPECT_TRUE(vectors.ok()) << vectors.status();
  return vectors.ok() ? *std::move(vectors) : VectorSet();
}

// Every row has length 1.
void ExpectUnitRows(const VectorSet& vectors) {
  for (size_t i = 0; i < vectors.size(); ++i) {
    const float* v = vectors.row(i);
    ASSERT_NEAR(Dot(v, v, vectors.dim), 1.0, 1e-4) << vectors.ids[i];
  }
}

// Mean cosine over all pairs i < j of rows of unit vectors, by the class
// kind(i, j) of the pair, in [0, classes) or -1 for pairs left out. Every
// class must occur.
std::vector<double> MeanPairCosines(
    const VectorSet& vectors, int classes,
    const std::function<int(size_t, size_t)>& kind) {
  std::vector<double> sums(classes, 0.0);
  std::vector<int64_t> counts(classes, 0);
  for (size_t i = 0; i < vectors.size(); ++i) {
    for (size_t j = i + 1; j < vectors.size(); ++j) {
      const int k = kind(i, j);
      if (k < 0) continue;
      sums[k] += Dot(vectors.row(i), vectors.row(j), vectors.dim);
      ++counts[k];
    }
  }
  for (int k = 0; k < classes; ++k) {
    EXPECT_GT(counts[k], 0) << "class " << k;
    if (counts[k] > 0) sums[k] /= static_cast<double>(counts[k]);
  }
  return sums;
}

TEST_F(GenWorldTest, RejectsNonPositiveCountsAndDims) {
  const std::string out = Path("w");
  GenWorldOptions options = SmallOptions();
  options.items = 0;
  EXPECT_EQ(GenerateWorld(options, out).code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.users = -1;
  EXPECT_EQ(GenerateWorld(options, out).code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.dim = 0;
  EXPECT_EQ(GenerateWorld(options, out).code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.days = 0;
  EXPECT_EQ(GenerateWorld(options, out).code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.mean_clicks_per_user = 0;
  EXPECT_EQ(GenerateWorld(options, out).code(),
            absl::StatusCode::kInvalidArgument);
  options = SmallOptions();
  options.noise = -1;
  EXPECT_EQ(GenerateWorld(options, out).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GenWorldTest, SameSeedGivesIdenticalFilesOtherSeedDiffers) {
  const GenWorldOptions options = SmallOptions();
  ASSERT_TRUE(GenerateWorld(options, Path("a")).ok());
  ASSERT_TRUE(GenerateWorld(options, Path("b")).ok());
  GenWorldOptions other = options;
  other.seed = options.seed + 1;
  ASSERT_TRUE(GenerateWorld(other, Path("c")).ok());
  for (const std::string& file : AllFiles()) {
    SCOPED_TRACE(file);
    const std::string a = ReadFile(Path("a/") + file);
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(a == ReadFile(Path("b/") + file));
    if (file != "users.txt") {
      EXPECT_FALSE(a == ReadFile(Path("c/") + file));
    }
  }
}

TEST_F(GenWorldTest, ReplacesExistingFiles) {
  const GenWorldOptions options = SmallOptions();
  ASSERT_TRUE(GenerateWorld(options, Path("fresh")).ok());
  GenWorldOptions bigger = options;
  bigger.items = 3000;
  bigger.users = 700;
  ASSERT_TRUE(GenerateWorld(bigger, Path("reused")).ok());
  ASSERT_TRUE(GenerateWorld(options, Path("reused")).ok());
  for (const std::string& file : AllFiles()) {
    SCOPED_TRACE(file);
    EXPECT_TRUE(ReadFile(Path("fresh/") + file) ==
                ReadFile(Path("reused/") + file));
  }
}

TEST_F(GenWorldTest, TinyWorldWorks) {
  GenWorldOptions options;
  options.items = 1;
  options.users = 1;
  options.dim = 1;
  options.mean_clicks_per_user = 1;
  options.days = 1;
  ASSERT_TRUE(GenerateWorld(options, Path("tiny")).ok());
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(Path("tiny/items.tsv"));
  ASSERT_TRUE(items.ok()) << items.status();
  EXPECT_EQ(items->size(), 1);
  std::vector<Click> clicks = ReadClicks(Path("tiny"));
  ASSERT_GE(clicks.size(), 1u);
  EXPECT_EQ(clicks[0].user, "u0000001");
  EXPECT_EQ(clicks[0].item, items->item(0).id);
  for (const char* space : {"item2vec", "title2vec"}) {
    const VectorSet vectors =
        ReadVectors(absl::StrCat(Path("tiny/vectors/"), space, ".item.vec"));
    EXPECT_EQ(vectors.ids, std::vector<std::string>{items->item(0).id});
  }
  const VectorSet tags = ReadVectors(Path("tiny/vectors/tags.vec"));
  EXPECT_EQ(tags.size(), items->item(0).tags.size());
  const VectorSet media = ReadVectors(Path("tiny/vectors/media.vec"));
  EXPECT_EQ(media.ids, std::vector<std::string>{items->item(0).media_id});
}

TEST_F(GenWorldTest, OutputIsConsistent) {
  const GenWorldOptions options = SmallOptions();
  const std::string world = Path("world");
  ASSERT_TRUE(GenerateWorld(options, world).ok());

  // Items.
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), options.items);
  std::set<std::string> cat1s;
  std::set<std::string> cat2s;
  std::set<std::string> tags;
  std::set<std::string> media;
  const int64_t oldest =
      options.now_unix - static_cast<int64_t>(options.days) * 86400;
  int64_t newest_seen = 0;
  for (const Item& item : items->items()) {
    SCOPED_TRACE(item.id);
    // "20261025A0C3FL00": date, 'A', seven uppercase alphanumerics.
    ASSERT_EQ(item.id.size(), 16u);
    EXPECT_TRUE(std::all_of(item.id.begin(), item.id.begin() + 8, ::isdigit));
    EXPECT_EQ(item.id[8], 'A');
    EXPECT_TRUE(std::all_of(item.id.begin() + 9, item.id.end(), [](char c) {
      return std::isdigit(c) || std::isupper(c);
    }));
    EXPECT_GE(item.id.substr(0, 8), "20261002");
    EXPECT_LE(item.id.substr(0, 8), "20261101");
    EXPECT_GE(item.publish_ts, oldest);
    EXPECT_LE(item.publish_ts, options.now_unix);
    newest_seen = std::max(newest_seen, item.publish_ts);
    EXPECT_EQ(item.cat2.rfind(item.cat1 + "/", 0), 0u) << item.cat2;
    EXPECT_GE(item.tags.size(), 2u);
    EXPECT_LE(item.tags.size(), 6u);
    std::set<std::string> own_tags;
    for (size_t k = 0; k < item.tags.size(); ++k) {
      EXPECT_GT(item.tags[k].second, 0);
      EXPECT_LE(item.tags[k].second, 1);
      if (k > 0) {
        EXPECT_LE(item.tags[k].second, item.tags[k - 1].second);
      }
      EXPECT_TRUE(own_tags.insert(item.tags[k].first).second);
      EXPECT_NE(item.tags[k].first.find("_t"), std::string::npos);
      tags.insert(item.tags[k].first);
    }
    EXPECT_EQ(item.media_id.size(), 6u);
    EXPECT_EQ(item.media_id[0], 'm');
    EXPECT_GE(item.hotness, 0);
    EXPECT_GE(item.ctr, 0.005f);
    EXPECT_LE(item.ctr, 0.3f);
    cat1s.insert(item.cat1);
    cat2s.insert(item.cat2);
    media.insert(item.media_id);
  }
  EXPECT_EQ(cat1s.size(), 12u);
  EXPECT_GE(cat2s.size(), 36u);
  EXPECT_LE(tags.size(), 50u);
  EXPECT_GE(tags.size(), 30u);
  EXPECT_LE(media.size(), 20u);
  EXPECT_GE(newest_seen, options.now_unix - 86400);
  EXPECT_EQ(cat1s.count("sports"), 1u);
  EXPECT_EQ(cat2s.count("sports/football"), 1u);

  // Users.
  const std::vector<std::string> users = ReadLines(world + "/users.txt");
  ASSERT_EQ(users.size(), static_cast<size_t>(options.users));
  EXPECT_EQ(users.front(), "u0000001");
  EXPECT_EQ(users.back(), "u0000500");
  EXPECT_TRUE(std::is_sorted(users.begin(), users.end()));
  const std::set<std::string> user_set(users.begin(), users.end());
  EXPECT_EQ(user_set.size(), users.size());

  // Vectors: one per item and user, same order, unit length.
  for (const auto& [file, ids] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"dssm.item.vec", {}}, {"dssm.user.vec", users}}) {
    SCOPED_TRACE(file);
    absl::StatusOr<VectorSet> vectors =
        ReadWord2VecText(world + "/vectors/" + file);
    ASSERT_TRUE(vectors.ok()) << vectors.status();
    EXPECT_EQ(vectors->dim, options.dim);
    if (ids.empty()) {
      ASSERT_EQ(vectors->size(), static_cast<size_t>(items->size()));
      for (size_t i = 0; i < vectors->size(); ++i) {
        ASSERT_EQ(vectors->ids[i], items->item(i).id);
      }
    } else {
      EXPECT_EQ(vectors->ids, ids);
    }
    for (size_t i = 0; i < vectors->size(); ++i) {
      const float* v = vectors->row(i);
      ASSERT_NEAR(Dot(v, v, vectors->dim), 1.0, 1e-4);
    }
  }

  // Clicks.
  const std::vector<Click> clicks = ReadClicks(world);
  std::map<std::string, int> per_user;
  for (size_t i = 0; i < clicks.size(); ++i) {
    const Click& click = clicks[i];
    SCOPED_TRACE(absl::StrCat(click.user, " ", click.item, " ", click.ts));
    const ItemRow row = items->Find(click.item);
    ASSERT_NE(row, kNoItem);
    ASSERT_EQ(user_set.count(click.user), 1u);
    const int64_t published = items->item(row).publish_ts;
    EXPECT_GE(click.ts, published);
    EXPECT_LE(click.ts, std::min(options.now_unix, published + 3 * 86400));
    if (i > 0) {
      const Click& prev = clicks[i - 1];
      ASSERT_TRUE(prev.user < click.user ||
                  (prev.user == click.user && prev.ts <= click.ts));
    }
    ++per_user[click.user];
  }
  EXPECT_EQ(per_user.size(), users.size());  // everyone clicks at least once
  const double mean =
      static_cast<double>(clicks.size()) / static_cast<double>(users.size());
  EXPECT_GT(mean, 0.8 * options.mean_clicks_per_user);
  EXPECT_LT(mean, 1.2 * options.mean_clicks_per_user);
}

// A user's vector is close to items of its main interest and nearly
// orthogonal to items of categories it never clicks. The main interest is
// taken to be the user's most clicked cat2.
TEST_F(GenWorldTest, UserVectorsMatchTheirInterests) {
  const GenWorldOptions options = SmallOptions();
  const std::string world = Path("world");
  ASSERT_TRUE(GenerateWorld(options, world).ok());
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  absl::StatusOr<VectorSet> item_vecs =
      ReadWord2VecText(world + "/vectors/dssm.item.vec");
  ASSERT_TRUE(item_vecs.ok()) << item_vecs.status();
  absl::StatusOr<VectorSet> user_vecs =
      ReadWord2VecText(world + "/vectors/dssm.user.vec");
  ASSERT_TRUE(user_vecs.ok()) << user_vecs.status();
  const int dim = options.dim;

  absl::flat_hash_map<std::string, std::map<std::string, int>> cat2_clicks;
  absl::flat_hash_map<std::string, std::set<std::string>> cat1_clicked;
  for (const Click& click : ReadClicks(world)) {
    const Item& item = items->item(items->Find(click.item));
    ++cat2_clicks[click.user][item.cat2];
    cat1_clicked[click.user].insert(item.cat1);
  }

  std::vector<double> interest_cos;
  std::vector<double> interest_pair_cos;
  std::vector<double> unrelated_cos;
  for (size_t u = 0; u < user_vecs->size(); ++u) {
    const std::string& user = user_vecs->ids[u];
    const auto& counts = cat2_clicks[user];
    std::string top;
    int best = 0;
    for (const auto& [cat2, n] : counts) {
      if (n > best) best = n, top = cat2;
    }
    const std::set<std::string>& clicked = cat1_clicked[user];
    double interest_sum = 0;
    int interest_n = 0;
    for (ItemRow row = 0; row < items->size(); ++row) {
      const Item& item = items->item(row);
      const double cos = Dot(user_vecs->row(u), item_vecs->row(row), dim);
      if (item.cat2 == top) {
        interest_sum += cos;
        ++interest_n;
        interest_pair_cos.push_back(cos);
      } else if (clicked.count(item.cat1) == 0) {
        unrelated_cos.push_back(cos);
      }
    }
    if (interest_n > 0) interest_cos.push_back(interest_sum / interest_n);
  }
  ASSERT_FALSE(interest_cos.empty());
  ASSERT_FALSE(unrelated_cos.empty());
  auto mean = [](const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return sum / static_cast<double>(v.size());
  };
  auto quantile = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
  };
  std::printf(
      "cosine, user vs items of its top cat2 (per-user mean): mean %.3f "
      "p10 %.3f p50 %.3f p90 %.3f\n",
      mean(interest_cos), quantile(interest_cos, 0.1),
      quantile(interest_cos, 0.5), quantile(interest_cos, 0.9));
  std::printf(
      "cosine, user vs each item of its top cat2: mean %.3f p10 %.3f p50 "
      "%.3f p90 %.3f\n",
      mean(interest_pair_cos), quantile(interest_pair_cos, 0.1),
      quantile(interest_pair_cos, 0.5), quantile(interest_pair_cos, 0.9));
  std::printf(
      "cosine, user vs items of never-clicked cat1s: mean %.3f p10 %.3f "
      "p50 %.3f p90 %.3f\n",
      mean(unrelated_cos), quantile(unrelated_cos, 0.1),
      quantile(unrelated_cos, 0.5), quantile(unrelated_cos, 0.9));
  EXPECT_GT(mean(interest_cos), 0.5);
  EXPECT_LT(std::fabs(mean(unrelated_cos)), 0.2);
}

// The extra spaces come from random streams of their own: the other files
// are the same bytes with them on or off.
TEST_F(GenWorldTest, ExtraSpacesLeaveOtherFilesUnchanged) {
  GenWorldOptions options = SmallOptions();
  ASSERT_TRUE(GenerateWorld(options, Path("with")).ok());
  options.extra_spaces = false;
  ASSERT_TRUE(GenerateWorld(options, Path("without")).ok());
  for (const char* file : kBaseFiles) {
    SCOPED_TRACE(file);
    const std::string with = ReadFile(Path("with/") + file);
    ASSERT_FALSE(with.empty());
    EXPECT_TRUE(with == ReadFile(Path("without/") + file));
  }
  for (const char* file : kExtraFiles) {
    EXPECT_TRUE(std::filesystem::exists(Path("with/") + file)) << file;
    EXPECT_FALSE(std::filesystem::exists(Path("without/") + file)) << file;
  }
}

// Without the extra spaces, those files of an earlier world are removed, so
// that they cannot be mistaken for the new world's.
TEST_F(GenWorldTest, ExtraSpacesOffRemovesStaleFiles) {
  GenWorldOptions options = SmallOptions();
  ASSERT_TRUE(GenerateWorld(options, Path("w")).ok());
  options.extra_spaces = false;
  options.seed += 1;
  ASSERT_TRUE(GenerateWorld(options, Path("w")).ok());
  for (const char* file : kExtraFiles) {
    EXPECT_FALSE(std::filesystem::exists(Path("w/") + file)) << file;
  }
  for (const char* file : kBaseFiles) {
    EXPECT_TRUE(std::filesystem::exists(Path("w/") + file)) << file;
  }
}

// item2vec and title2vec hold one vector per item, in items.tsv order;
// tags.vec one per tag and media.vec one per media id that items.tsv uses,
// and no others.
TEST_F(GenWorldTest, ExtraVectorFilesMatchItems) {
  const GenWorldOptions options = SmallOptions();
  const std::string world = Path("world");
  ASSERT_TRUE(GenerateWorld(options, world).ok());
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  std::set<std::string> tags;
  std::set<std::string> media;
  for (const Item& item : items->items()) {
    for (const auto& [tag, weight] : item.tags) tags.insert(tag);
    media.insert(item.media_id);
  }

  for (const char* space : {"item2vec", "title2vec"}) {
    SCOPED_TRACE(space);
    const VectorSet vectors =
        ReadVectors(absl::StrCat(world, "/vectors/", space, ".item.vec"));
    EXPECT_EQ(vectors.dim, options.dim);
    ASSERT_EQ(vectors.size(), static_cast<size_t>(items->size()));
    for (size_t i = 0; i < vectors.size(); ++i) {
      ASSERT_EQ(vectors.ids[i], items->item(i).id);
    }
    ExpectUnitRows(vectors);
  }
  for (const auto& [file, ids] :
       std::vector<std::pair<std::string, std::set<std::string>>>{
           {"tags.vec", tags}, {"media.vec", media}}) {
    SCOPED_TRACE(file);
    const VectorSet vectors = ReadVectors(world + "/vectors/" + file);
    EXPECT_EQ(vectors.dim, options.dim);
    EXPECT_EQ(std::set<std::string>(vectors.ids.begin(), vectors.ids.end()),
              ids);
    EXPECT_EQ(vectors.size(), ids.size());  // no duplicates
    ExpectUnitRows(vectors);
  }
}

// Tags of one cat1 are close; tags of different cat1s are unrelated.
TEST_F(GenWorldTest, TagVectorsClusterByCat1) {
  const GenWorldOptions options = SmallOptions();
  const std::string world = Path("world");
  ASSERT_TRUE(GenerateWorld(options, world).ok());
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  absl::flat_hash_map<std::string, std::string> cat1_of;
  for (const Item& item : items->items()) {
    for (const auto& [tag, weight] : item.tags) {
      const auto [it, inserted] = cat1_of.emplace(tag, item.cat1);
      EXPECT_EQ(it->second, item.cat1) << tag;  // a tag has one cat1
    }
  }
  const VectorSet tags = ReadVectors(world + "/vectors/tags.vec");
  ASSERT_GT(tags.size(), 1u);
  std::vector<std::string> cat1(tags.size());
  for (size_t i = 0; i < tags.size(); ++i) cat1[i] = cat1_of[tags.ids[i]];
  const std::vector<double> cos = MeanPairCosines(
      tags, 2, [&](size_t i, size_t j) { return cat1[i] == cat1[j] ? 1 : 0; });
  std::printf("tags.vec mean cosine: same cat1 %.3f, different cat1 %.3f\n",
              cos[1], cos[0]);
  EXPECT_GT(cos[1], 0.3);
  EXPECT_LT(std::fabs(cos[0]), 0.1);
}

// A media vector points at the cat1 the media publishes most in.
TEST_F(GenWorldTest, MediaVectorsPointAtTheirCat1) {
  const GenWorldOptions options = SmallOptions();
  const std::string world = Path("world");
  ASSERT_TRUE(GenerateWorld(options, world).ok());
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  const VectorSet media = ReadVectors(world + "/vectors/media.vec");
  const VectorSet dssm = ReadVectors(world + "/vectors/dssm.item.vec");
  ASSERT_EQ(dssm.size(), static_cast<size_t>(items->size()));
  absl::flat_hash_map<std::string, std::map<std::string, int>> cat1_counts;
  for (const Item& item : items->items()) {
    ++cat1_counts[item.media_id][item.cat1];
  }
  double own_sum = 0;
  int64_t own_n = 0;
  double other_sum = 0;
  int64_t other_n = 0;
  for (size_t m = 0; m < media.size(); ++m) {
    std::string main_cat1;
    int best = 0;
    for (const auto& [cat1, n] : cat1_counts[media.ids[m]]) {
      if (n > best) best = n, main_cat1 = cat1;
    }
    for (ItemRow row = 0; row < items->size(); ++row) {
      const double cos = Dot(media.row(m), dssm.row(row), dssm.dim);
      if (items->item(row).cat1 == main_cat1) {
        own_sum += cos;
        ++own_n;
      } else {
        other_sum += cos;
        ++other_n;
      }
    }
  }
  ASSERT_GT(own_n, 0);
  ASSERT_GT(other_n, 0);
  const double own = own_sum / static_cast<double>(own_n);
  const double other = other_sum / static_cast<double>(other_n);
  std::printf(
      "media.vec vs dssm items, mean cosine: main cat1 %.3f, others %.3f\n",
      own, other);
  EXPECT_GT(own, 0.3);
  EXPECT_LT(std::fabs(other), 0.1);
}

// In item2vec, items of one cat2 are close and items of different cat1s are
// not; items of one media are a little closer still (the co-click pull),
// which dssm does not have. title2vec has the same structure, blurrier.
TEST_F(GenWorldTest, ItemSpacesClusterByCategory) {
  const GenWorldOptions options = SmallOptions();
  const std::string world = Path("world");
  ASSERT_TRUE(GenerateWorld(options, world).ok());
  absl::StatusOr<ItemTable> items = ItemTable::ReadTsv(world + "/items.tsv");
  ASSERT_TRUE(items.ok()) << items.status();
  // Pair classes: 0 different cat1, 1 same cat1 but different cat2, 2 same
  // cat2 and different media, 3 same cat2 and same media.
  auto kind = [&](size_t i, size_t j) {
    const Item& a = items->item(static_cast<ItemRow>(i));
    const Item& b = items->item(static_cast<ItemRow>(j));
    if (a.cat1 != b.cat1) return 0;
    if (a.cat2 != b.cat2) return 1;
    return a.media_id == b.media_id ? 3 : 2;
  };
  std::map<std::string, std::vector<double>> cos;
  for (const char* space : {"dssm", "item2vec", "title2vec"}) {
    const VectorSet vectors =
        ReadVectors(absl::StrCat(world, "/vectors/", space, ".item.vec"));
    ASSERT_EQ(vectors.size(), static_cast<size_t>(items->size()));
    cos[space] = MeanPairCosines(vectors, 4, kind);
    std::printf(
        "%-9s mean cosine: different cat1 %.3f, sibling cat2 %.3f, same "
        "cat2 %.3f, same cat2 and media %.3f\n",
        space, cos[space][0], cos[space][1], cos[space][2], cos[space][3]);
  }
  for (const char* space : {"item2vec", "title2vec"}) {
    SCOPED_TRACE(space);
    const std::vector<double>& c = cos[space];
    EXPECT_LT(std::fabs(c[0]), 0.1);
    EXPECT_GT(c[1], c[0] + 0.1);
    EXPECT_GT(c[2], c[1] + 0.1);
  }
  EXPECT_GT(cos["item2vec"][2], 0.5);
  EXPECT_GT(cos["title2vec"][2], 0.25);
  EXPECT_GT(cos["item2vec"][2], cos["title2vec"][2] + 0.1);
  // The media pull: same-media pairs gain over other pairs of their cat2 in
  // item2vec, not in dssm.
  EXPECT_GT(cos["item2vec"][3] - cos["item2vec"][2],
            cos["dssm"][3] - cos["dssm"][2] + 0.01);
}

// The default world (100k items, 100k users, 64 dims, ~3M clicks). Run
// with --gtest_also_run_disabled_tests to measure.
TEST_F(GenWorldTest, DISABLED_DefaultWorldTiming) {
  const GenWorldOptions options;
  const std::string world = Path("default");
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(GenerateWorld(options, world).ok());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("default world generated in %.2f s\n", seconds);
  for (const std::string& file : AllFiles()) {
    std::printf("  %-28s %10llu bytes\n", file.c_str(),
                static_cast<unsigned long long>(
                    std::filesystem::file_size(world + "/" + file)));
  }
  const auto read_start = std::chrono::steady_clock::now();
  absl::StatusOr<VectorSet> vectors =
      ReadWord2VecText(world + "/vectors/dssm.item.vec");
  ASSERT_TRUE(vectors.ok()) << vectors.status();
  std::printf("read dssm.item.vec (%zu x %d) in %.2f s\n", vectors->size(),
              vectors->dim,
              std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                            read_start)
                  .count());
  EXPECT_LT(seconds, 60.0);
}

}  // namespace
}  // namespace recall
