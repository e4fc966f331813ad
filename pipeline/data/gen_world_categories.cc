#include "pipeline/data/gen_world_categories.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "pipeline/data/gen_world_random.h"

namespace recall {
namespace gen_world_categories {
namespace {

using gen_world_random::DecimalDigits;
using gen_world_random::kTopicStream;
using gen_world_random::Normalize;
using gen_world_random::PaddedId;
using gen_world_random::RandomUnit;
using gen_world_random::Rng;
using gen_world_random::ZipfCdf;

// Tuning constants of the category model, like those in gen_world.cc:
// changing either changes the output for every seed.
constexpr double kTagZipfExponent = 1.1;
constexpr double kMediaZipfExponent = 0.8;

struct CategorySpec {
  absl::string_view cat1;
  double weight;              // relative share of items and of user interests
  absl::string_view cat2[6];  // leaf names; empty entries are unused
};

constexpr CategorySpec kCategories[] = {
    {"sports", 0.14, {"football", "basketball", "tennis", "f1", "olympics"}},
    {"finance",
     0.10,
     {"stocks", "banking", "crypto", "real_estate", "economy"}},
    {"tech", 0.10, {"ai", "smartphones", "internet", "chips", "space"}},
    {"entertainment", 0.13, {"movies", "music", "celebrity", "tv"}},
    {"politics", 0.09, {"domestic", "international", "elections"}},
    {"health", 0.08, {"fitness", "nutrition", "medicine", "mental_health"}},
    {"travel", 0.06, {"destinations", "airlines", "hotels"}},
    {"food", 0.06, {"recipes", "restaurants", "wine"}},
    {"auto", 0.06, {"cars", "ev", "reviews", "industry"}},
    {"military", 0.05, {"defense", "weapons", "conflicts"}},
    {"education", 0.05, {"universities", "k12", "exams", "study_abroad"}},
    {"games", 0.08, {"esports", "console", "mobile", "pc", "reviews"}},
};

}  // namespace

World MakeCategories(const GenWorldOptions& options) {
  Rng rng(options.seed, kTopicStream);
  World world;
  double total = 0;
  for (const CategorySpec& spec : kCategories) {
    Cat1 cat1;
    cat1.name = std::string(spec.cat1);
    const std::vector<double> cat1_dir = RandomUnit(options.dim, rng);
    for (absl::string_view leaf : spec.cat2) {
      if (leaf.empty()) continue;
      Cat2 cat2;
      cat2.cat1 = static_cast<int>(world.cat1s.size());
      cat2.name = absl::StrCat(spec.cat1, "/", leaf);
      std::vector<double> own = RandomUnit(options.dim, rng);
      for (int j = 0; j < options.dim; ++j) own[j] += cat1_dir[j];
      Normalize(own);
      cat2.topic = std::move(own);
      cat1.cat2s.push_back(static_cast<int>(world.cat2s.size()));
      world.cat2s.push_back(std::move(cat2));
    }
    world.cat1s.push_back(std::move(cat1));
    total += spec.weight;
    world.cat1_cdf.push_back(total);
  }

  // Tags, dealt round-robin to the cat1s, named after one of its cat2s.
  const int64_t num_cat1 = static_cast<int64_t>(world.cat1s.size());
  const int64_t num_tags = std::max<int64_t>(50, options.items / 50);
  for (int64_t t = 0; t < num_tags; ++t) {
    Cat1& cat1 = world.cat1s[t % num_cat1];
    const int64_t rank = t / num_cat1;
    const std::string& cat2 =
        world.cat2s[cat1.cat2s[rank % cat1.cat2s.size()]].name;
    const absl::string_view leaf =
        absl::string_view(cat2).substr(cat2.find('/') + 1);
    cat1.tags.push_back(static_cast<int>(world.tags.size()));
    world.tags.push_back(absl::StrCat(leaf, "_t", t));
    world.tag_cat2.push_back(cat1.cat2s[rank % cat1.cat2s.size()]);
  }

  const int64_t num_media = std::max<int64_t>(20, options.items / 100);
  const int media_width = std::max(5, DecimalDigits(num_media));
  for (int64_t m = 0; m < num_media; ++m) {
    world.cat1s[m % num_cat1].media.push_back(static_cast<int>(m));
    world.media.push_back(PaddedId("m", m + 1, media_width));
    world.media_cat1.push_back(static_cast<int>(m % num_cat1));
  }
  for (Cat1& cat1 : world.cat1s) {
    cat1.tag_cdf = ZipfCdf(cat1.tags.size(), kTagZipfExponent);
    cat1.media_cdf = ZipfCdf(cat1.media.size(), kMediaZipfExponent);
  }
  return world;
}

}  // namespace gen_world_categories
}  // namespace recall
