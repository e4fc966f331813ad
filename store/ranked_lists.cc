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
  auto corrupt = [&path](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(path, ": ", what));
  };
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
    return corrupt("not a ranked-lists file (bad magic)");
  }
  if (!Get(in, &keyed) || !Get(in, &keys) || !Get(in, &count) || keyed > 2) {
    return corrupt("bad header");
  }
  // Bound the allocations below by what the file can hold.
  if (count > file_size / sizeof(RankedEntry) ||
      keys > file_size / sizeof(uint64_t)) {
    return corrupt("header counts exceed the file size");
  }
  RankedLists lists(static_cast<ListKeys>(keyed));
  if (lists.keys_kind_ == ListKeys::kItemRows) {
    lists.rows_.resize(keys);
    if (!in.read(reinterpret_cast<char*>(lists.rows_.data()),
                 static_cast<std::streamsize>(keys * sizeof(uint32_t)))) {
      return corrupt("truncated key rows");
    }
    for (uint32_t i = 0; i < keys; ++i) {
      if (static_cast<int64_t>(lists.rows_[i]) >= item_count ||
          (i > 0 && lists.rows_[i] <= lists.rows_[i - 1])) {
        return corrupt(
            absl::StrCat("key ", i, ": row ", lists.rows_[i],
                         " outside the item table or not ascending"));
      }
    }
  }
  if (lists.named()) {
    for (uint32_t i = 0; i < keys; ++i) {
      uint32_t length = 0;
      if (!Get(in, &length) || length > kMaxKeyLength) {
        return corrupt(absl::StrCat("key ", i, ": bad length"));
      }
      std::string key(length, '\0');
      if (!in.read(key.data(), length)) return corrupt("truncated keys");
      if (!lists.index_.emplace(key, i).second) {
        return corrupt(absl::StrCat("duplicate key \"", key, "\""));
      }
      lists.keys_.push_back(std::move(key));
    }
  }
  lists.offsets_.resize(keys + 1);
  lists.entries_.resize(count);
  if (!in.read(reinterpret_cast<char*>(lists.offsets_.data()),
               static_cast<std::streamsize>(lists.offsets_.size() *
                                            sizeof(uint64_t))) ||
      !in.read(reinterpret_cast<char*>(lists.entries_.data()),
               static_cast<std::streamsize>(count * sizeof(RankedEntry)))) {
    return corrupt("truncated");
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    return corrupt("trailing bytes");
  }
  if (lists.offsets_[0] != 0 || lists.offsets_[keys] != count) {
    return corrupt("offsets do not span the entries");
  }
  // Every offset first: a list is read only once all of them are known to
  // ascend within [0, count] (found by tests/fuzz: an offset past the end).
  for (uint32_t i = 0; i < keys; ++i) {
    if (lists.offsets_[i] > lists.offsets_[i + 1]) {
      return corrupt(absl::StrCat("list ", i, ": offsets descend"));
    }
  }
  for (uint32_t i = 0; i < keys; ++i) {
    absl::Span<const RankedEntry> list = lists.List(i);
    for (size_t j = 0; j < list.size(); ++j) {
      if (static_cast<int64_t>(list[j].row) >= item_count ||
          !std::isfinite(list[j].score) ||
          (j > 0 && list[j].score > list[j - 1].score)) {
        return corrupt(absl::StrCat("list ", i, " entry ", j,
                                    ": row outside the item table, a "
                                    "non-finite score, or out of order"));
      }
    }
  }
  return lists;
}

}  // namespace recall
