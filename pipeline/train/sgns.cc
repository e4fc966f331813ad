#include "pipeline/train/sgns.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_split.h"

namespace recall {
namespace {

float Sigmoid(float x) {
  if (x > 6) return 1;
  if (x < -6) return 0;
  return 1.0f / (1.0f + std::exp(-x));
}

}  // namespace

absl::StatusOr<VectorSet> TrainSgns(const std::vector<std::string>& sentences,
                                    const SgnsOptions& options) {
  // Vocabulary.
  absl::flat_hash_map<std::string, int64_t> counts;
  for (const std::string& s : sentences) {
    for (absl::string_view token : absl::StrSplit(s, ' ', absl::SkipEmpty())) {
      ++counts[token];
    }
  }
  std::vector<std::pair<std::string, int64_t>> vocab;
  for (const auto& [token, count] : counts) {
    if (count >= options.min_count) vocab.emplace_back(token, count);
  }
  if (vocab.empty())
    return absl::FailedPreconditionError("sgns: no token reaches min_count");
  std::sort(vocab.begin(), vocab.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  absl::flat_hash_map<std::string, int32_t> id;
  int64_t total = 0;
  for (size_t i = 0; i < vocab.size(); ++i) {
    id[vocab[i].first] = static_cast<int32_t>(i);
    total += vocab[i].second;
  }
  std::vector<std::vector<int32_t>> corpus;
  for (const std::string& s : sentences) {
    std::vector<int32_t>& ids = corpus.emplace_back();
    for (absl::string_view token : absl::StrSplit(s, ' ', absl::SkipEmpty())) {
      auto it = id.find(token);
      if (it != id.end()) ids.push_back(it->second);
    }
  }

  // Negative-sampling table: P(token) ~ count^power.
  const size_t table_size = std::max<size_t>(1 << 20, vocab.size() * 10);
  std::vector<int32_t> table(table_size);
  {
    double norm = 0;
    for (const auto& v : vocab)
      norm += std::pow(static_cast<double>(v.second), options.negative_power);
    size_t t = 0;
    double cumulative = 0;
    for (size_t i = 0; i < vocab.size() && t < table_size; ++i) {
      cumulative += std::pow(static_cast<double>(vocab[i].second),
                             options.negative_power) /
                    norm;
      while (t < table_size && static_cast<double>(t) / table_size < cumulative)
        table[t++] = i;
    }
    while (t < table_size) table[t++] = static_cast<int32_t>(vocab.size() - 1);
  }

  const int dim = options.dim;
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<float> init(-0.5f / dim, 0.5f / dim);
  std::vector<float> in(vocab.size() * dim), out(vocab.size() * dim, 0.0f);
  for (float& x : in) x = init(rng);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<size_t> pick(0, table_size - 1);

  int64_t processed = 0;
  const int64_t planned = static_cast<int64_t>(options.epochs) * total;
  std::vector<float> grad(dim);
  std::vector<int32_t> kept;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (const std::vector<int32_t>& sentence : corpus) {
      kept.clear();
      for (int32_t w : sentence) {
        const double f = static_cast<double>(vocab[w].second) / total;
        const double keep =
            options.subsample > 0
                ? (std::sqrt(f / options.subsample) + 1) * options.subsample / f
                : 1.0;
        if (keep >= 1 || unit(rng) < keep) kept.push_back(w);
      }
      processed += static_cast<int64_t>(sentence.size());
      const float lr = static_cast<float>(
          std::max(options.learning_rate * 1e-4,
                   options.learning_rate *
                       (1.0 - static_cast<double>(processed) / planned)));
      for (size_t i = 0; i < kept.size(); ++i) {
        const int reach = 1 + static_cast<int>(rng() % options.window);
        for (int offset = -reach; offset <= reach; ++offset) {
          const int64_t j = static_cast<int64_t>(i) + offset;
          if (offset == 0 || j < 0 || j >= static_cast<int64_t>(kept.size()))
            continue;
          float* v = in.data() + static_cast<size_t>(kept[i]) * dim;
          std::fill(grad.begin(), grad.end(), 0.0f);
          for (int n = 0; n <= options.negatives; ++n) {
            int32_t target;
            float label;
            if (n == 0) {
              target = kept[j];
              label = 1;
            } else {
              target = table[pick(rng)];
              if (target == kept[j]) continue;
              label = 0;
            }
            float* u = out.data() + static_cast<size_t>(target) * dim;
            float dot = 0;
            for (int d = 0; d < dim; ++d) dot += v[d] * u[d];
            const float g = (label - Sigmoid(dot)) * lr;
            for (int d = 0; d < dim; ++d) {
              grad[d] += g * u[d];
              u[d] += g * v[d];
            }
          }
          for (int d = 0; d < dim; ++d) v[d] += grad[d];
        }
      }
    }
  }

  VectorSet vectors;
  vectors.dim = dim;
  for (size_t i = 0; i < vocab.size(); ++i) {
    vectors.ids.push_back(vocab[i].first);
    vectors.values.insert(vectors.values.end(), in.begin() + i * dim,
                          in.begin() + (i + 1) * dim);
  }
  return vectors;
}

}  // namespace recall
