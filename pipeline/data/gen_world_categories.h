// Internal to the synthetic world generator (gen_world.cc): the category
// model it draws items and users from. cat1s with cat2 leaves and their
// topic directions, and the tags and media of each cat1.
#ifndef RECALL_PIPELINE_DATA_GEN_WORLD_CATEGORIES_H_
#define RECALL_PIPELINE_DATA_GEN_WORLD_CATEGORIES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/data/gen_world.h"

namespace recall {
namespace gen_world_categories {

struct Cat1 {
  std::string name;
  std::vector<int> cat2s;  // indexes into World::cat2s
  std::vector<int> tags;   // indexes into World::tags, by popularity rank
  std::vector<double> tag_cdf;
  std::vector<int> media;  // indexes into World::media, by popularity rank
  std::vector<double> media_cdf;
};

struct Cat2 {
  int cat1 = 0;
  std::string name;  // "sports/football"
  std::vector<double> topic;
  std::vector<int32_t> items;     // rows of the items in this cat2
  std::vector<double> click_cdf;  // cumulative click weights of `items`
};

struct World {
  std::vector<Cat1> cat1s;
  std::vector<double> cat1_cdf;
  std::vector<Cat2> cat2s;
  std::vector<std::string> tags;
  std::vector<int> tag_cat2;  // the cat2 each tag is named after
  std::vector<std::string> media;
  std::vector<int> media_cat1;  // the cat1 each media mostly publishes in
};

// Categories with topic directions; siblings share a cat1 direction, so
// their topics have cosine about 0.5 and unrelated topics about 0. Draws
// only from the topic stream. Cat2::items and Cat2::click_cdf are left empty
// for the items to fill.
World MakeCategories(const GenWorldOptions& options);

}  // namespace gen_world_categories
}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_GEN_WORLD_CATEGORIES_H_
