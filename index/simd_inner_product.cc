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
#include <cstddef>

#include "index/faiss_index.h"
#include "index/simd_kernels.h"

extern "C" {
float __real__ZN5faiss18fvec_inner_productEPKfS1_m(const float* x,
                                                   const float* y, size_t d);
float __wrap__ZN5faiss18fvec_inner_productEPKfS1_m(const float* x,
                                                   const float* y, size_t d);
}

namespace recall {

const char* InnerProductKernel() {
  return HasAvx2Fma() ? "avx2-fma" : "faiss-generic";
}

float InnerProduct(const float* x, const float* y, size_t d) {
  if (HasAvx2Fma()) return InnerProductAvx2(x, y, d);
  return __real__ZN5faiss18fvec_inner_productEPKfS1_m(x, y, d);
}

}  // namespace recall

float __wrap__ZN5faiss18fvec_inner_productEPKfS1_m(const float* x,
                                                   const float* y, size_t d) {
  if (recall::HasAvx2Fma()) return recall::InnerProductAvx2(x, y, d);
  return __real__ZN5faiss18fvec_inner_productEPKfS1_m(x, y, d);
}
