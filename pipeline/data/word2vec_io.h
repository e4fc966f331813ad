// Reading and writing embeddings in the word2vec text format, the format
// fastText, gensim and most training jobs write:
//
//   N D            header: number of vectors, dimension
//   id v1 ... vD   one line per vector, fields separated by single spaces
//
// Lines may end with a trailing space (fastText writes one).
#ifndef RECALL_PIPELINE_DATA_WORD2VEC_IO_H_
#define RECALL_PIPELINE_DATA_WORD2VEC_IO_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recall {

// Vectors in row-major order: values[i * dim + j] is component j of ids[i].
struct VectorSet {
  int dim = 0;
  std::vector<std::string> ids;
  std::vector<float> values;

  size_t size() const { return ids.size(); }
  const float* row(size_t i) const { return values.data() + i * dim; }
};

// Reads a word2vec text file. Every problem is INVALID_ARGUMENT with a
// message "PATH:LINE: problem": missing or malformed header, a row whose
// number of components differs from the header's D ("wrong dimension"), an
// unparsable number, NaN or Inf, a duplicate id, a row count different from
// the header's N, and an empty file or N = 0 ("empty input"). NOT_FOUND when
// the file does not exist.
absl::StatusOr<VectorSet> ReadWord2VecText(const std::string& path);

// Writes `vectors` in the format ReadWord2VecText reads, with enough digits
// that reading it back yields the same floats.
absl::Status WriteWord2VecText(const std::string& path,
                               const VectorSet& vectors);

}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_WORD2VEC_IO_H_
