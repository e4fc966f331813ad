// Buffered file output for the offline tools, with errors as Statuses that
// name the file and the system error.
#ifndef RECALL_PIPELINE_DATA_FILE_WRITER_H_
#define RECALL_PIPELINE_DATA_FILE_WRITER_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace recall {

// "PATH: what: strerror(error_number)" with the matching canonical code.
absl::Status ErrnoError(int error_number, const std::string& path,
                        absl::string_view what);

// Buffered writer over stdio that reports the first error with errno. Append
// to buffer(), call MaybeFlush() now and then, and Close() at the end (its
// status says whether everything reached the file). Not thread-safe.
class FileWriter {
 public:
  static constexpr size_t kChunk = size_t{1} << 20;

  FileWriter() = default;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  // Creates or truncates `path`.
  absl::Status Open(const std::string& path);

  std::string* buffer() { return &buffer_; }

  // Writes the buffer out once it holds at least kChunk bytes.
  absl::Status MaybeFlush() {
    return buffer_.size() >= kChunk ? Flush() : absl::OkStatus();
  }

  absl::Status Close();

 private:
  absl::Status Flush();

  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
};

}  // namespace recall

#endif  // RECALL_PIPELINE_DATA_FILE_WRITER_H_
