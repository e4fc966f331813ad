#include "pipeline/data/word2vec_io.h"

#include <stdlib.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Word2VecTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return tmp_.Path(name); }

  std::string WriteFile(const std::string& content) {
    const std::string path = Path(absl::StrCat("in", files_++, ".vec"));
    std::ofstream out(path, std::ios::binary);
    out << content;
    return path;
  }

  // Expects reading `content` to fail with INVALID_ARGUMENT whose message is
  // "PATH:LINE: ..." and contains `problem`.
  void ExpectRejected(const std::string& content, int line,
                      const std::string& problem) {
    const std::string path = WriteFile(content);
    absl::StatusOr<VectorSet> set = ReadWord2VecText(path);
    ASSERT_FALSE(set.ok()) << content;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument)
        << set.status();
    EXPECT_THAT(std::string(set.status().message()),
                HasSubstr(absl::StrCat(path, ":", line, ": ")));
    EXPECT_THAT(std::string(set.status().message()), HasSubstr(problem));
  }

  ScopedTempDir tmp_{"word2vec_io_test"};
  int files_ = 0;
};

uint32_t Bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return bits;
}

VectorSet RandomSet(size_t n, int dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  VectorSet set;
  set.dim = dim;
  for (size_t i = 0; i < n; ++i) {
    set.ids.push_back(absl::StrCat("id", i));
    for (int j = 0; j < dim; ++j) set.values.push_back(normal(rng));
  }
  return set;
}

TEST_F(Word2VecTest, ReadsTheDocumentedFormat) {
  const std::string path = WriteFile("2 3\na 1 2.5 -3e-2\nb 0 -0 1e10\n");
  absl::StatusOr<VectorSet> set = ReadWord2VecText(path);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->dim, 3);
  EXPECT_THAT(set->ids, ElementsAre("a", "b"));
  EXPECT_THAT(set->values, ElementsAre(1.0f, 2.5f, -3e-2f, 0.0f, -0.0f, 1e10f));
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->row(1)[2], 1e10f);
}

TEST_F(Word2VecTest, AcceptsTrailingSpaceCrlfAndNoFinalNewline) {
  absl::StatusOr<VectorSet> set =
      ReadWord2VecText(WriteFile("2 2 \r\nx 1 2 \r\ny 3 4"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(set->ids, ElementsAre("x", "y"));
  EXPECT_THAT(set->values, ElementsAre(1, 2, 3, 4));
}

TEST_F(Word2VecTest, AcceptsUnicodeIds) {
  absl::StatusOr<VectorSet> set =
      ReadWord2VecText(WriteFile("1 1\n\xe4\xb8\xad\xe6\x96\x87 0.5\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(set->ids, ElementsAre("\xe4\xb8\xad\xe6\x96\x87"));
}

TEST_F(Word2VecTest, RoundTripIsBitExact) {
  VectorSet set = RandomSet(200, 17, 1);
  // Awkward values: extremes, subnormals, signed zero, tiny and huge.
  set.values[0] = std::numeric_limits<float>::max();
  set.values[1] = std::numeric_limits<float>::lowest();
  set.values[2] = std::numeric_limits<float>::min();
  set.values[3] = std::numeric_limits<float>::denorm_min();
  set.values[4] = -0.0f;
  set.values[5] = 0.1f;
  set.values[6] = 1.0f / 3.0f;
  set.values[7] = 16777217.0f;
  set.values[8] = -1.17549421e-38f;  // subnormal
  const std::string path = Path("out.vec");
  ASSERT_TRUE(WriteWord2VecText(path, set).ok());
  absl::StatusOr<VectorSet> read = ReadWord2VecText(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->dim, set.dim);
  EXPECT_EQ(read->ids, set.ids);
  ASSERT_EQ(read->values.size(), set.values.size());
  for (size_t i = 0; i < set.values.size(); ++i) {
    ASSERT_EQ(Bits(read->values[i]), Bits(set.values[i])) << "value " << i;
  }
}

TEST_F(Word2VecTest, WritesHeaderAndShortestNumbers) {
  VectorSet set;
  set.dim = 2;
  set.ids = {"a", "b"};
  set.values = {0.5f, -1.0f, 0.1f, 100.0f};
  const std::string path = Path("out.vec");
  ASSERT_TRUE(WriteWord2VecText(path, set).ok());
  EXPECT_EQ(ReadFile(path), "2 2\na 0.5 -1\nb 0.1 100\n");
}

TEST_F(Word2VecTest, WriteReplacesExistingFile) {
  const std::string path = Path("out.vec");
  ASSERT_TRUE(WriteWord2VecText(path, RandomSet(50, 8, 2)).ok());
  VectorSet small;
  small.dim = 1;
  small.ids = {"z"};
  small.values = {2};
  ASSERT_TRUE(WriteWord2VecText(path, small).ok());
  EXPECT_EQ(ReadFile(path), "1 1\nz 2\n");
}

TEST_F(Word2VecTest, WriteRejectsWhatTheReaderWouldReject) {
  VectorSet set;
  set.dim = 2;
  set.ids = {"a", "b"};
  set.values = {1, 2, 3, 4};
  const std::string path = Path("out.vec");

  VectorSet bad = set;
  bad.values.pop_back();
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.dim = 0;
  bad.values.clear();
  bad.ids.clear();
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.ids.clear();
  bad.values.clear();
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.ids[1] = "a b";
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.ids[1] = "";
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.ids[1] = "a";
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.values[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  bad = set;
  bad.values[0] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(WriteWord2VecText(path, bad).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(WriteWord2VecText(Path("no/such/dir/x.vec"), set).ok());
}

TEST_F(Word2VecTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadWord2VecText(Path("absent.vec")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(Word2VecTest, RejectsEmptyInput) {
  ExpectRejected("", 1, "empty input");
  ExpectRejected("\n\n", 1, "empty input");
  ExpectRejected("0 64\n", 1, "empty input");
}

TEST_F(Word2VecTest, RejectsMalformedHeader) {
  ExpectRejected("a 1 2 3\n", 1, "malformed header");  // no header at all
  ExpectRejected("2\na 1\n", 1, "malformed header");
  ExpectRejected("2 3 4\n", 1, "malformed header");
  ExpectRejected("2 x\n", 1, "malformed header");
  ExpectRejected("2 0\n", 1, "malformed header");
  ExpectRejected("-1 3\n", 1, "malformed header");
  ExpectRejected("2.0 3\n", 1, "malformed header");
  ExpectRejected("99999999999999999999 3\n", 1, "malformed header");
}

TEST_F(Word2VecTest, RejectsWrongDimension) {
  ExpectRejected("2 3\na 1 2 3\nb 1 2\n", 3,
                 "wrong dimension: 2 components, want 3");
  ExpectRejected("2 3\na 1 2 3 4\nb 1 2 3\n", 2,
                 "wrong dimension: 4 components, want 3");
  ExpectRejected("1 3\na\n", 2, "wrong dimension: 0 components, want 3");
}

TEST_F(Word2VecTest, RejectsUnparsableNumber) {
  ExpectRejected("1 3\na 1 x 3\n", 2, "component 2");
  ExpectRejected("1 3\na 1 2 3.5.1\n", 2, "component 3");
  ExpectRejected("1 2\na 1,5 2\n", 2, "component 1");
  ExpectRejected("1 2\na 1 1e999\n", 2, "component 2");
}

TEST_F(Word2VecTest, RejectsNanAndInf) {
  ExpectRejected("1 5\na 1 2 3 4 nan\n", 2, "NaN or Inf in component 5");
  ExpectRejected("1 2\na inf 0\n", 2, "NaN or Inf in component 1");
  ExpectRejected("1 2\na 0 -Infinity\n", 2, "NaN or Inf in component 2");
}

TEST_F(Word2VecTest, RejectsDuplicateId) {
  ExpectRejected("3 1\nx 1\ny 2\nx 3\n", 4,
                 "duplicate id \"x\" (first at line 2)");
}

TEST_F(Word2VecTest, RejectsRowCountDifferentFromHeader) {
  ExpectRejected("3 1\na 1\nb 2\n", 3, "header says N=3 vectors, file has 2");
  ExpectRejected("1 1\na 1\nb 2\nc 3\n", 3,
                 "header says N=1 vectors, file has 3");
}

TEST_F(Word2VecTest, AcceptsTinyValuesThatUnderflow) {
  absl::StatusOr<VectorSet> set =
      ReadWord2VecText(WriteFile("1 2\na 1e-50 1\n"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->values[0], 0.0f);
}

// 100k x 64, the default world's size. Run with
// --gtest_also_run_disabled_tests to measure.
TEST_F(Word2VecTest, DISABLED_ReadsLargeFileQuickly) {
  const VectorSet set = RandomSet(100000, 64, 3);
  const std::string path = Path("big.vec");
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WriteWord2VecText(path, set).ok());
  auto mid = std::chrono::steady_clock::now();
  absl::StatusOr<VectorSet> read = ReadWord2VecText(path);
  auto end = std::chrono::steady_clock::now();
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->values, set.values);
  const double write_s = std::chrono::duration<double>(mid - start).count();
  const double read_s = std::chrono::duration<double>(end - mid).count();
  std::printf(
      "write %.3f s, read %.3f s (%llu bytes)\n", write_s, read_s,
      static_cast<unsigned long long>(std::filesystem::file_size(path)));
  EXPECT_LT(read_s, 2.0);
}

}  // namespace
}  // namespace recall
