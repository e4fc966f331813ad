#include "index/faiss_index.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <numeric>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "faiss/IVFlib.h"
#include "faiss/IndexHNSW.h"
#include "faiss/IndexIDMap.h"
#include "faiss/IndexIVF.h"
#include "faiss/IndexIVFPQ.h"
#include "faiss/index_factory.h"
#include "faiss/index_io.h"
#include "index/faiss_util.h"
#include "util/status_macros.h"
#include "util/vector_math.h"

namespace recall {
namespace {

using FaissId = faiss::Index::idx_t;

class FaissIndexHandle final : public IndexHandle {
 public:
  FaissIndexHandle(std::unique_ptr<faiss::Index> index, std::string description)
      : index_(std::move(index)), description_(std::move(description)) {
    // Search the inner index directly and translate ids ourselves, so that
    // per-call parameters reach it whatever IndexIDMap does with them.
    search_index_ = index_.get();
    if (auto* idmap = dynamic_cast<faiss::IndexIDMap2*>(index_.get())) {
      search_index_ = idmap->index;
      id_map_ = &idmap->id_map;
    }
    hnsw_ = dynamic_cast<const faiss::IndexHNSW*>(search_index_);
    ivf_ = faiss::ivflib::try_extract_index_ivf(search_index_);
  }

  void Write(const std::string& path) const {
    faiss::write_index(index_.get(), path.c_str());
  }

  int dim() const override { return index_->d; }
  int64_t size() const override { return index_->ntotal; }
  const std::string& description() const override { return description_; }

  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    out->clear();
    if (k <= 0) return absl::InvalidArgumentError("k must be positive");
    if (omp_get_max_threads() != 1) omp_set_num_threads(1);

    faiss::SearchParametersHNSW hnsw_params;
    faiss::SearchParametersIVF ivf_params;
    const faiss::SearchParameters* faiss_params = nullptr;
    if (hnsw_ != nullptr && params.ef_search > 0) {
      hnsw_params.efSearch = params.ef_search;
      faiss_params = &hnsw_params;
    } else if (ivf_ != nullptr && params.nprobe > 0) {
      ivf_params.nprobe = static_cast<size_t>(params.nprobe);
      faiss_params = &ivf_params;
    }

    // Scratch reused per thread: a search allocates nothing after warm-up.
    thread_local std::vector<float> distances;
    thread_local std::vector<FaissId> labels;
    distances.resize(k);
    labels.resize(k);
    RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInternal, "search", [&] {
      search_index_->search(1, query, k, distances.data(), labels.data(),
                            faiss_params);
    }));
    out->reserve(k);
    for (int i = 0; i < k; ++i) {
      FaissId label = labels[i];
      if (label < 0) continue;  // fewer than k results
      if (id_map_ != nullptr) label = (*id_map_)[label];
      out->push_back({static_cast<int32_t>(label), distances[i]});
    }
    return absl::OkStatus();
  }

  absl::Status Reconstruct(int32_t row, float* out) const override {
    return CatchFaiss(absl::StatusCode::kNotFound,
                      absl::StrCat("reconstruct row ", row),
                      [&] { index_->reconstruct(row, out); });
  }

 private:
  std::unique_ptr<faiss::Index> index_;
  std::string description_;
  const faiss::Index* search_index_ = nullptr;
  const std::vector<FaissId>* id_map_ = nullptr;
  const faiss::IndexHNSW* hnsw_ = nullptr;
  const faiss::IndexIVF* ivf_ = nullptr;
};

// IVF indexes need a direct map to reconstruct vectors (i2i seeds).
void EnableReconstruct(faiss::Index* index) {
  faiss::Index* inner = index;
  if (auto* idmap = dynamic_cast<faiss::IndexIDMap2*>(index))
    inner = idmap->index;
  if (faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(inner)) {
    ivf->make_direct_map(true);
  }
}

}  // namespace

absl::Status NormalizeRows(float* vectors, int64_t n, int dim,
                           int64_t* bad_row) {
  for (int64_t i = 0; i < n; ++i) {
    if (!NormalizeL2(vectors + i * dim, dim)) {
      if (bad_row != nullptr) *bad_row = i;
      return absl::InvalidArgumentError(
          absl::StrCat("vector ", i, " has zero or non-finite norm"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<IndexHandle>> BuildFaissIndex(
    const FaissBuildOptions& options, int dim, const float* vectors, int64_t n,
    const std::vector<int32_t>& rows) {
  if (dim <= 0 || n <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot build an index over ", n, " vectors of dim ", dim));
  }
  if (!rows.empty() && static_cast<int64_t>(rows.size()) != n) {
    return absl::InvalidArgumentError("rows.size() differs from n");
  }
  std::unique_ptr<faiss::Index> index;
  const std::string what = absl::StrCat("index \"", options.factory, "\"");
  RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInvalidArgument, what, [&] {
    index.reset(faiss::index_factory(dim, options.factory.c_str(),
                                     faiss::METRIC_INNER_PRODUCT));
  }));
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index.get())) {
    hnsw->hnsw.efConstruction = options.hnsw_ef_construction;
    hnsw->hnsw.efSearch = options.hnsw_ef_search;
  }
  if (auto* ivfpq = dynamic_cast<faiss::IndexIVFPQ*>(index.get())) {
    // Polysemous codes only help Hamming-filtered search, which is never
    // used here, and their training dominates build time (50 s for 5k
    // vectors).
    ivfpq->do_polysemous_training = false;
  }

  if (!index->is_trained) {
    // Train on a reproducible random sample when there are many vectors.
    std::vector<float> sample;
    const float* train = vectors;
    int64_t n_train = n;
    if (n > options.max_training_vectors) {
      std::vector<int64_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::mt19937_64 rng(options.seed);
      std::shuffle(order.begin(), order.end(), rng);
      n_train = options.max_training_vectors;
      sample.resize(static_cast<size_t>(n_train) * dim);
      for (int64_t i = 0; i < n_train; ++i) {
        std::copy_n(vectors + order[i] * dim, dim, sample.data() + i * dim);
      }
      train = sample.data();
    }
    const faiss::IndexIVF* ivf =
        faiss::ivflib::try_extract_index_ivf(index.get());
    if (ivf != nullptr && n_train < static_cast<int64_t>(ivf->nlist)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": needs at least ", ivf->nlist, " vectors to train ",
          ivf->nlist, " inverted lists (about ", 39 * ivf->nlist,
          " for good quality), got ", n_train));
    }
    RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInvalidArgument,
                               absl::StrCat(what, " training"),
                               [&] { index->train(n_train, train); }));
  }

  bool identity = true;
  for (size_t i = 0; i < rows.size() && identity; ++i) {
    identity = rows[i] == static_cast<int32_t>(i);
  }
  if (identity) {
    RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInternal, what,
                               [&] { index->add(n, vectors); }));
  } else {
    auto idmap = std::make_unique<faiss::IndexIDMap2>(index.release());
    idmap->own_fields = true;
    std::vector<FaissId> ids(rows.begin(), rows.end());
    RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInternal, what, [&] {
      idmap->add_with_ids(n, vectors, ids.data());
    }));
    index = std::move(idmap);
  }
  RETURN_IF_ERROR(CatchFaiss(absl::StatusCode::kInternal, what,
                             [&] { EnableReconstruct(index.get()); }));
  return std::unique_ptr<IndexHandle>(
      std::make_unique<FaissIndexHandle>(std::move(index), options.factory));
}

absl::Status WriteFaissIndex(const IndexHandle& index,
                             const std::string& path) {
  const auto* faiss_index = dynamic_cast<const FaissIndexHandle*>(&index);
  if (faiss_index == nullptr) {
    return absl::InvalidArgumentError("WriteFaissIndex: not a Faiss index");
  }
  return CatchFaiss(absl::StatusCode::kInternal, absl::StrCat("write ", path),
                    [&] { faiss_index->Write(path); });
}

absl::StatusOr<std::unique_ptr<IndexHandle>> LoadFaissIndex(
    const std::string& path, std::string description) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  std::unique_ptr<faiss::Index> index;
  RETURN_IF_ERROR(
      CatchFaiss(absl::StatusCode::kDataLoss, absl::StrCat("read ", path), [&] {
        index.reset(faiss::read_index(path.c_str()));
        EnableReconstruct(index.get());
      }));
  if (index->metric_type != faiss::METRIC_INNER_PRODUCT) {
    return absl::DataLossError(
        absl::StrCat(path, ": index metric is not inner product"));
  }
  return std::unique_ptr<IndexHandle>(
      std::make_unique<FaissIndexHandle>(std::move(index), description));
}

}  // namespace recall
