// SearchWeights (pipeline/eval/tune.h): the policy search of `recallctl
// tune`, each channel alone and then coordinate ascent.
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pipeline/eval/tune.h"

namespace recall {
namespace {

// Sets `channel`'s weight; a weight of 0 or less disables the channel.
void SetWeight(v1::ChannelPolicy* channel, float weight) {
  channel->set_disabled(weight <= 0);
  if (weight > 0) channel->set_weight(weight);
}

// SearchWeights' scoring of one candidate: the policy's score, counted and,
// with WeightSearchOptions::progress, printed beside `what` (its name).
using Evaluate = std::function<double(const v1::Policy&, absl::string_view)>;

// Step 1 of the search: each channel of `start` alone at weight 1, the
// others disabled. Records every channel's score and the best of them, and
// makes a channel alone `result`'s policy when it scores higher.
void TryEachChannelAlone(const v1::Policy& start, const Evaluate& evaluate,
                         WeightSearchResult* result) {
  result->best_single_score = -1;
  for (int i = 0; i < start.channels_size(); ++i) {
    v1::Policy alone = start;
    for (int j = 0; j < alone.channels_size(); ++j)
      SetWeight(alone.mutable_channels(j), j == i ? 1.0f : 0.0f);
    const std::string& name = start.channels(i).name();
    const double s = evaluate(alone, absl::StrCat(name, " alone"));
    result->singles.emplace_back(name, s);
    if (s > result->best_single_score) {
      result->best_single_score = s;
      result->best_single = name;
    }
    if (s > result->score) {
      result->score = s;
      result->policy = std::move(alone);
    }
  }
}

// One coordinate of the ascent: its name in progress lines, the grid of
// values it tries, and how to read and set it in a policy.
struct Coordinate {
  std::string name;
  const std::vector<float>* values;
  std::function<float(const v1::Policy&)> get;
  std::function<void(v1::Policy*, float)> set;
};

// The coordinates of step 2, in the order they are tried: each channel's
// weight and quota, then the feature weighting's hotness and CTR weights
// and freshness half-life. Their grids point into `options`.
std::vector<Coordinate> SearchCoordinates(const v1::Policy& start,
                                          const WeightSearchOptions& options) {
  std::vector<Coordinate> coordinates;
  for (int i = 0; i < start.channels_size(); ++i) {
    const std::string& name = start.channels(i).name();
    coordinates.push_back({name + " weight", &options.grid,
                           [i](const v1::Policy& p) {
                             const v1::ChannelPolicy& c = p.channels(i);
                             return c.disabled()
                                        ? 0.0f
                                        : (c.weight() != 0 ? c.weight() : 1.0f);
                           },
                           [i](v1::Policy* p, float w) {
                             SetWeight(p->mutable_channels(i), w);
                           }});
    coordinates.push_back({name + " quota", &options.quota_grid,
                           [i](const v1::Policy& p) {
                             return static_cast<float>(p.channels(i).quota());
                           },
                           [i](v1::Policy* p, float q) {
                             p->mutable_channels(i)->set_quota(
                                 static_cast<int>(q));
                           }});
  }
  coordinates.push_back(
      {"hotness_weight", &options.hotness_grid,
       [](const v1::Policy& p) { return p.features().hotness_weight(); },
       [](v1::Policy* p, float v) {
         p->mutable_features()->set_hotness_weight(v);
       }});
  coordinates.push_back(
      {"ctr_weight", &options.ctr_grid,
       [](const v1::Policy& p) { return p.features().ctr_weight(); },
       [](v1::Policy* p, float v) {
         p->mutable_features()->set_ctr_weight(v);
       }});
  coordinates.push_back({"freshness_half_life_hours", &options.freshness_grid,
                         [](const v1::Policy& p) {
                           return p.features().freshness_half_life_hours();
                         },
                         [](v1::Policy* p, float v) {
                           p->mutable_features()->set_freshness_half_life_hours(
                               v);
                         }});
  return coordinates;
}

// Step 2 of the search: coordinate ascent from `result`'s policy over every
// coordinate in turn, keeping a value only when it improves the score;
// `rounds` passes, fewer when a pass improves nothing; no evaluation starts
// after `deadline`.
void AscendCoordinates(const std::vector<Coordinate>& coordinates, int rounds,
                       absl::Time deadline, const Evaluate& evaluate,
                       WeightSearchResult* result) {
  for (int round = 0; round < rounds; ++round) {
    bool improved = false;
    for (const Coordinate& coordinate : coordinates) {
      for (float value : *coordinate.values) {
        if (absl::Now() > deadline) return;
        if (value == coordinate.get(result->policy)) continue;
        v1::Policy candidate = result->policy;
        coordinate.set(&candidate, value);
        const double s =
            evaluate(candidate, absl::StrCat(coordinate.name, " ", value));
        if (s > result->score + 1e-9) {
          result->score = s;
          result->policy = std::move(candidate);
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
}

}  // namespace

WeightSearchResult SearchWeights(
    const v1::Policy& start,
    const std::function<double(const v1::Policy&)>& score,
    const WeightSearchOptions& options) {
  const absl::Time deadline = absl::Now() + absl::Seconds(options.max_seconds);
  WeightSearchResult result;
  auto evaluate = [&](const v1::Policy& policy, absl::string_view what) {
    const double s = score(policy);
    ++result.evaluations;
    if (options.progress) {
      fprintf(stderr, "tune: %4d  %.4f  %s\n", result.evaluations, s,
              std::string(what).c_str());
    }
    return s;
  };
  result.policy = start;
  result.score = result.start_score = evaluate(start, "start policy");
  TryEachChannelAlone(start, evaluate, &result);
  AscendCoordinates(SearchCoordinates(start, options), options.rounds, deadline,
                    evaluate, &result);
  return result;
}

}  // namespace recall
