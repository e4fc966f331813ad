// A seeded random-mutation fuzzer for every parser of outside input, run by
// ctest for a few seconds per target (RECALL_FUZZ_SECONDS, default 2; the
// seed is RECALL_FUZZ_SEED, default fixed, so a run is repeatable). Each
// target starts from its committed corpus (tests/fuzz/corpus/<target>/) and
// feeds mutated bytes to the real parser: bit flips, special bytes, inserted,
// deleted, duplicated and truncated runs, splices of two corpus files. A
// parser may refuse an input, never crash, hang or return garbage silently;
// the ASan/UBSan build (scripts/test.sh --sanitize) turns memory errors into
// failures. Before each input runs it is written to
// $TEST_TMPDIR/fuzz_<target>.last, so a crash leaves the input that caused it
// behind, to be added to the corpus once fixed.
//
// A longer run: RECALL_FUZZ_SECONDS=600 build/bin/fuzz_test
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "pipeline/data/clicks_file.h"
#include "pipeline/data/importers.h"
#include "pipeline/data/word2vec_io.h"
#include "proto/recall/v1/recall.pb.h"
#include "recall/channel.h"
#include "recall/engine.h"
#include "recall/live_items.h"
#include "recall/snapshot.h"
#include "server/recall_service.h"
#include "store/item_table.h"
#include "store/ranked_lists.h"
#include "store/snapshot_files.h"
#include "stream/entries.h"
#include "tests/small_snapshot.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(__FILE__).parent_path() / "corpus";

double FuzzSeconds() {
  const char* s = std::getenv("RECALL_FUZZ_SECONDS");
  return s != nullptr ? std::atof(s) : 2.0;
}

uint64_t FuzzSeed() {
  const char* s = std::getenv("RECALL_FUZZ_SEED");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : 20261202;
}

std::vector<std::string> Corpus(const std::string& target) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(kCorpus / target))
    files.push_back(ReadFile(entry.path().string()));
  return files;
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  std::string Mutate(std::string s, const std::vector<std::string>& corpus) {
    const int rounds = 1 + static_cast<int>(Below(4));
    for (int r = 0; r < rounds; ++r) {
      const size_t n = s.size();
      switch (Below(7)) {
        case 0:  // flip a bit
          if (n > 0) s[Below(n)] ^= static_cast<char>(1 << Below(8));
          break;
        case 1: {  // a byte parsers care about
          static const char kSpecial[] = {'\0', '\n',   '\r',   '\t', ' ',
                                          ':',  ';',    ',',    '"',  '-',
                                          '9',  '\xff', '\xc3', '{',  '}'};
          if (n > 0) s[Below(n)] = kSpecial[Below(sizeof(kSpecial))];
          break;
        }
        case 2: {  // insert random bytes
          std::string bytes(1 + Below(8), '\0');
          for (char& c : bytes) c = static_cast<char>(Below(256));
          s.insert(Below(n + 1), bytes);
          break;
        }
        case 3:  // delete a run
          if (n > 0) {
            const size_t at = Below(n);
            s.erase(at, 1 + Below(std::min<size_t>(16, n - at)));
          }
          break;
        case 4:  // duplicate a run (long lines, repeated rows)
          if (n > 0) {
            const size_t at = Below(n);
            const std::string run = s.substr(at, 1 + Below(64));
            s.insert(at, run);
          }
          break;
        case 5:  // truncate
          s.resize(Below(n + 1));
          break;
        default: {  // splice with another corpus file
          const std::string& other = corpus[Below(corpus.size())];
          const size_t cut = Below(n + 1);
          s = s.substr(0, cut) + other.substr(Below(other.size() + 1));
          break;
        }
      }
    }
    return s;
  }

  size_t Below(size_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }

 private:
  std::mt19937_64 rng_;
};

// Runs `parse` on mutated corpus inputs for FuzzSeconds(); returns how many.
int64_t Fuzz(const std::string& target,
             const std::function<void(const std::string&)>& parse) {
  const std::vector<std::string> corpus = Corpus(target);
  EXPECT_FALSE(corpus.empty()) << target;
  Mutator mutator(FuzzSeed());
  const std::string last =
      (fs::path(::testing::TempDir()) / ("fuzz_" + target + ".last")).string();
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::duration<double>(FuzzSeconds());
  int64_t runs = 0;
  for (const std::string& seed : corpus) parse(seed), ++runs;  // all valid-ish
  while (std::chrono::steady_clock::now() < end) {
    const std::string input =
        mutator.Mutate(corpus[mutator.Below(corpus.size())], corpus);
    WriteFile(last, input);
    parse(input);
    ++runs;
  }
  return runs;
}

class FuzzTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return tmp_.Path(name); }
  ScopedTempDir tmp_{"fuzz"};
};

TEST_F(FuzzTest, Word2VecText) {
  const std::string path = Path("x.vec");
  const int64_t runs = Fuzz("word2vec", [&](const std::string& input) {
    WriteFile(path, input);
    absl::StatusOr<VectorSet> v = ReadWord2VecText(path);
    if (v.ok()) {
      ASSERT_EQ(v->values.size(), v->ids.size() * v->dim);
      for (float x : v->values) ASSERT_TRUE(std::isfinite(x));
    }
  });
  EXPECT_GT(runs, 100);
}

TEST_F(FuzzTest, ItemsTsv) {
  const std::string path = Path("items.tsv");
  Fuzz("items", [&](const std::string& input) {
    WriteFile(path, input);
    absl::StatusOr<ItemTable> t = ItemTable::ReadTsv(path);
    if (t.ok()) {
      for (ItemRow r = 0; r < t->size(); ++r)
        ASSERT_EQ(t->Find(t->item(r).id), r);
    }
  });
}

TEST_F(FuzzTest, ClicksTsv) {
  Fuzz("clicks", [&](const std::string& input) {
    std::istringstream in(input);
    int64_t rows = 0;
    (void)ReadClickRows(
        in, "clicks.tsv",
        [&](absl::string_view user, absl::string_view item, int64_t) {
          ASSERT_FALSE(user.empty());
          ASSERT_FALSE(item.empty());
          ++rows;
        });
  });
}

// The importers read a directory: each run mutates one of its files.
void FuzzImporter(const std::string& target, const std::string& dir,
                  const std::function<void()>& import) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCorpus / target))
    names.push_back(entry.path().filename().string());
  fs::create_directories(dir);
  size_t turn = 0;
  Fuzz(target, [&](const std::string& input) {
    for (const std::string& name : names)
      fs::copy_file(kCorpus / target / name, fs::path(dir) / name,
                    fs::copy_options::overwrite_existing);
    WriteFile((fs::path(dir) / names[turn++ % names.size()]).string(), input);
    import();
  });
}

TEST_F(FuzzTest, MovieLensImporter) {
  const std::string src = Path("ml"), out = Path("ml_world");
  FuzzImporter("movielens", src, [&] {
    fs::remove_all(out);
    (void)ImportMovieLens(src, out, MovieLensOptions());
  });
}

TEST_F(FuzzTest, MindImporter) {
  const std::string src = Path("mind"), out = Path("mind_world");
  FuzzImporter("mind", src, [&] {
    fs::remove_all(out);
    (void)ImportMind(src, out);
  });
}

TEST_F(FuzzTest, ManifestText) {
  const std::string dir = Path("version");
  fs::create_directories(dir);
  Fuzz("manifest", [&](const std::string& input) {
    WriteFile(dir + "/MANIFEST", input);
    absl::StatusOr<v1::Manifest> m = ReadManifest(dir);
    if (m.ok()) {
      ASSERT_TRUE(ValidateManifest(*m).ok());
    }
  });
}

TEST_F(FuzzTest, PolicyTextAgainstASnapshot) {
  RegisterBuiltinChannels();
  ASSERT_TRUE(MakeSmallSnapshot(Path("s"), 300, 50, 8, "v1").ok());
  auto snapshot = Snapshot::Load(Path("s") + "/root", "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const std::string path = Path("policy.textproto");
  Fuzz("policy", [&](const std::string& input) {
    WriteFile(path, input);
    EngineOptions options;
    if (!ReadTextProto(path, &options.policy).ok()) return;
    auto engine = RecallEngine::Create(*snapshot, options);
    if (!engine.ok()) return;
    RecallAnswer answer;
    (void)(*engine)->Recall({.user_id = "u0000001", .k = 10}, &answer);
  });
}

// An item stream entry, written one field per line as NAME=VALUE, parsed
// and applied to a live segment over a small snapshot.
TEST_F(FuzzTest, ItemStreamEntry) {
  ASSERT_TRUE(MakeSmallSnapshot(Path("s"), 300, 50, 8, "v1").ok());
  auto snapshot = Snapshot::Load(Path("s") + "/root", "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  LiveItemsOptions options;
  options.max_items = 50;
  LiveItems live(options);
  ASSERT_TRUE(live.SetSnapshot(*snapshot).ok());
  int64_t stream_ms = 1;
  Fuzz("item_entry", [&](const std::string& input) {
    StreamFields fields;
    for (absl::string_view line : absl::StrSplit(input, '\n')) {
      const size_t eq = line.find('=');
      if (eq == absl::string_view::npos) continue;
      fields.emplace_back(std::string(line.substr(0, eq)),
                          std::string(line.substr(eq + 1)));
    }
    ItemEvent event;
    absl::string_view reason;
    if (!ParseItemEvent(fields, "1-0", &event, &reason).ok()) {
      ASSERT_FALSE(reason.empty());
      return;
    }
    event.stream_ms =
        (*snapshot)->manifest().created_at_unix() * 1000 + stream_ms++;
    const ApplyResult result = live.Apply(event);
    if (result.outcome == ApplyResult::Outcome::kRefused) {
      ASSERT_FALSE(result.reason.empty());
    }
    live.Publish();
    ASSERT_LE(live.stats().items, options.max_items);
  });
}

TEST_F(FuzzTest, RankedListsFile) {
  const std::string path = Path("x.rl");
  Fuzz("ranked_lists", [&](const std::string& input) {
    WriteFile(path, input);
    absl::StatusOr<RankedLists> read = RankedLists::Read(path, 3);
    if (read.ok()) {
      for (int64_t i = 0; i < read->size(); ++i)
        for (const RankedEntry& e : read->List(i)) ASSERT_LT(e.row, 3u);
    }
  });
}

TEST_F(FuzzTest, RecallRequest) {
  RegisterBuiltinChannels();
  ASSERT_TRUE(MakeSmallSnapshot(Path("s"), 300, 50, 8, "v1").ok());
  auto snapshot = Snapshot::Load(Path("s") + "/root", "v1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  auto engine = RecallEngine::Create(*snapshot, EngineOptions());
  ASSERT_TRUE(engine.ok());
  // The corpus is wire format, as a client sends it. Bytes that do not
  // parse (invalid UTF-8 in a string field included) never reach the
  // service: gRPC refuses them.
  // libprotobuf logs every string field with invalid UTF-8: silence it.
  google::protobuf::LogSilencer quiet;
  Fuzz("request", [&](const std::string& input) {
    v1::RecallRequest again;
    if (!again.ParseFromString(input)) return;
    RecallQuery query = RecallQueryFromProto(again);
    query.deadline = absl::Now() + absl::Seconds(1);
    RecallAnswer answer;
    absl::Status s = (*engine)->Recall(query, &answer);
    if (s.ok()) {
      ASSERT_LE(static_cast<int>(answer.items.size()), query.k);
      for (const auto& item : answer.items)
        ASSERT_TRUE(std::isfinite(item.score));
    }
  });
}

}  // namespace
}  // namespace recall
