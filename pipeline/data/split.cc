#include "pipeline/data/split.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/file_writer.h"
#include "pipeline/data/word2vec_io.h"
#include "store/item_table.h"
#include "util/line_error.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

// Interned ids with their byte-order ranks (after Finish()).
class Ids {
 public:
  int32_t Intern(absl::string_view id) {
    auto [it, inserted] =
        index_.emplace(std::string(id), static_cast<int32_t>(ids_.size()));
    if (inserted) ids_.push_back(it->first);
    return it->second;
  }
  void Finish() {
    std::vector<int32_t> order(ids_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [this](int32_t a, int32_t b) { return ids_[a] < ids_[b]; });
    rank_.resize(ids_.size());
    for (size_t r = 0; r < order.size(); ++r) rank_[order[r]] = r;
  }
  const std::string& id(int32_t i) const { return ids_[i]; }
  int32_t rank(int32_t i) const { return rank_[i]; }

 private:
  std::vector<std::string> ids_;
  std::vector<int32_t> rank_;
  absl::flat_hash_map<std::string, int32_t> index_;
};

struct Click {
  int32_t user;
  int32_t item;
  int64_t ts;
};

absl::Status ValidateOptions(const SplitOptions& options) {
  const int set = (options.last_n != 0) + (options.last_fraction != 0) +
                  (options.cutoff_unix != 0);
  if (set != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "set exactly one of last_n, last_fraction and cutoff_unix (", set,
        " set)"));
  }
  if (options.last_n < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("last_n must be > 0, got ", options.last_n));
  }
  if (options.last_fraction != 0 &&
      !(options.last_fraction > 0 && options.last_fraction <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "last_fraction must be in (0, 1], got ", options.last_fraction));
  }
  return absl::OkStatus();
}

absl::Status ReadClicks(const std::string& path, Ids* users, Ids* items,
                        std::vector<Click>* clicks) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  }
  ASSIGN_OR_RETURN(
      const int64_t line_no,
      ReadClickRows(
          in, path,
          [&](absl::string_view user, absl::string_view item, int64_t ts) {
            clicks->push_back({users->Intern(user), items->Intern(item), ts});
          }));
  if (clicks->empty()) {
    return LineError(path, line_no, "empty input (no clicks)");
  }
  return absl::OkStatus();
}

// How many of a user's `n` clicks (in order) are test clicks in the
// per-user modes.
int64_t TestCount(const SplitOptions& options, int64_t n) {
  int64_t k = 0;
  if (options.last_n > 0) {
    k = options.last_n;
  } else {
    k = static_cast<int64_t>(
        std::ceil(options.last_fraction * static_cast<double>(n) - 1e-9));
    k = std::max<int64_t>(k, 1);
  }
  return std::clamp<int64_t>(k, 0, n - 1);
}

// Marks the test clicks of `clicks` (sorted by user, then time) and counts
// them.
SplitReport MarkTestClicks(const SplitOptions& options,
                           const std::vector<Click>& clicks,
                           std::vector<bool>* test) {
  test->assign(clicks.size(), false);
  SplitReport report;
  for (size_t begin = 0; begin < clicks.size();) {
    size_t end = begin;
    while (end < clicks.size() && clicks[end].user == clicks[begin].user) {
      ++end;
    }
    int64_t user_test = 0;
    if (options.cutoff_unix != 0) {
      for (size_t i = begin; i < end; ++i) {
        (*test)[i] = clicks[i].ts >= options.cutoff_unix;
        user_test += (*test)[i];
      }
    } else {
      user_test = TestCount(options, static_cast<int64_t>(end - begin));
      for (size_t i = end - user_test; i < end; ++i) (*test)[i] = true;
    }
    report.test_clicks += user_test;
    report.train_clicks += static_cast<int64_t>(end - begin) - user_test;
    report.test_users += user_test > 0;
    begin = end;
  }
  return report;
}

absl::Status WriteClicks(const std::string& path, const Ids& users,
                         const Ids& items, const std::vector<Click>& clicks,
                         const std::vector<bool>& test, bool want_test,
                         const std::string* users_path) {
  FileWriter out;
  RETURN_IF_ERROR(out.Open(path));
  FileWriter users_out;
  if (users_path != nullptr) RETURN_IF_ERROR(users_out.Open(*users_path));
  absl::StrAppend(out.buffer(), kClicksHeader, "\n");
  int32_t last_user = -1;
  for (size_t i = 0; i < clicks.size(); ++i) {
    if (test[i] != want_test) continue;
    const Click& c = clicks[i];
    absl::StrAppend(out.buffer(), users.id(c.user), "\t", items.id(c.item),
                    "\t", c.ts, "\n");
    RETURN_IF_ERROR(out.MaybeFlush());
    if (users_path != nullptr && c.user != last_user) {
      absl::StrAppend(users_out.buffer(), users.id(c.user), "\n");
      RETURN_IF_ERROR(users_out.MaybeFlush());
    }
    last_user = c.user;
  }
  RETURN_IF_ERROR(out.Close());
  if (users_path != nullptr) RETURN_IF_ERROR(users_out.Close());
  return absl::OkStatus();
}

absl::Status CopyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("copy ", from.string(), " to ",
                                            to.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

// Splits `items` at the cut-off: items.tsv of the earlier ones into
// train_dir, of the later ones into new_dir (when set); the same for every
// vectors/<space>.item.vec (other vector files are copied whole). Returns
// how many items were published at or after the cut-off.
absl::StatusOr<int64_t> SplitItemsAt(const fs::path& in_dir,
                                     const fs::path& train_dir,
                                     const std::string& new_dir,
                                     int64_t cutoff) {
  ASSIGN_OR_RETURN(ItemTable all,
                   ItemTable::ReadTsv((in_dir / "items.tsv").string()));
  ItemTable before, after;
  for (const Item& item : all.items())
    RETURN_IF_ERROR((item.publish_ts < cutoff ? before : after).Add(item));
  RETURN_IF_ERROR(before.WriteTsv((train_dir / "items.tsv").string()));
  if (!new_dir.empty()) {
    std::error_code ec;
    fs::create_directories(new_dir, ec);
    if (after.size() > 0)
      RETURN_IF_ERROR(
          after.WriteTsv((fs::path(new_dir) / "items.tsv").string()));
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(in_dir / "vectors", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 9 || name.compare(name.size() - 9, 9, ".item.vec") != 0)
      continue;
    ASSIGN_OR_RETURN(VectorSet vectors,
                     ReadWord2VecText(entry.path().string()));
    VectorSet kept, moved;
    kept.dim = moved.dim = vectors.dim;
    for (size_t i = 0; i < vectors.size(); ++i) {
      VectorSet& to = after.Find(vectors.ids[i]) == kNoItem ? kept : moved;
      to.ids.push_back(vectors.ids[i]);
      to.values.insert(to.values.end(), vectors.row(i),
                       vectors.row(i) + vectors.dim);
    }
    RETURN_IF_ERROR(
        WriteWord2VecText((train_dir / "vectors" / name).string(), kept));
    if (!new_dir.empty() && moved.size() > 0) {
      RETURN_IF_ERROR(
          WriteWord2VecText((fs::path(new_dir) / name).string(), moved));
    }
  }
  return static_cast<int64_t>(after.size());
}

}  // namespace

std::string SplitReport::ToText() const {
  const int64_t total = train_clicks + test_clicks;
  return absl::StrFormat(
      "train clicks %d, test clicks %d (%.1f%%), test users %d%s\n",
      train_clicks, test_clicks,
      total > 0 ? 100.0 * static_cast<double>(test_clicks) / total : 0.0,
      test_users,
      new_items > 0
          ? absl::StrCat(", items published after the cut-off ", new_items)
          : "");
}

absl::StatusOr<SplitReport> SplitWorld(const std::string& world,
                                       const std::string& train_world,
                                       const std::string& test_tsv,
                                       const SplitOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  const fs::path in_dir(world);
  const fs::path out_dir(train_world);
  const fs::path items_path = in_dir / "items.tsv";
  if (!fs::is_regular_file(items_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat(items_path.string(), ": missing"));
  }
  std::error_code ec;
  if (fs::exists(out_dir) && fs::equivalent(in_dir, out_dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the training world ", train_world, " is the input world ", world));
  }

  Ids users;
  Ids items;
  std::vector<Click> clicks;
  RETURN_IF_ERROR(
      ReadClicks((in_dir / "clicks.tsv").string(), &users, &items, &clicks));
  users.Finish();
  items.Finish();
  std::sort(clicks.begin(), clicks.end(), [&](const Click& a, const Click& b) {
    return std::make_tuple(users.rank(a.user), a.ts, items.rank(a.item)) <
           std::make_tuple(users.rank(b.user), b.ts, items.rank(b.item));
  });

  std::vector<bool> test;
  SplitReport report = MarkTestClicks(options, clicks, &test);

  fs::create_directories(out_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat(train_world, ": cannot create directory: ", ec.message()));
  }
  RETURN_IF_ERROR(CopyFile(items_path, out_dir / "items.tsv"));
  if (fs::exists(in_dir / "titles.tsv")) {  // for title2vec
    RETURN_IF_ERROR(CopyFile(in_dir / "titles.tsv", out_dir / "titles.tsv"));
  }
  const std::string users_path = (out_dir / "users.txt").string();
  RETURN_IF_ERROR(WriteClicks((out_dir / "clicks.tsv").string(), users, items,
                              clicks, test, false, &users_path));
  if (const fs::path parent = fs::path(test_tsv).parent_path();
      !parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(
          parent.string(), ": cannot create directory: ", ec.message()));
    }
  }
  RETURN_IF_ERROR(
      WriteClicks(test_tsv, users, items, clicks, test, true, nullptr));
  const fs::path vectors = in_dir / "vectors";
  if (fs::is_directory(vectors)) {
    fs::copy(vectors, out_dir / "vectors",
             fs::copy_options::recursive | fs::copy_options::overwrite_existing,
             ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("copy ", vectors.string(), ": ", ec.message()));
    }
  }
  if (options.cutoff_unix != 0) {
    ASSIGN_OR_RETURN(report.new_items,
                     SplitItemsAt(in_dir, out_dir, options.new_items_dir,
                                  options.cutoff_unix));
  }
  return report;
}

}  // namespace recall
