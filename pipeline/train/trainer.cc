#include "pipeline/train/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "fasttext/fasttext.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/word2vec_io.h"
#include "pipeline/train/als.h"
#include "store/item_table.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

struct Click {
  std::string user;
  ItemRow item;
  int64_t ts;
};

absl::StatusOr<std::vector<Click>> ReadClicks(const std::string& world,
                                              const ItemTable& items) {
  const std::string path = (fs::path(world) / "clicks.tsv").string();
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open"));
  std::vector<Click> clicks;
  RETURN_IF_ERROR(
      ReadClickRows(
          in, path,
          [&](absl::string_view user, absl::string_view item, int64_t ts) {
            const ItemRow row = items.Find(item);
            if (row != kNoItem) clicks.push_back({std::string(user), row, ts});
          })
          .status());
  std::stable_sort(clicks.begin(), clicks.end(),
                   [](const Click& a, const Click& b) {
                     return a.user != b.user ? a.user < b.user : a.ts < b.ts;
                   });
  return clicks;
}

// Titles from titles.tsv, lower-cased, by item row (all "" when the world
// has none).
absl::StatusOr<std::vector<std::string>> ReadTitles(const std::string& world,
                                                    const ItemTable& items) {
  const fs::path path = fs::path(world) / "titles.tsv";
  if (!fs::exists(path)) return std::vector<std::string>(items.size());
  ASSIGN_OR_RETURN(std::vector<std::string> titles,
                   ReadTitlesTsv(path.string(), items));
  for (std::string& title : titles) title = absl::AsciiStrToLower(title);
  return titles;
}

// Writes sentences (one per line, tokens separated by spaces) to a temporary
// corpus file and trains a skip-gram model on it.
class Corpus {
 public:
  Corpus() {
    char pattern[] = "/tmp/recall_corpus.XXXXXX";
    const int fd = mkstemp(pattern);
    if (fd >= 0) close(fd);
    path_ = pattern;
    out_.open(path_, std::ios::trunc);
  }
  ~Corpus() {
    std::error_code ec;
    fs::remove(path_, ec);
  }

  void Add(const std::vector<absl::string_view>& tokens) {
    if (tokens.size() < 2) return;  // nothing to learn from a lone token
    std::string line;
    for (size_t i = 0; i < tokens.size(); ++i) {
      absl::StrAppend(&line, i ? " " : "", tokens[i]);
    }
    out_ << line << '\n';
    ++sentences_;
    tokens_ += static_cast<int64_t>(tokens.size());
  }

  absl::Status Train(const TrainOptions& options, bool subwords,
                     fasttext::FastText* model) {
    out_.close();
    if (sentences_ == 0)
      return absl::FailedPreconditionError("no sentence to learn from");
    fasttext::Args args;
    args.input = path_;
    args.model = fasttext::model_name::sg;
    args.loss = fasttext::loss_name::ns;
    args.dim = options.dim;
    args.epoch = options.epochs;
    args.ws = options.window;
    args.neg = options.negatives;
    args.minCount = options.min_count;
    args.thread = options.threads;
    args.lr = options.learning_rate;
    args.t = options.subsample;
    args.seed = options.seed;
    args.verbose = 0;
    args.wordNgrams = 1;
    args.minn = subwords ? 3 : 0;
    args.maxn = subwords ? 6 : 0;
    if (!subwords) args.bucket = 0;
    try {
      model->train(args);
    } catch (const std::exception& e) {
      return absl::FailedPreconditionError(
          absl::StrCat("fastText: ", e.what()));
    }
    return absl::OkStatus();
  }

  int64_t sentences() const { return sentences_; }
  int64_t tokens() const { return tokens_; }

 private:
  std::string path_;
  std::ofstream out_;
  int64_t sentences_ = 0;
  int64_t tokens_ = 0;
};

// Drops the vectors `recallctl build` would refuse (all zero, or with a NaN
// or Inf: fastText can leave an unlearnt word at zero) and counts them as
// missing: the builder leaves such items out of the space.
void DropUnusable(VectorSet* vectors, SpaceTrainReport* report) {
  VectorSet kept;
  kept.dim = vectors->dim;
  for (size_t i = 0; i < vectors->size(); ++i) {
    const float* v = vectors->row(i);
    double norm2 = 0;
    for (int j = 0; j < vectors->dim; ++j) norm2 += double{v[j]} * v[j];
    if (!(norm2 > 0) || !std::isfinite(norm2)) {
      ++report->missing;
      continue;
    }
    kept.ids.push_back(vectors->ids[i]);
    kept.values.insert(kept.values.end(), v, v + vectors->dim);
  }
  *vectors = std::move(kept);
  report->vectors = static_cast<int64_t>(vectors->size());
}

// The model's vector of each wanted id it has seen; counts the others.
VectorSet WordVectors(const fasttext::FastText& model,
                      const std::vector<std::string>& ids,
                      SpaceTrainReport* report) {
  VectorSet out;
  out.dim = model.getDimension();
  fasttext::Vector v(out.dim);
  auto dict = model.getDictionary();
  for (const std::string& id : ids) {
    if (dict->getId(id) < 0) {
      ++report->missing;
      continue;
    }
    model.getWordVector(v, id);
    out.ids.push_back(id);
    out.values.insert(out.values.end(), v.data(), v.data() + out.dim);
  }
  report->vectors = static_cast<int64_t>(out.size());
  return out;
}

// Sessions of each user's clicks, mapped through `token` (item id or media id).
template <typename Token>
void AddSessions(const std::vector<Click>& clicks, absl::Duration gap,
                 Token token, Corpus* corpus) {
  std::vector<absl::string_view> session;
  const int64_t gap_s = absl::ToInt64Seconds(gap);
  for (size_t i = 0; i < clicks.size(); ++i) {
    const bool new_session = i > 0 && (clicks[i].user != clicks[i - 1].user ||
                                       clicks[i].ts - clicks[i - 1].ts > gap_s);
    if (new_session) {
      corpus->Add(session);
      session.clear();
    }
    session.push_back(token(clicks[i]));
  }
  corpus->Add(session);
}

// The "mf" space: implicit ALS (tools/als.h) over the clicks; item and user
// vectors in one space, those of items and users without clicks left out.
absl::Status TrainMf(const TrainOptions& options, const ItemTable& items,
                     const std::vector<Click>& clicks,
                     const std::string& item_path, const std::string& user_path,
                     SpaceTrainReport* report) {
  std::vector<std::string> user_ids;
  std::vector<std::vector<int32_t>> histories;
  for (const Click& c : clicks) {  // grouped by user
    if (user_ids.empty() || user_ids.back() != c.user) {
      user_ids.push_back(c.user);
      histories.emplace_back();
    }
    histories.back().push_back(c.item);
    report->tokens += 1;
  }
  report->sentences = static_cast<int64_t>(histories.size());
  if (histories.empty()) {
    return absl::FailedPreconditionError("mf: no click to learn from");
  }
  AlsOptions als;
  als.dim = options.dim;
  als.iterations = options.epochs;
  als.alpha = options.mf_alpha;
  als.lambda = options.mf_lambda;
  als.threads = options.threads;
  als.seed = static_cast<uint64_t>(options.seed);
  const AlsFactors factors = TrainAls(histories, items.size(), als);
  // The space is searched by cosine (the builder normalises every vector),
  // but ALS scores by inner product, where an item's norm carries its
  // popularity. The MIPS-to-cosine reduction keeps that order: every item
  // gets one more component, sqrt(M^2 - |y|^2) with M the largest item norm,
  // so that all have norm M; users get 0 there. Then cos(x', y') = x.y /
  // (|x| M), which ranks items for a user exactly as x.y does.
  const int d = factors.dim;
  double max_norm2 = 0;
  std::vector<double> norm2(items.size(), 0);
  for (ItemRow row = 0; row < items.size(); ++row) {
    const float* v = factors.items.data() + static_cast<size_t>(row) * d;
    for (int j = 0; j < d; ++j) norm2[row] += double{v[j]} * v[j];
    max_norm2 = std::max(max_norm2, norm2[row]);
  }
  VectorSet item_vectors;
  item_vectors.dim = d + 1;
  for (ItemRow row = 0; row < items.size(); ++row) {
    if (!(norm2[row] > 0)) {  // nobody clicked it
      ++report->missing;
      continue;
    }
    item_vectors.ids.push_back(items.item(row).id);
    const float* v = factors.items.data() + static_cast<size_t>(row) * d;
    item_vectors.values.insert(item_vectors.values.end(), v, v + d);
    item_vectors.values.push_back(
        static_cast<float>(std::sqrt(std::max(0.0, max_norm2 - norm2[row]))));
  }
  DropUnusable(&item_vectors, report);
  VectorSet user_vectors;
  SpaceTrainReport user_report;
  user_vectors.dim = d + 1;
  user_vectors.ids = user_ids;
  for (size_t u = 0; u < user_ids.size(); ++u) {
    const float* v = factors.users.data() + u * d;
    user_vectors.values.insert(user_vectors.values.end(), v, v + d);
    user_vectors.values.push_back(0.0f);
  }
  DropUnusable(&user_vectors, &user_report);
  if (item_vectors.size() == 0 || user_vectors.size() == 0) {
    return absl::FailedPreconditionError("mf: no vector learned");
  }
  RETURN_IF_ERROR(WriteWord2VecText(item_path, item_vectors));
  return WriteWord2VecText(user_path, user_vectors);
}

}  // namespace

std::string TrainReport::ToText() const {
  std::string out;
  for (const auto& [space, r] : spaces) {
    absl::StrAppendFormat(
        &out,
        "train %-9s %8d sentences %10d tokens -> %8d vectors, %d without "
        "(too few occurrences), %.1f s\n",
        space, r.sentences, r.tokens, r.vectors, r.missing, r.seconds);
  }
  return out;
}

// The training sentences of `space` (not mf) into `corpus`, the ids whose
// vectors are wanted into `wanted`, and the vector file's name into `file`:
// item2vec and media2vec from click sessions, tag2vec from each item's tags
// and title words, title2vec from the titles.
void BuildCorpus(const std::string& space, const TrainOptions& options,
                 const ItemTable& items, const std::vector<Click>& clicks,
                 const std::vector<std::string>& titles, Corpus* corpus,
                 std::vector<std::string>* wanted, std::string* file) {
  if (space == "item2vec") {
    AddSessions(
        clicks, options.session_gap,
        [&](const Click& c) {
          return absl::string_view(items.item(c.item).id);
        },
        corpus);
    for (const Item& item : items.items()) wanted->push_back(item.id);
    *file = "item2vec.item.vec";
  } else if (space == "media2vec") {
    AddSessions(
        clicks, options.session_gap,
        [&](const Click& c) {
          return absl::string_view(items.item(c.item).media_id);
        },
        corpus);
    absl::flat_hash_map<std::string, bool> seen;
    for (const Item& item : items.items()) {
      if (!item.media_id.empty() && seen.emplace(item.media_id, true).second) {
        wanted->push_back(item.media_id);
      }
    }
    *file = "media.vec";
  } else if (space == "tag2vec") {
    absl::flat_hash_map<std::string, bool> seen;
    for (ItemRow row = 0; row < items.size(); ++row) {
      std::vector<absl::string_view> sentence;
      for (const auto& [tag, weight] : items.item(row).tags) {
        sentence.push_back(tag);
        if (seen.emplace(tag, true).second) wanted->push_back(tag);
      }
      for (absl::string_view word :
           absl::StrSplit(titles[row], ' ', absl::SkipEmpty())) {
        sentence.push_back(word);
      }
      corpus->Add(sentence);
    }
    *file = "tags.vec";
  } else {  // title2vec
    for (const std::string& title : titles) {
      corpus->Add(absl::StrSplit(title, ' ', absl::SkipEmpty()));
    }
  }
}

// Learns `space`'s vectors from `corpus` with fastText (title2vec vectors
// are sentence vectors of the titles) and keeps those of `wanted`, counting the
// missing. Training consumes `corpus`.
absl::Status LearnVectors(const std::string& space, const TrainOptions& options,
                          const ItemTable& items,
                          const std::vector<std::string>& titles,
                          Corpus* corpus,
                          const std::vector<std::string>& wanted,
                          SpaceTrainReport* r, VectorSet* vectors,
                          std::string* file) {
  fasttext::FastText model;
  if (absl::Status s =
          corpus->Train(options, /*subwords=*/space == "title2vec", &model);
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(space, ": ", s.message()));
  } else if (space == "title2vec") {
    vectors->dim = model.getDimension();
    fasttext::Vector v(vectors->dim);
    for (ItemRow row = 0; row < items.size(); ++row) {
      if (titles[row].empty()) {
        ++r->missing;
        continue;
      }
      std::istringstream sentence(titles[row] + "\n");
      model.getSentenceVector(sentence, v);
      double norm2 = 0;
      for (int j = 0; j < vectors->dim; ++j) norm2 += double{v[j]} * v[j];
      if (!(norm2 > 0)) {
        ++r->missing;
        continue;
      }
      vectors->ids.push_back(items.item(row).id);
      vectors->values.insert(vectors->values.end(), v.data(),
                             v.data() + vectors->dim);
    }
    r->vectors = static_cast<int64_t>(vectors->size());
    *file = "title2vec.item.vec";
  } else {
    *vectors = WordVectors(model, wanted, r);
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainReport> TrainSpaces(const TrainOptions& options) {
  for (const std::string& space : options.spaces) {
    if (space != "item2vec" && space != "media2vec" && space != "tag2vec" &&
        space != "title2vec" && space != "mf") {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown space \"", space,
          "\" (want item2vec, media2vec, tag2vec, title2vec, mf)"));
    }
  }
  ASSIGN_OR_RETURN(
      ItemTable items,
      ItemTable::ReadTsv((fs::path(options.world) / "items.tsv").string()));
  ASSIGN_OR_RETURN(std::vector<Click> clicks, ReadClicks(options.world, items));
  ASSIGN_OR_RETURN(const std::vector<std::string> titles,
                   ReadTitles(options.world, items));
  const bool has_titles =
      std::any_of(titles.begin(), titles.end(),
                  [](const std::string& t) { return !t.empty(); });
  fs::create_directories(fs::path(options.world) / "vectors");
  auto vec_path = [&](const std::string& file) {
    return (fs::path(options.world) / "vectors" / file).string();
  };

  TrainReport report;
  for (const std::string& space : options.spaces) {
    if (space == "title2vec" && !has_titles) {
      if (options.spaces == TrainOptions().spaces)
        continue;  // the default: skip quietly
      return absl::FailedPreconditionError(
          "title2vec: the world has no titles.tsv");
    }
    const absl::Time start = absl::Now();
    SpaceTrainReport& r = report.spaces[space];
    if (space == "mf") {
      RETURN_IF_ERROR(TrainMf(options, items, clicks, vec_path("mf.item.vec"),
                              vec_path("mf.user.vec"), &r));
      r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
      continue;
    }
    Corpus corpus;
    std::vector<std::string> wanted;
    std::string file;
    BuildCorpus(space, options, items, clicks, titles, &corpus, &wanted, &file);
    r.sentences = corpus.sentences();
    r.tokens = corpus.tokens();
    VectorSet vectors;
    RETURN_IF_ERROR(LearnVectors(space, options, items, titles, &corpus, wanted,
                                 &r, &vectors, &file));
    DropUnusable(&vectors, &r);
    if (vectors.size() == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(space, ": no vector learned"));
    }
    RETURN_IF_ERROR(WriteWord2VecText(vec_path(file), vectors));
    r.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  }
  return report;
}

}  // namespace recall
