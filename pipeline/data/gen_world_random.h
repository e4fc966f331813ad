// Internal to the synthetic world generator (gen_world.cc): reproducible
// random streams and the small numeric and formatting helpers it draws with.
#ifndef RECALL_PIPELINE_DATA_GEN_WORLD_RANDOM_H_
#define RECALL_PIPELINE_DATA_GEN_WORLD_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "util/vector_math.h"

namespace recall {
namespace gen_world_random {

inline constexpr int64_t kDaySeconds = 86400;
inline constexpr double kPi = 3.14159265358979323846;

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Independent, reproducible random streams. std::mt19937_64 is fully
// specified by the standard; the distributions in <random> are not, so the
// transforms are written here.
enum Stream : uint64_t {
  kTopicStream = 1,
  kItemStream = 2,
  kUserStream = 3,
  kClickStream = 4,
  // The extra spaces draw only from these, so that turning them on or off
  // leaves every other file unchanged.
  kTagStream = 5,
  kMediaStream = 6,
  kItem2VecStream = 7,
  kTitle2VecStream = 8,
};

// Not thread-safe: one per stream of draws (each stream is seeded on its own,
// so the world does not depend on the order streams are used in).
class Rng {
 public:
  Rng(uint64_t seed, Stream stream)
      : engine_(SplitMix64(seed ^ SplitMix64(stream))) {}

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1].
  double UniformPositive() { return 1.0 - Uniform(); }
  // Uniform integer in [0, n); n > 0.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>(
        (static_cast<unsigned __int128>(engine_()) * n) >> 64);
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  double Exponential() { return -std::log(UniformPositive()); }
  // Standard normal (Box-Muller, both values used).
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(UniformPositive()));
    const double theta = 2.0 * kPi * Uniform();
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Index drawn with probability proportional to the increments of `cdf`
// (cumulative weights, last element the total).
inline size_t SampleCdf(const std::vector<double>& cdf, Rng& rng) {
  const double x = rng.Uniform() * cdf.back();
  const size_t i = std::upper_bound(cdf.begin(), cdf.end(), x) - cdf.begin();
  return std::min(i, cdf.size() - 1);
}

inline std::vector<double> ZipfCdf(size_t n, double exponent) {
  std::vector<double> cdf(n);
  double total = 0;
  for (size_t k = 0; k < n; ++k) {
    total += std::pow(static_cast<double>(k + 1), -exponent);
    cdf[k] = total;
  }
  return cdf;
}

inline void Normalize(std::vector<double>& v) {
  NormalizeL2(v.data(), static_cast<int>(v.size()));
}

inline std::vector<double> RandomUnit(int dim, Rng& rng) {
  std::vector<double> v(dim);
  for (double& x : v) x = rng.Normal();
  Normalize(v);
  return v;
}

// normalize(base + sigma * N(0, 1)^dim).
inline std::vector<double> Perturb(const std::vector<double>& base,
                                   double sigma, Rng& rng) {
  std::vector<double> v(base);
  for (double& x : v) x += sigma * rng.Normal();
  Normalize(v);
  return v;
}

inline void AppendFloats(const std::vector<double>& v,
                         std::vector<float>* out) {
  for (double x : v) out->push_back(static_cast<float>(x));
}

// Rounds to `digits` significant digits, so the TSV stays readable.
inline double RoundSignificant(double x, int digits) {
  if (x == 0 || !std::isfinite(x)) return x;
  const double scale =
      std::pow(10.0, digits - 1 - std::floor(std::log10(std::fabs(x))));
  return std::round(x * scale) / scale;
}

inline int DecimalDigits(int64_t n) {
  int digits = 1;
  while (n >= 10) {
    n /= 10;
    ++digits;
  }
  return digits;
}

// prefix + n zero-padded to `width` digits, e.g. ("u", 1, 7) -> "u0000001".
inline std::string PaddedId(absl::string_view prefix, int64_t n, int width) {
  std::string digits = absl::StrCat(n);
  std::string id(prefix);
  if (static_cast<int>(digits.size()) < width)
    id.append(width - digits.size(), '0');
  id += digits;
  return id;
}

// "YYYYMMDD" of a unix time, UTC (proleptic Gregorian; H. Hinnant's
// civil_from_days).
inline std::string DateYmd(int64_t unix_seconds) {
  int64_t z = unix_seconds / kDaySeconds;
  if (unix_seconds % kDaySeconds < 0) --z;
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return absl::StrCat(absl::Dec(year, absl::kZeroPad4),
                      absl::Dec(month, absl::kZeroPad2),
                      absl::Dec(day, absl::kZeroPad2));
}

}  // namespace gen_world_random
}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_GEN_WORLD_RANDOM_H_
