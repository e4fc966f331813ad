#include "store/ranked_lists.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace recall {
namespace {

constexpr char kMagic[8] = {'R', 'L', 'I', 'S', 'T', 'S', '0', '1'};
// Keys longer than this are a corrupt file, not a category name.
constexpr uint32_t kMaxKeyLength = 1 << 16;

template <typename T>
void Put(std::ofstream& out, const T& value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
bool Get(std::ifstream& in, T* value) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(value), sizeof(T)));
}

// DATA_LOSS: "path: what".
absl::Status Corrupt(const std::string& path, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(path, ": ", what));
}

// Reads the `keys` item rows of a kItemRows file into `*rows`; they must
// ascend and lie inside the item table.
absl::Status ReadKeyRows(std::ifstream& in, const std::string& path,
                         uint32_t keys, int64_t item_count,
                         std::vector<uint32_t>* rows) {
  rows->resize(keys);
  if (!in.read(reinterpret_cast<char*>(rows->data()),
               static_cast<std::streamsize>(keys * sizeof(uint32_t)))) {
    return Corrupt(path, "truncated key rows");
  }
  for (uint32_t i = 0; i < keys; ++i) {
    if (static_cast<int64_t>((*rows)[i]) >= item_count ||
        (i > 0 && (*rows)[i] <= (*rows)[i - 1])) {
      return Corrupt(path,
                     absl::StrCat("key ", i, ": row ", (*rows)[i],
                                  " outside the item table or not ascending"));
    }
  }
  return absl::OkStatus();
}

// Reads the `keys` names of a named file into `*names`, in order, and
// indexes them in `*index`; they must be distinct.
absl::Status ReadKeyNames(std::ifstream& in, const std::string& path,
                          uint32_t keys, std::vector<std::string>* names,
                          absl::flat_hash_map<std::string, int64_t>* index) {
  for (uint32_t i = 0; i < keys; ++i) {
    uint32_t length = 0;
    if (!Get(in, &length) || length > kMaxKeyLength) {
      return Corrupt(path, absl::StrCat("key ", i, ": bad length"));
    }
    std::string key(length, '\0');
    if (!in.read(key.data(), length)) return Corrupt(path, "truncated keys");
    if (!index->emplace(key, i).second) {
      return Corrupt(path, absl::StrCat("duplicate key \"", key, "\""));
    }
    names->push_back(std::move(key));
  }
  return absl::OkStatus();
}

// Checks that the K + 1 `offsets` start at 0, end at `count` and ascend.
absl::Status CheckOffsets(const std::string& path,
                          const std::vector<uint64_t>& offsets,
                          uint64_t count) {
  const size_t keys = offsets.size() - 1;
  if (offsets[0] != 0 || offsets[keys] != count) {
    return Corrupt(path, "offsets do not span the entries");
  }
  for (size_t i = 0; i < keys; ++i) {
    if (offsets[i] > offsets[i + 1]) {
      return Corrupt(path, absl::StrCat("list ", i, ": offsets descend"));
    }
  }
  return absl::OkStatus();
}

// Checks every list's entries: rows inside the item table, finite scores,
// best first. Only for lists whose offsets passed CheckOffsets.
absl::Status CheckEntries(const std::string& path, const RankedLists& lists,
                          int64_t item_count) {
  for (int64_t i = 0; i < lists.size(); ++i) {
    absl::Span<const RankedEntry> list = lists.List(i);
    for (size_t j = 0; j < list.size(); ++j) {
      if (static_cast<int64_t>(list[j].row) >= item_count ||
          !std::isfinite(list[j].score) ||
          (j > 0 && list[j].score > list[j - 1].score)) {
        return Corrupt(path, absl::StrCat("list ", i, " entry ", j,
                                          ": row outside the item table, a "
                                          "non-finite score, or out of order"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

void RankedLists::Add(std::vector<RankedEntry> entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const RankedEntry& a, const RankedEntry& b) {
                     return a.score > b.score;
                   });
  entries_.insert(entries_.end(), entries.begin(), entries.end());
  offsets_.push_back(entries_.size());
}

void RankedLists::AddRow(uint32_t row, std::vector<RankedEntry> entries) {
  rows_.push_back(row);
  Add(std::move(entries));
}

void RankedLists::Add(std::string key, std::vector<RankedEntry> entries) {
  index_.emplace(key, size());
  keys_.push_back(std::move(key));
  Add(std::move(entries));
}

absl::Status RankedLists::Write(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot create"));
  out.write(kMagic, sizeof(kMagic));
  Put(out, static_cast<uint32_t>(keys_kind_));
  Put(out, static_cast<uint32_t>(size()));
  Put(out, static_cast<uint64_t>(entries_.size()));
  if (named()) {
    for (const std::string& key : keys_) {
      Put(out, static_cast<uint32_t>(key.size()));
      out.write(key.data(), static_cast<std::streamsize>(key.size()));
    }
  }
  if (keys_kind_ == ListKeys::kItemRows) {
    out.write(reinterpret_cast<const char*>(rows_.data()),
              static_cast<std::streamsize>(rows_.size() * sizeof(uint32_t)));
  }
  out.write(reinterpret_cast<const char*>(offsets_.data()),
            static_cast<std::streamsize>(offsets_.size() * sizeof(uint64_t)));
  out.write(
      reinterpret_cast<const char*>(entries_.data()),
      static_cast<std::streamsize>(entries_.size() * sizeof(RankedEntry)));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::StatusOr<RankedLists> RankedLists::Read(const std::string& path,
                                              int64_t item_count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  char magic[sizeof(kMagic)];
  uint32_t keyed = 0, keys = 0;
  uint64_t count = 0;
  if (!in.read(magic, sizeof(magic)) ||
      std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    return Corrupt(path, "not a ranked-lists file (bad magic)");
  }
  if (!Get(in, &keyed) || !Get(in, &keys) || !Get(in, &count) || keyed > 2) {
    return Corrupt(path, "bad header");
  }
  // Bound the allocations below by what the file can hold.
  if (count > file_size / sizeof(RankedEntry) ||
      keys > file_size / sizeof(uint64_t)) {
    return Corrupt(path, "header counts exceed the file size");
  }
  RankedLists lists(static_cast<ListKeys>(keyed));
  if (lists.keys_kind_ == ListKeys::kItemRows) {
    RETURN_IF_ERROR(ReadKeyRows(in, path, keys, item_count, &lists.rows_));
  }
  if (lists.named()) {
    RETURN_IF_ERROR(ReadKeyNames(in, path, keys, &lists.keys_, &lists.index_));
  }
  lists.offsets_.resize(keys + 1);
  lists.entries_.resize(count);
  if (!in.read(reinterpret_cast<char*>(lists.offsets_.data()),
               static_cast<std::streamsize>(lists.offsets_.size() *
                                            sizeof(uint64_t))) ||
      !in.read(reinterpret_cast<char*>(lists.entries_.data()),
               static_cast<std::streamsize>(count * sizeof(RankedEntry)))) {
    return Corrupt(path, "truncated");
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    return Corrupt(path, "trailing bytes");
  }
  // Every offset first: a list is read only once all of them are known to
  // ascend within [0, count] (found by tests/fuzz: an offset past the end).
  RETURN_IF_ERROR(CheckOffsets(path, lists.offsets_, count));
  RETURN_IF_ERROR(CheckEntries(path, lists, item_count));
  return lists;
}

}  // namespace recall
