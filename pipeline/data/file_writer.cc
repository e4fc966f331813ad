#include "pipeline/data/file_writer.h"

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace recall {

absl::Status ErrnoError(int error_number, const std::string& path,
                        absl::string_view what) {
  return absl::Status(
      absl::ErrnoToStatusCode(error_number),
      absl::StrCat(path, ": ", what, ": ", std::strerror(error_number)));
}

FileWriter::~FileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status FileWriter::Open(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return ErrnoError(errno, path, "cannot create");
  buffer_.reserve(kChunk + 4096);
  return absl::OkStatus();
}

absl::Status FileWriter::Close() {
  absl::Status status = Flush();
  const int close_result = std::fclose(file_);
  const int close_errno = errno;
  file_ = nullptr;
  if (status.ok() && close_result != 0) {
    status = ErrnoError(close_errno, path_, "write failed");
  }
  return status;
}

absl::Status FileWriter::Flush() {
  if (!buffer_.empty() &&
      std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return ErrnoError(errno, path_, "write failed");
  }
  buffer_.clear();
  return absl::OkStatus();
}

}  // namespace recall
