// A vectorised faiss::fvec_inner_product.
//
// Debian's libfaiss.a is compiled for baseline x86-64 (no SSE3, no AVX), so
// its fvec_inner_product is a scalar loop the compiler may not vectorise; in
// a profile of recall-server under load it took 45% of all CPU (HNSW and Flat
// search over inner-product spaces call it once per visited vector). The
// link option -Wl,--wrap=<symbol> (set by index/CMakeLists.txt) sends every
// call Faiss makes from another object file (IndexFlat, distances, IVF) to
// __wrap_<symbol> below, which uses AVX2+FMA when the CPU has them and
// Faiss's own implementation (__real_<symbol>) otherwise. Results differ from
// the scalar loop only by float summation order.
#include <immintrin.h>

#include <cstddef>

#include "index/faiss_index.h"

extern "C" {
float __real__ZN5faiss18fvec_inner_productEPKfS1_m(const float* x,
                                                   const float* y, size_t d);
float __wrap__ZN5faiss18fvec_inner_productEPKfS1_m(const float* x,
                                                   const float* y, size_t d);
}

namespace recall {
namespace {

__attribute__((target("avx2,fma"))) float InnerProductAvx2(const float* x,
                                                           const float* y,
                                                           size_t d) {
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

const bool kHasAvx2 =
    __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");

}  // namespace

const char* InnerProductKernel() {
  return kHasAvx2 ? "avx2-fma" : "faiss-generic";
}

float InnerProduct(const float* x, const float* y, size_t d) {
  if (kHasAvx2) return InnerProductAvx2(x, y, d);
  return __real__ZN5faiss18fvec_inner_productEPKfS1_m(x, y, d);
}

}  // namespace recall

float __wrap__ZN5faiss18fvec_inner_productEPKfS1_m(const float* x,
                                                   const float* y, size_t d) {
  if (recall::kHasAvx2) return recall::InnerProductAvx2(x, y, d);
  return __real__ZN5faiss18fvec_inner_productEPKfS1_m(x, y, d);
}
