#include "pipeline/data/gen_world.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/file_writer.h"
#include "pipeline/data/gen_world_categories.h"
#include "pipeline/data/gen_world_random.h"
#include "pipeline/data/word2vec_io.h"
#include "store/item_table.h"
#include "util/status_macros.h"
#include "util/vector_math.h"

namespace recall {
namespace {

using gen_world_categories::Cat1;
using gen_world_categories::Cat2;
using gen_world_categories::MakeCategories;
using gen_world_categories::World;
using gen_world_random::AppendFloats;
using gen_world_random::DateYmd;
using gen_world_random::DecimalDigits;
using gen_world_random::kClickStream;
using gen_world_random::kDaySeconds;
using gen_world_random::kItem2VecStream;
using gen_world_random::kItemStream;
using gen_world_random::kMediaStream;
using gen_world_random::kTagStream;
using gen_world_random::kTitle2VecStream;
using gen_world_random::kUserStream;
using gen_world_random::Normalize;
using gen_world_random::PaddedId;
using gen_world_random::Perturb;
using gen_world_random::Rng;
using gen_world_random::RoundSignificant;
using gen_world_random::SampleCdf;
using gen_world_random::SplitMix64;

// Files under vectors/ written only with GenWorldOptions::extra_spaces.
constexpr const char* kExtraFiles[] = {
    "item2vec.item.vec", "title2vec.item.vec", "tags.vec", "media.vec"};

// Tuning constants of the model (the category model's are in
// gen_world_categories.cc). Changing any of them changes the output for
// every seed.
// Share of an item's media drawn from its cat1's media; the rest are any.
constexpr double kMediaInCat1 = 0.9;
constexpr double kQualitySigma = 1.2;  // lognormal spread of item quality
constexpr double kHotnessHalfLifeDays = 2.0;
// Click-time recency bias: histories are denser in the recent past.
constexpr double kClickHalfLifeDays = 10.0;
constexpr double kExploreShare = 0.1;  // clicks on a uniformly random item
constexpr int64_t kClickWindowSeconds = 3 * kDaySeconds;
// Item and user tower vectors get this much extra noise (relative to
// options.noise) on top of the latent they are derived from.
constexpr double kTowerNoiseScale = 0.35;
// The extra spaces (GenWorldOptions::extra_spaces). Noise scales are
// relative to options.noise, like kTowerNoiseScale. item2vec stands for a
// co-click model: close to the latent, pulled a little towards the item's
// media (items of one media are clicked together). title2vec stands for a
// text model: noisier than the click-trained spaces.
constexpr double kItem2VecNoiseScale = 0.5;
constexpr double kItem2VecMediaPull = 0.3;  // weight of the unit media vector
constexpr double kTitle2VecNoiseScale = 1.5;
constexpr double kTagNoiseScale = 0.75;
constexpr double kMediaNoiseScale = 1.0;
// A secondary user interest is a sibling of the main one this often.
constexpr double kSiblingInterest = 0.5;
// Interest weights are Exp(1)^k, normalised: k = 1 is Dirichlet(1); larger
// k makes the main interest dominate more often.
constexpr double kInterestSharpness = 2.0;

// Vectors of the spaces beyond dssm, filled alongside the items.
struct ExtraSpaces {
  ExtraSpaces(const GenWorldOptions& options, const World& world);

  // normalize(latent + item2vec noise + pull * media vector).
  void AddItem(const std::string& id, const std::vector<double>& latent,
               int media, double noise);

  // The rows of `vectors` (by World::tags or World::media index) whose
  // `used` entry is set, with those ids.
  static VectorSet Used(const std::vector<std::string>& ids,
                        const std::vector<std::vector<double>>& vectors,
                        const std::vector<bool>& used, int dim);

  std::vector<std::vector<double>> tag_vectors;    // by World::tags index
  std::vector<std::vector<double>> media_vectors;  // by World::media index
  // Whether a tag or media appears in items.tsv: only those get vectors.
  std::vector<bool> tag_used;
  std::vector<bool> media_used;
  VectorSet item2vec;
  VectorSet title2vec;
  Rng item2vec_rng;
  Rng title2vec_rng;
};

// A tag is its cat2's topic plus noise: tags of one cat1 are about as close
// as items of sibling cat2s. A media is the mean topic of its cat1's cat2s
// plus noise. Every tag and media gets a vector, used or not, so that a
// vector does not depend on which others the items happen to use.
ExtraSpaces::ExtraSpaces(const GenWorldOptions& options, const World& world)
    : item2vec_rng(options.seed, kItem2VecStream),
      title2vec_rng(options.seed, kTitle2VecStream) {
  Rng tag_rng(options.seed, kTagStream);
  tag_vectors.reserve(world.tags.size());
  for (int cat2 : world.tag_cat2) {
    tag_vectors.push_back(Perturb(world.cat2s[cat2].topic,
                                  kTagNoiseScale * options.noise, tag_rng));
  }
  Rng media_rng(options.seed, kMediaStream);
  media_vectors.reserve(world.media.size());
  for (int cat1 : world.media_cat1) {
    std::vector<double> mean(options.dim, 0.0);
    for (int cat2 : world.cat1s[cat1].cat2s) {
      const std::vector<double>& topic = world.cat2s[cat2].topic;
      for (int j = 0; j < options.dim; ++j) mean[j] += topic[j];
    }
    Normalize(mean);
    media_vectors.push_back(
        Perturb(mean, kMediaNoiseScale * options.noise, media_rng));
  }
  tag_used.assign(world.tags.size(), false);
  media_used.assign(world.media.size(), false);
  for (VectorSet* space : {&item2vec, &title2vec}) {
    space->dim = options.dim;
    space->ids.reserve(options.items);
    space->values.reserve(options.items * options.dim);
  }
}

void ExtraSpaces::AddItem(const std::string& id,
                          const std::vector<double>& latent, int media,
                          double noise) {
  const std::vector<double>& pull = media_vectors[media];
  std::vector<double> v(latent);
  for (size_t j = 0; j < v.size(); ++j) {
    v[j] += kItem2VecNoiseScale * noise * item2vec_rng.Normal() +
            kItem2VecMediaPull * pull[j];
  }
  Normalize(v);
  AppendFloats(v, &item2vec.values);
  item2vec.ids.push_back(id);
  AppendFloats(Perturb(latent, kTitle2VecNoiseScale * noise, title2vec_rng),
               &title2vec.values);
  title2vec.ids.push_back(id);
}

VectorSet ExtraSpaces::Used(const std::vector<std::string>& ids,
                            const std::vector<std::vector<double>>& vectors,
                            const std::vector<bool>& used, int dim) {
  VectorSet out;
  out.dim = dim;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!used[i]) continue;
    out.ids.push_back(ids[i]);
    AppendFloats(vectors[i], &out.values);
  }
  return out;
}

int PickCat2(const World& world, Rng& rng) {
  const Cat1& cat1 = world.cat1s[SampleCdf(world.cat1_cdf, rng)];
  return cat1.cat2s[rng.Below(cat1.cat2s.size())];
}

// Ids like "20261025A0C3FL00": publication date, 'A', seven characters from
// a hash of the seed and the row.
std::string ItemId(uint64_t seed, int64_t row, int64_t publish_ts) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  uint64_t h = SplitMix64(SplitMix64(seed) ^ static_cast<uint64_t>(row));
  std::string id = DateYmd(publish_ts);
  id.push_back('A');
  for (int k = 0; k < 7; ++k) {
    id.push_back(kAlphabet[h % 36]);
    h /= 36;
  }
  return id;
}

// An item id unique among `ids`, which it is added to: ItemId, with a
// counter appended while that is taken.
std::string UniqueItemId(uint64_t seed, int64_t row, int64_t publish_ts,
                         absl::flat_hash_set<std::string>* ids) {
  std::string id = ItemId(seed, row, publish_ts);
  for (int n = 1; ids->contains(id); ++n) {
    id = absl::StrCat(ItemId(seed, row, publish_ts), n);
  }
  ids->insert(id);
  return id;
}

// Gives `item` 2-6 distinct tags of `cat1`, popular ones more often, with
// random weights in (0, 1], heaviest first. Returns their World::tags
// indexes, in the item's order.
std::vector<int> DrawTags(const World& world, const Cat1& cat1, Rng& rng,
                          Item* item) {
  const size_t want = std::min<size_t>(2 + rng.Below(5), cat1.tags.size());
  std::vector<int> chosen;
  for (int attempt = 0; chosen.size() < want && attempt < 64; ++attempt) {
    const int tag = cat1.tags[SampleCdf(cat1.tag_cdf, rng)];
    if (std::find(chosen.begin(), chosen.end(), tag) == chosen.end()) {
      chosen.push_back(tag);
    }
  }
  std::vector<float> tag_weights;
  for (size_t k = 0; k < chosen.size(); ++k) {
    tag_weights.push_back(static_cast<float>(1 + rng.Below(100)) / 100.0f);
  }
  std::sort(tag_weights.begin(), tag_weights.end(), std::greater<float>());
  for (size_t k = 0; k < chosen.size(); ++k) {
    item->tags.emplace_back(world.tags[chosen[k]], tag_weights[k]);
  }
  return chosen;
}

// Heavy-tailed quality; hotness is quality decayed with age. Sets the
// hotness and CTR of `item` (publish_ts set) and returns its click weight:
// quality decayed with age at the click half-life.
double DrawPopularity(const GenWorldOptions& options, Rng& rng, Item* item) {
  const double quality = std::exp(kQualitySigma * rng.Normal());
  const double age_days =
      static_cast<double>(options.now_unix - item->publish_ts) / kDaySeconds;
  item->hotness = static_cast<float>(RoundSignificant(
      100.0 * quality * std::exp2(-age_days / kHotnessHalfLifeDays), 3));
  const double ctr =
      std::clamp(0.035 * std::pow(quality, 0.3) * std::exp(0.4 * rng.Normal()),
                 0.005, 0.3);
  item->ctr = static_cast<float>(std::round(ctr * 1e4) / 1e4);
  return quality * std::exp2(-age_days / kClickHalfLifeDays);
}

// Fills each cat2's click_cdf from the click weights of its items (by row).
void FillClickCdfs(const std::vector<double>& weights, World& world) {
  for (Cat2& cat2 : world.cat2s) {
    double total = 0;
    cat2.click_cdf.reserve(cat2.items.size());
    for (int32_t row : cat2.items) {
      total += weights[row];
      cat2.click_cdf.push_back(total);
    }
  }
}

// Generates the items; fills `world`'s per-cat2 item lists and click
// weights, the item table and the item tower vectors, and `extra` unless it
// is null.
absl::Status MakeItems(const GenWorldOptions& options, World& world,
                       ItemTable* table, VectorSet* vectors,
                       ExtraSpaces* extra) {
  Rng rng(options.seed, kItemStream);
  const int64_t span = static_cast<int64_t>(options.days) * kDaySeconds;
  absl::flat_hash_set<std::string> ids;
  ids.reserve(options.items);
  vectors->dim = options.dim;
  vectors->ids.reserve(options.items);
  vectors->values.reserve(options.items * options.dim);
  std::vector<double> weights(options.items);
  for (int64_t row = 0; row < options.items; ++row) {
    const int cat2_index = PickCat2(world, rng);
    Cat2& cat2 = world.cat2s[cat2_index];
    const Cat1& cat1 = world.cat1s[cat2.cat1];

    Item item;
    item.publish_ts =
        options.now_unix - static_cast<int64_t>(rng.Below(span + 1));
    item.id = UniqueItemId(options.seed, row, item.publish_ts, &ids);
    item.cat1 = cat1.name;
    item.cat2 = cat2.name;
    const int media = rng.Bernoulli(kMediaInCat1)
                          ? cat1.media[SampleCdf(cat1.media_cdf, rng)]
                          : static_cast<int>(rng.Below(world.media.size()));
    item.media_id = world.media[media];
    const std::vector<int> tags = DrawTags(world, cat1, rng, &item);
    weights[row] = DrawPopularity(options, rng, &item);

    const std::vector<double> latent = Perturb(cat2.topic, options.noise, rng);
    AppendFloats(Perturb(latent, kTowerNoiseScale * options.noise, rng),
                 &vectors->values);
    vectors->ids.push_back(item.id);
    if (extra != nullptr) {
      for (int tag : tags) extra->tag_used[tag] = true;
      extra->media_used[media] = true;
      extra->AddItem(item.id, latent, media, options.noise);
    }
    cat2.items.push_back(static_cast<int32_t>(row));
    RETURN_IF_ERROR(table->Add(std::move(item)));
  }
  FillClickCdfs(weights, world);
  return absl::OkStatus();
}

struct Interest {
  int cat2;
  double weight;
};

// 1-4 distinct cat2 interests with Dirichlet-like weights summing to 1, the
// heaviest first.
std::vector<Interest> MakeInterests(const World& world, Rng& rng) {
  static constexpr double kCountCdf[] = {0.30, 0.65, 0.85, 1.0};
  const double u = rng.Uniform();
  size_t count = 1;
  while (count < 4 && u >= kCountCdf[count - 1]) ++count;
  count = std::min(count, world.cat2s.size());

  std::vector<Interest> interests;
  interests.push_back({PickCat2(world, rng), 0});
  const Cat1& main_cat1 = world.cat1s[world.cat2s[interests[0].cat2].cat1];
  for (int attempt = 0; interests.size() < count && attempt < 64; ++attempt) {
    const int cat2 = rng.Bernoulli(kSiblingInterest)
                         ? main_cat1.cat2s[rng.Below(main_cat1.cat2s.size())]
                         : PickCat2(world, rng);
    if (std::none_of(interests.begin(), interests.end(),
                     [&](const Interest& i) { return i.cat2 == cat2; })) {
      interests.push_back({cat2, 0});
    }
  }
  std::vector<double> w(interests.size());
  double total = 0;
  for (double& x : w)
    total += (x = std::pow(rng.Exponential(), kInterestSharpness));
  std::sort(w.begin(), w.end(), std::greater<double>());
  for (size_t k = 0; k < interests.size(); ++k) {
    interests[k].weight = w[k] / total;
  }
  return interests;
}

// A user's tower vector: the topics of `interests` mixed by weight, plus
// noise. Sets `interest_cdf` to the interests' cumulative weights.
std::vector<double> UserVector(const GenWorldOptions& options,
                               const World& world,
                               const std::vector<Interest>& interests, Rng& rng,
                               std::vector<double>* interest_cdf) {
  std::vector<double> mix(options.dim, 0.0);
  interest_cdf->clear();
  double total = 0;
  for (const Interest& interest : interests) {
    const std::vector<double>& topic = world.cat2s[interest.cat2].topic;
    for (int j = 0; j < options.dim; ++j) {
      mix[j] += interest.weight * topic[j];
    }
    total += interest.weight;
    interest_cdf->push_back(total);
  }
  Normalize(mix);
  return Perturb(mix, kTowerNoiseScale * options.noise, rng);
}

// The row of a user's next click: kExploreShare of the time any item, else
// an item of an interest picked by weight, popular and recent items more
// often. A few redraws keep repeated clicks on one item rare; `clicked`
// holds the user's rows so far and gets the new one.
int32_t DrawClickedRow(const World& world,
                       const std::vector<Interest>& interests,
                       const std::vector<double>& interest_cdf,
                       uint64_t num_items, Rng& rng,
                       absl::flat_hash_set<int32_t>* clicked) {
  int32_t row = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (rng.Bernoulli(kExploreShare)) {
      row = static_cast<int32_t>(rng.Below(num_items));
    } else {
      const Cat2& cat2 =
          world.cat2s[interests[SampleCdf(interest_cdf, rng)].cat2];
      row = cat2.items.empty() ? static_cast<int32_t>(rng.Below(num_items))
                               : cat2.items[SampleCdf(cat2.click_cdf, rng)];
    }
    if (clicked->insert(row).second) break;
  }
  return row;
}

// A click time within kClickWindowSeconds after `published`, not after
// `now_unix`.
int64_t DrawClickTime(int64_t now_unix, int64_t published, Rng& rng) {
  const int64_t last = std::min(now_unix, published + kClickWindowSeconds);
  return published + static_cast<int64_t>(rng.Below(last - published + 1));
}

// Appends a clicks.tsv line "user_id\titem_id\tts" per (ts, row) of
// `history`.
void AppendClickLines(const std::string& user_id,
                      const std::vector<std::pair<int64_t, int32_t>>& history,
                      const ItemTable& items, std::string* buf) {
  char num[24];
  for (const auto& [ts, row] : history) {
    buf->append(user_id);
    buf->push_back('\t');
    buf->append(items.item(row).id);
    buf->push_back('\t');
    const auto [end, ec] = std::to_chars(num, num + sizeof(num), ts);
    (void)ec;  // 24 bytes always hold an int64
    buf->append(num, end);
    buf->push_back('\n');
  }
}

absl::Status WriteClicksAndUsers(const GenWorldOptions& options,
                                 const World& world, const ItemTable& items,
                                 const std::filesystem::path& dir,
                                 VectorSet* user_vectors) {
  Rng user_rng(options.seed, kUserStream);
  Rng click_rng(options.seed, kClickStream);
  FileWriter clicks;
  FileWriter users;
  RETURN_IF_ERROR(clicks.Open((dir / "clicks.tsv").string()));
  RETURN_IF_ERROR(users.Open((dir / "users.txt").string()));
  absl::StrAppend(clicks.buffer(), kClicksHeader, "\n");

  user_vectors->dim = options.dim;
  user_vectors->ids.reserve(options.users);
  user_vectors->values.reserve(options.users * options.dim);
  const int user_width = std::max(7, DecimalDigits(options.users));
  const double mean_extra = std::max(options.mean_clicks_per_user - 0.5, 0.01);
  const int64_t max_clicks =
      20 * static_cast<int64_t>(options.mean_clicks_per_user) + 1;
  const uint64_t num_items = static_cast<uint64_t>(items.size());

  std::vector<double> interest_cdf;
  absl::flat_hash_set<int32_t> clicked;
  std::vector<std::pair<int64_t, int32_t>> history;  // (ts, row)
  for (int64_t u = 0; u < options.users; ++u) {
    const std::string user_id = PaddedId("u", u + 1, user_width);
    const std::vector<Interest> interests = MakeInterests(world, user_rng);
    AppendFloats(UserVector(options, world, interests, user_rng, &interest_cdf),
                 &user_vectors->values);
    user_vectors->ids.push_back(user_id);
    users.buffer()->append(user_id);
    users.buffer()->push_back('\n');

    // Geometric-like click count with the requested mean, at least one.
    const int64_t count = std::min(
        max_clicks, 1 + static_cast<int64_t>(
                            std::floor(mean_extra * click_rng.Exponential())));
    clicked.clear();
    history.clear();
    for (int64_t c = 0; c < count; ++c) {
      const int32_t row = DrawClickedRow(world, interests, interest_cdf,
                                         num_items, click_rng, &clicked);
      history.emplace_back(DrawClickTime(options.now_unix,
                                         items.item(row).publish_ts, click_rng),
                           row);
    }
    std::sort(history.begin(), history.end());
    AppendClickLines(user_id, history, items, clicks.buffer());
    RETURN_IF_ERROR(clicks.MaybeFlush());
    RETURN_IF_ERROR(users.MaybeFlush());
  }
  RETURN_IF_ERROR(users.Close());
  return clicks.Close();
}

// INVALID_ARGUMENT naming the first option out of range, else OK.
absl::Status ValidateOptions(const GenWorldOptions& options) {
  if (options.items <= 0 ||
      options.items > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("items must be in [1, 2^31), got ", options.items));
  }
  if (options.users <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("users must be positive, got ", options.users));
  }
  if (options.dim <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dim must be positive, got ", options.dim));
  }
  if (options.days <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("days must be positive, got ", options.days));
  }
  if (options.mean_clicks_per_user <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mean_clicks_per_user must be positive, got ",
                     options.mean_clicks_per_user));
  }
  if (!(options.noise >= 0) || !std::isfinite(options.noise)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "noise must be a finite number >= 0, got ", options.noise));
  }
  return absl::OkStatus();
}

// Creates `out_dir`/vectors and, without extra spaces, removes their files
// left by an earlier run.
absl::Status PrepareOutputDir(const GenWorldOptions& options,
                              const std::string& out_dir) {
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir / "vectors", ec);
  if (ec) {
    return absl::Status(
        absl::ErrnoToStatusCode(ec.value()),
        absl::StrCat(out_dir, ": cannot create: ", ec.message()));
  }

  const std::filesystem::path vectors_dir = dir / "vectors";
  if (!options.extra_spaces) {
    // Leave no file of an earlier run that describes another world.
    for (const char* name : kExtraFiles) {
      std::filesystem::remove(vectors_dir / name, ec);
      if (ec) {
        return absl::Status(absl::ErrnoToStatusCode(ec.value()),
                            absl::StrCat((vectors_dir / name).string(),
                                         ": cannot remove: ", ec.message()));
      }
    }
  }
  return absl::OkStatus();
}

// Writes the extra spaces' files to `vectors_dir`, releasing each space's
// item vectors once written.
absl::Status WriteExtraSpaces(const GenWorldOptions& options,
                              const World& world,
                              const std::filesystem::path& vectors_dir,
                              ExtraSpaces& extra) {
  RETURN_IF_ERROR(WriteWord2VecText(
      (vectors_dir / "item2vec.item.vec").string(), extra.item2vec));
  extra.item2vec = VectorSet();
  RETURN_IF_ERROR(WriteWord2VecText(
      (vectors_dir / "title2vec.item.vec").string(), extra.title2vec));
  extra.title2vec = VectorSet();
  RETURN_IF_ERROR(
      WriteWord2VecText((vectors_dir / "tags.vec").string(),
                        ExtraSpaces::Used(world.tags, extra.tag_vectors,
                                          extra.tag_used, options.dim)));
  return WriteWord2VecText((vectors_dir / "media.vec").string(),
                           ExtraSpaces::Used(world.media, extra.media_vectors,
                                             extra.media_used, options.dim));
}

}  // namespace

absl::Status GenerateWorld(const GenWorldOptions& options,
                           const std::string& out_dir) {
  RETURN_IF_ERROR(ValidateOptions(options));
  RETURN_IF_ERROR(PrepareOutputDir(options, out_dir));
  const std::filesystem::path dir(out_dir);
  const std::filesystem::path vectors_dir = dir / "vectors";

  World world = MakeCategories(options);
  std::optional<ExtraSpaces> extra;
  if (options.extra_spaces) extra.emplace(options, world);
  ItemTable items;
  VectorSet item_vectors;
  RETURN_IF_ERROR(MakeItems(options, world, &items, &item_vectors,
                            extra.has_value() ? &*extra : nullptr));
  RETURN_IF_ERROR(items.WriteTsv((dir / "items.tsv").string()));
  RETURN_IF_ERROR(WriteWord2VecText((vectors_dir / "dssm.item.vec").string(),
                                    item_vectors));
  item_vectors = VectorSet();
  if (extra.has_value()) {
    RETURN_IF_ERROR(WriteExtraSpaces(options, world, vectors_dir, *extra));
    extra.reset();
  }

  VectorSet user_vectors;
  RETURN_IF_ERROR(
      WriteClicksAndUsers(options, world, items, dir, &user_vectors));
  return WriteWord2VecText((vectors_dir / "dssm.user.vec").string(),
                           user_vectors);
}

}  // namespace recall
