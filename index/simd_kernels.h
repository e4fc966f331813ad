// The AVX2+FMA inner-product kernel, for the files of index/ that pick it at
// run time (simd_inner_product.cc for Faiss, hnswlib_index.cc for hnswlib's
// graphs): Debian builds for baseline x86-64, so the compiler may use these
// instructions only inside functions marked with the target attribute, and
// only when HasAvx2Fma() says the CPU has them.
#ifndef RECALL_INDEX_SIMD_KERNELS_H_
#define RECALL_INDEX_SIMD_KERNELS_H_

#include <immintrin.h>

#include <cstddef>

namespace recall {

// Whether this CPU runs InnerProductAvx2 (checked once).
inline bool HasAvx2Fma() {
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

// x . y over `d` floats, two 8-wide FMA accumulators; differs from a scalar
// loop only by float summation order. Call only when HasAvx2Fma().
__attribute__((target("avx2,fma"))) inline float InnerProductAvx2(
    const float* x, const float* y, size_t d) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    acc0 =
        _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8),
                           _mm256_loadu_ps(y + i + 8), acc1);
  }
  if (i + 8 <= d) {
    acc0 =
        _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    i += 8;
  }
  acc0 = _mm256_add_ps(acc0, acc1);
  __m128 sum =
      _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  float result = _mm_cvtss_f32(sum);
  for (; i < d; ++i) result += x[i] * y[i];
  return result;
}

}  // namespace recall

#endif  // RECALL_INDEX_SIMD_KERNELS_H_
