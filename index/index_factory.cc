#include "index/index_factory.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "index/faiss_index.h"
#include "index/hnswlib_index.h"

namespace recall {
namespace {

constexpr absl::string_view kHnswlibPrefix = "HNSWLIB";

// M of an "HNSWLIB<M>" string, or INVALID_ARGUMENT; BuildHnswlibIndex
// checks its range.
absl::StatusOr<int> HnswlibM(absl::string_view factory) {
  absl::string_view digits = factory.substr(kHnswlibPrefix.size());
  int m = 0;
  if (digits.empty() ||
      digits.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(digits, &m)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "index \"", factory, "\": want HNSWLIB<M>, e.g. HNSWLIB32"));
  }
  return m;
}

}  // namespace

bool IsHnswlibFactory(absl::string_view factory) {
  return absl::StartsWith(factory, kHnswlibPrefix);
}

const char* IndexFileExtension(absl::string_view factory) {
  return IsHnswlibFactory(factory) ? "hnswlib" : "faiss";
}

absl::StatusOr<std::unique_ptr<IndexHandle>> BuildIndex(
    const IndexBuildOptions& options, int dim, const float* vectors, int64_t n,
    const std::vector<int32_t>& rows) {
  if (IsHnswlibFactory(options.factory)) {
    absl::StatusOr<int> m = HnswlibM(options.factory);
    if (!m.ok()) return m.status();
    HnswlibBuildOptions hnswlib;
    hnswlib.m = *m;
    hnswlib.ef_construction = options.hnsw_ef_construction;
    hnswlib.ef_search = options.hnsw_ef_search;
    hnswlib.description = options.factory;
    return BuildHnswlibIndex(hnswlib, dim, vectors, n, rows);
  }
  return BuildFaissIndex(options, dim, vectors, n, rows);
}

absl::Status WriteIndex(const IndexHandle& index, const std::string& path) {
  if (IsHnswlibFactory(index.description())) {
    return WriteHnswlibIndex(index, path);
  }
  return WriteFaissIndex(index, path);
}

absl::StatusOr<std::unique_ptr<IndexHandle>> LoadIndex(
    const std::string& path, const std::string& factory, int ef_search) {
  if (IsHnswlibFactory(factory)) {
    return LoadHnswlibIndex(path, factory, ef_search);
  }
  return LoadFaissIndex(path, factory);
}

}  // namespace recall
