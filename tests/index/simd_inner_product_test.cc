#include <random>
#include <vector>

#include "faiss/utils/distances.h"
#include "gtest/gtest.h"
#include "index/faiss_index.h"

// Faiss's scalar implementation: defined in libfaiss.a, not declared in its
// headers, and not wrapped (only fvec_inner_product is).
namespace faiss {
float fvec_inner_product_ref(const float* x, const float* y, size_t d);
}  // namespace faiss

namespace recall {
namespace {

TEST(SimdInnerProductTest,
     FaissCallsAreRoutedToTheVectorisedKernelOnAvx2Machines) {
  const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  EXPECT_STREQ(InnerProductKernel(), avx2 ? "avx2-fma" : "faiss-generic");
}

TEST(SimdInnerProductTest, MatchesTheScalarReferenceForEveryLength) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  for (size_t d = 0; d <= 200; ++d) {
    std::vector<float> x(d), y(d);
    for (size_t i = 0; i < d; ++i) {
      x[i] = normal(rng);
      y[i] = normal(rng);
    }
    double want = 0, scale = 0;
    for (size_t i = 0; i < d; ++i) {
      want += double{x[i]} * y[i];
      scale += std::abs(double{x[i]} * y[i]);
    }
    // The call goes through the linker wrap, like Faiss's own calls.
    const float got = faiss::fvec_inner_product(x.data(), y.data(), d);
    EXPECT_NEAR(got, want, 1e-5 * (scale + 1)) << "d=" << d;
    EXPECT_NEAR(faiss::fvec_inner_product_ref(x.data(), y.data(), d), got,
                1e-5 * (scale + 1))
        << "d=" << d;
  }
}

}  // namespace
}  // namespace recall
