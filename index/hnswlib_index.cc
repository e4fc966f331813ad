#include "index/hnswlib_index.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "index/simd_kernels.h"
#include "util/parallel.h"
#include "util/status_macros.h"
// The only file that includes hnswlib: hnswlib.h and space_*.h define
// non-inline functions (cpuid, AVXCapable) and globals (the SIMD kernel
// pointers), so a second translation unit including them would not link
// (PeerHnsw goes through this file).
//
// hnswlib 0.6.2's SSE path prefetches through the element one past the end
// of a link list (`*(datal + j + 1)` in searchBaseLayer): AddressSanitizer
// reports it as a heap overflow. Sanitizer builds use its plain C++ path;
// figures come from the normal build, with SSE.
#ifdef RECALL_SANITIZED_BUILD
#define NO_MANUAL_VECTORIZATION
#endif
#include "hnswlib/hnswlib.h"
#include "index/hnswlib_search.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using Graph = hnswlib::HierarchicalNSW<float>;
using hnswlib::labeltype;
using hnswlib::linklistsizeint;
using hnswlib::tableint;
using hnswlib_search::SearchGraph;

// hnswlib's inner-product space (distance 1 - x.y), with the AVX2+FMA kernel
// the rest of index/ uses when the CPU has it (index/simd_kernels.h), else
// hnswlib's own. hnswlib picks its kernel at compile time, and Debian's
// baseline x86-64 build gets the SSE one; the graphs' build and search spend
// about half their time in it. Distances differ only by float summation
// order, and a graph file does not record its space: graphs built either way
// load and search the same.
class FastInnerProductSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit FastInnerProductSpace(size_t dim) : dim_(dim), fallback_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override {
    return HasAvx2Fma() ? &DistanceAvx2 : fallback_.get_dist_func();
  }
  void* get_dist_func_param() override {
    return HasAvx2Fma() ? &dim_ : fallback_.get_dist_func_param();
  }

 private:
  __attribute__((target("avx2,fma"))) static float DistanceAvx2(
      const void* x, const void* y, const void* dim) {
    return 1.0f - InnerProductAvx2(static_cast<const float*>(x),
                                   static_cast<const float*>(y),
                                   *static_cast<const size_t*>(dim));
  }

  size_t dim_;
  hnswlib::InnerProductSpace fallback_;
};

// Faiss's default efSearch, for handles given none.
constexpr int kDefaultEfSearch = 16;
// M above this is refused: hnswlib stores list lengths in 16 bits (2M on
// the base layer) and nobody needs more.
constexpr int kMaxM = 1024;
// Points handed to a build thread at a time.
constexpr int64_t kBuildChunk = 256;

// saveIndex's header, in file order: ten size_t, one double, two 32-bit.
constexpr int64_t kHeaderBytes =
    10 * sizeof(size_t) + sizeof(double) + sizeof(int) + sizeof(tableint);

class HnswlibIndexHandle final : public IndexHandle {
 public:
  HnswlibIndexHandle(int dim, std::string description, int ef_search)
      : space_(static_cast<size_t>(dim)),
        dim_(dim),
        description_(std::move(description)),
        ef_search_(ef_search > 0 ? ef_search : kDefaultEfSearch) {}

  // The space the graph measures with; it must outlive the graph.
  FastInnerProductSpace* space() { return &space_; }
  void set_graph(std::unique_ptr<Graph> graph) { graph_ = std::move(graph); }
  Graph& graph() { return *graph_; }

  int dim() const override { return dim_; }
  int64_t size() const override {
    return static_cast<int64_t>(graph_->cur_element_count);
  }
  const std::string& description() const override { return description_; }

  absl::Status Search(const float* query, int k, const SearchParams& params,
                      std::vector<Neighbor>* out) const override {
    out->clear();
    if (k <= 0) return absl::InvalidArgumentError("k must be positive");
    const Graph& g = *graph_;
    if (g.cur_element_count == 0) return absl::OkStatus();
    const size_t ef = static_cast<size_t>(
        params.ef_search > 0 ? params.ef_search : ef_search_);

    SearchGraph</*kDeletions=*/false>(g, query, k, ef, out);
    return absl::OkStatus();
  }

  absl::Status Reconstruct(int32_t row, float* out) const override {
    auto it = graph_->label_lookup_.find(static_cast<labeltype>(row));
    if (row < 0 || it == graph_->label_lookup_.end()) {
      return absl::NotFoundError(
          absl::StrCat("reconstruct row ", row, ": not in the index"));
    }
    std::memcpy(out, graph_->getDataByInternalId(it->second),
                static_cast<size_t>(dim_) * sizeof(float));
    return absl::OkStatus();
  }

  // The length saveIndex writes: header, elements, upper-layer link lists.
  int64_t FileBytes() const {
    const Graph& g = *graph_;
    int64_t bytes =
        kHeaderBytes +
        static_cast<int64_t>(g.cur_element_count * g.size_data_per_element_);
    for (size_t i = 0; i < g.cur_element_count; ++i) {
      bytes += static_cast<int64_t>(
          sizeof(uint32_t) +
          g.size_links_per_element_ *
              static_cast<size_t>(std::max(g.element_levels_[i], 0)));
    }
    return bytes;
  }

  absl::Status Write(const std::string& path) const {
    // saveIndex checks nothing: open the file first, check the length after.
    if (!std::ofstream(path, std::ios::binary | std::ios::trunc)) {
      return absl::InternalError(
          absl::StrCat("write ", path, ": cannot open for writing"));
    }
    try {
      graph_->saveIndex(path);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("write ", path, ": ", e.what()));
    }
    std::error_code ec;
    const uintmax_t written = fs::file_size(path, ec);
    const int64_t want = FileBytes();
    if (ec || written != static_cast<uintmax_t>(want)) {
      return absl::InternalError(absl::StrCat(
          "write ", path, ": ", ec ? 0 : written, " bytes written of ", want));
    }
    return absl::OkStatus();
  }

 private:
  FastInnerProductSpace space_;
  const int dim_;
  const std::string description_;
  const int ef_search_;
  std::unique_ptr<Graph> graph_;  // after space_: destroyed first
};

// The parts of a saveIndex header that loading relies on.
struct FileLayout {
  int dim = 0;
  size_t count = 0;
};

template <typename T>
bool ReadPod(std::istream& in, T* value) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(value), sizeof(T)));
}

// DATA_LOSS: `path`, ": " and `parts`.
template <typename... Parts>
absl::Status DataLoss(const std::string& path, const Parts&... parts) {
  return absl::DataLossError(absl::StrCat(path, ": ", parts...));
}

// A saveIndex header (kHeaderBytes), fields in file order.
struct FileHeader {
  size_t offset_level0, max_elements, count, size_data_per_element,
      label_offset, offset_data;
  int max_level;
  tableint entry_point;
  size_t max_m, max_m0, m;
  double mult;
  size_t ef_construction;
};

absl::Status ReadHeader(const std::string& path, std::istream& in,
                        FileHeader* h) {
  const bool read =
      ReadPod(in, &h->offset_level0) && ReadPod(in, &h->max_elements) &&
      ReadPod(in, &h->count) && ReadPod(in, &h->size_data_per_element) &&
      ReadPod(in, &h->label_offset) && ReadPod(in, &h->offset_data) &&
      ReadPod(in, &h->max_level) && ReadPod(in, &h->entry_point) &&
      ReadPod(in, &h->max_m) && ReadPod(in, &h->max_m0) && ReadPod(in, &h->m) &&
      ReadPod(in, &h->mult) && ReadPod(in, &h->ef_construction);
  if (!read) return DataLoss(path, "cannot read the hnswlib header");
  return absl::OkStatus();
}

// Checks the header's layout (hnswlib's own for M and some dim), that its
// elements fit in `file_bytes` and that its entry point is one of them.
// Returns the dim.
absl::StatusOr<int> CheckHeader(const std::string& path, const FileHeader& h,
                                uintmax_t file_bytes) {
  if (h.offset_level0 != 0 || h.m < 2 || h.m > kMaxM || h.max_m != h.m ||
      h.max_m0 != 2 * h.m ||
      h.offset_data != h.max_m0 * sizeof(tableint) + sizeof(linklistsizeint) ||
      h.label_offset <= h.offset_data ||
      (h.label_offset - h.offset_data) % sizeof(float) != 0 ||
      h.size_data_per_element != h.label_offset + sizeof(labeltype)) {
    return DataLoss(path, "not an hnswlib graph of this layout (M ", h.m,
                    ", element ", h.size_data_per_element, " bytes)");
  }
  const size_t dim = (h.label_offset - h.offset_data) / sizeof(float);
  if (dim > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return DataLoss(path, "dim ", dim, " out of range");
  }
  const uintmax_t body = file_bytes - kHeaderBytes;
  if (h.count == 0 || h.count > static_cast<size_t>(INT32_MAX) ||
      h.count > body / h.size_data_per_element) {
    return DataLoss(path, h.count, " elements of ", h.size_data_per_element,
                    " bytes do not fit in ", file_bytes, " bytes");
  }
  if (h.max_level < 0 || h.entry_point >= h.count) {
    return DataLoss(path, "entry point ", h.entry_point, " at level ",
                    h.max_level, " out of range");
  }
  return static_cast<int>(dim);
}

// Checks the upper-layer link lists after the elements (one length per
// element, then the lists): each a whole number of levels up to the
// graph's top, the entry point's reaching it, and together ending the file.
absl::Status CheckLinkLists(const std::string& path, std::istream& in,
                            const FileHeader& h, uintmax_t file_bytes) {
  const size_t links_per_level =
      h.max_m * sizeof(tableint) + sizeof(linklistsizeint);
  uintmax_t position = kHeaderBytes + h.count * h.size_data_per_element;
  in.seekg(static_cast<std::streamoff>(position));
  int entry_level = -1;
  for (size_t i = 0; i < h.count; ++i) {
    uint32_t list_bytes = 0;
    if (position + sizeof(list_bytes) > file_bytes ||
        !ReadPod(in, &list_bytes)) {
      return DataLoss(path, "truncated: ", h.count,
                      " elements, link lists end at ", position);
    }
    position += sizeof(list_bytes);
    const size_t level = list_bytes / links_per_level;
    if (list_bytes % links_per_level != 0 ||
        level > static_cast<size_t>(h.max_level) ||
        position + list_bytes > file_bytes) {
      return DataLoss(path, "element ", i, ": bad link lists (", list_bytes,
                      " bytes)");
    }
    if (i == h.entry_point) entry_level = static_cast<int>(level);
    position += list_bytes;
    in.seekg(list_bytes, std::ios::cur);
  }
  if (position != file_bytes) {
    return DataLoss(path, file_bytes, " bytes, ", h.count, " elements need ",
                    position);
  }
  if (entry_level != h.max_level) {
    return DataLoss(path, "entry point ", h.entry_point, " is at level ",
                    entry_level, ", the graph's top is ", h.max_level);
  }
  return absl::OkStatus();
}

// Checks what loadIndex trusts: the header's layout (hnswlib's own for M and
// some dim) and a file length that matches its element count and link-list
// sizes. hnswlib only checks the length, and divides by maxM_ and allocates
// what the header says first.
absl::StatusOr<FileLayout> CheckFile(const std::string& path) {
  std::error_code ec;
  const uintmax_t file_bytes = fs::file_size(path, ec);
  if (ec) return DataLoss(path, "cannot stat: ", ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return DataLoss(path, "cannot open");
  if (file_bytes < static_cast<uintmax_t>(kHeaderBytes)) {
    return DataLoss(path, file_bytes, " bytes, shorter than an hnswlib header");
  }
  FileHeader header{};
  RETURN_IF_ERROR(ReadHeader(path, in, &header));
  ASSIGN_OR_RETURN(const int dim, CheckHeader(path, header, file_bytes));
  RETURN_IF_ERROR(CheckLinkLists(path, in, header, file_bytes));
  return FileLayout{dim, header.count};
}

// Checks the loaded graph: every link names an element that has the level,
// no element is marked deleted, labels are distinct item rows.
absl::Status CheckGraph(const std::string& path, Graph& g) {
  const size_t n = g.cur_element_count;
  for (tableint i = 0; i < n; ++i) {
    if (g.isMarkedDeleted(i)) {
      return DataLoss(path, "element ", i, " marked deleted");
    }
    if (g.getExternalLabel(i) > static_cast<labeltype>(INT32_MAX)) {
      return DataLoss(path, "element ", i, ": label ", g.getExternalLabel(i),
                      " is not an item row");
    }
    for (int level = 0; level <= g.element_levels_[i]; ++level) {
      linklistsizeint* list = g.get_linklist_at_level(i, level);
      const size_t count = g.getListCount(list);
      if (count > (level == 0 ? g.maxM0_ : g.maxM_)) {
        return DataLoss(path, "element ", i, " has ", count, " links at level ",
                        level);
      }
      const tableint* links = list + 1;
      for (size_t j = 0; j < count; ++j) {
        if (links[j] >= n || g.element_levels_[links[j]] < level) {
          return DataLoss(path, "element ", i, " links to ", links[j],
                          " at level ", level);
        }
      }
    }
  }
  if (g.label_lookup_.size() != n) {
    return DataLoss(path, n - g.label_lookup_.size(), " repeated labels");
  }
  return absl::OkStatus();
}

class GrowingGraphImpl final : public GrowingGraph {
 public:
  explicit GrowingGraphImpl(int dim) : space_(static_cast<size_t>(dim)) {}

  FastInnerProductSpace* space() { return &space_; }
  void set_graph(std::unique_ptr<Graph> graph) { graph_ = std::move(graph); }

  absl::Status Upsert(int32_t label, const float* vector) override {
    Graph& g = *graph_;
    const auto label_id = static_cast<labeltype>(label);
    try {
      if (g.label_lookup_.find(label_id) == g.label_lookup_.end()) {
        if (!free_.empty()) {
          // Take over a removed label's element: addPoint then finds the
          // label, unmarks the element and moves it (updatePoint).
          const tableint id = free_.back();
          free_.pop_back();
          g.label_lookup_.erase(g.getExternalLabel(id));
          g.label_lookup_[label_id] = id;
          g.setExternalLabel(id, label_id);
        } else if (g.cur_element_count == g.max_elements_) {
          g.resizeIndex(2 * g.max_elements_);
        }
      }
      g.addPoint(vector, label_id);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("hnswlib: ", e.what()));
    }
    return absl::OkStatus();
  }

  void Remove(int32_t label) override {
    Graph& g = *graph_;
    auto it = g.label_lookup_.find(static_cast<labeltype>(label));
    if (it == g.label_lookup_.end() || g.isMarkedDeleted(it->second)) return;
    g.markDeletedInternal(it->second);
    free_.push_back(it->second);
  }

  void Search(const float* query, int k, int ef,
              std::vector<Neighbor>* out) const override {
    const size_t search_ef = static_cast<size_t>(std::max(ef, 1));
    if (graph_->num_deleted_ > 0) {
      SearchGraph</*kDeletions=*/true>(*graph_, query, k, search_ef, out);
    } else {
      SearchGraph</*kDeletions=*/false>(*graph_, query, k, search_ef, out);
    }
  }

  int64_t MemoryBytes() const override {
    const Graph& g = *graph_;
    // Base layer, upper-layer pointers, levels and locks per slot; upper
    // link lists per element above level 0; the label map's nodes.
    int64_t bytes = static_cast<int64_t>(
        g.max_elements_ * (g.size_data_per_element_ + sizeof(void*) +
                           sizeof(int) + sizeof(std::mutex)));
    for (size_t i = 0; i < g.cur_element_count; ++i) {
      bytes += static_cast<int64_t>(
          g.size_links_per_element_ *
          static_cast<size_t>(std::max(g.element_levels_[i], 0)));
    }
    bytes += static_cast<int64_t>(g.label_lookup_.size() * 4 * sizeof(void*));
    return bytes;
  }

 private:
  FastInnerProductSpace space_;
  std::unique_ptr<Graph> graph_;  // after space_: destroyed first
  std::vector<tableint> free_;    // removed labels' elements
};

}  // namespace

absl::StatusOr<std::unique_ptr<IndexHandle>> BuildHnswlibIndex(
    const HnswlibBuildOptions& options, int dim, const float* vectors,
    int64_t n, const std::vector<int32_t>& rows) {
  if (dim <= 0 || n <= 0 || n > INT32_MAX || options.m < 2 ||
      options.m > kMaxM || options.ef_construction <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("hnswlib: cannot build over ", n, " vectors of dim ", dim,
                     " with M ", options.m, " (2 to ", kMaxM,
                     "), efConstruction ", options.ef_construction));
  }
  if (!rows.empty()) {
    if (static_cast<int64_t>(rows.size()) != n) {
      return absl::InvalidArgumentError("hnswlib: rows.size() differs from n");
    }
    // addPoint would silently replace the vector of a repeated label.
    std::vector<int32_t> sorted = rows;
    std::sort(sorted.begin(), sorted.end());
    if (sorted.front() < 0 ||
        std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return absl::InvalidArgumentError(
          "hnswlib: rows must be distinct and non-negative");
    }
  }
  auto label = [&rows](int64_t i) {
    return static_cast<labeltype>(rows.empty() ? i : rows[i]);
  };

  auto handle = std::make_unique<HnswlibIndexHandle>(dim, options.description,
                                                     options.ef_search);
  try {
    handle->set_graph(std::make_unique<Graph>(
        handle->space(), static_cast<size_t>(n), static_cast<size_t>(options.m),
        static_cast<size_t>(options.ef_construction),
        static_cast<size_t>(options.seed)));
    // The first point alone: addPoint is thread-safe once the graph has an
    // entry point.
    handle->graph().addPoint(vectors, label(0));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnswlib: ", e.what()));
  }

  std::mutex error_mu;
  std::string error;  // the first failure, under error_mu
  std::atomic<bool> failed{false};
  ParallelFor(n - 1, options.threads, kBuildChunk, [&](int64_t j) {
    if (failed) return;  // the other points are skipped after a failure
    const int64_t i = j + 1;
    try {
      handle->graph().addPoint(vectors + i * dim, label(i));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (error.empty()) error = e.what();
      failed = true;
    }
  });
  if (!error.empty()) {
    return absl::InternalError(absl::StrCat("hnswlib: ", error));
  }
  return std::unique_ptr<IndexHandle>(std::move(handle));
}

absl::Status WriteHnswlibIndex(const IndexHandle& index,
                               const std::string& path) {
  const auto* hnswlib_index = dynamic_cast<const HnswlibIndexHandle*>(&index);
  if (hnswlib_index == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "WriteHnswlibIndex: \"", index.description(), "\" is not hnswlib"));
  }
  return hnswlib_index->Write(path);
}

absl::StatusOr<std::unique_ptr<IndexHandle>> LoadHnswlibIndex(
    const std::string& path, std::string description, int ef_search) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  ASSIGN_OR_RETURN(FileLayout layout, CheckFile(path));
  auto handle = std::make_unique<HnswlibIndexHandle>(
      layout.dim, std::move(description), ef_search);
  try {
    // Capacity = the element count, whatever max_elements the header holds.
    handle->set_graph(
        std::make_unique<Graph>(handle->space(), path, false, layout.count));
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("read ", path, ": ", e.what()));
  }
  Graph& g = handle->graph();
  // The loading constructor leaves num_deleted_ uninitialised before it
  // counts; CheckGraph refuses deleted elements, so it is zero.
  g.num_deleted_ = 0;
  if (g.cur_element_count != layout.count) {
    return absl::DataLossError(
        absl::StrCat(path, ": read ", g.cur_element_count,
                     " elements, expected ", layout.count));
  }
  RETURN_IF_ERROR(CheckGraph(path, g));
  return std::unique_ptr<IndexHandle>(std::move(handle));
}

absl::StatusOr<std::unique_ptr<GrowingGraph>> NewGrowingGraph(
    int dim, int m, int ef_construction, int64_t capacity) {
  if (dim <= 0 || m < 2 || m > kMaxM || ef_construction <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("hnswlib: cannot grow a graph of dim ", dim, " with M ", m,
                     " (2 to ", kMaxM, "), efConstruction ", ef_construction));
  }
  auto graph = std::make_unique<GrowingGraphImpl>(dim);
  try {
    graph->set_graph(std::make_unique<Graph>(
        graph->space(), static_cast<size_t>(std::max<int64_t>(capacity, 16)),
        static_cast<size_t>(m), static_cast<size_t>(ef_construction)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("hnswlib: ", e.what()));
  }
  return std::unique_ptr<GrowingGraph>(std::move(graph));
}

}  // namespace recall
