#include "store/snapshot_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rocksdb/file_checksum.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return buffer.str();
}

// Writes `contents` to `path` and fsyncs it.
absl::Status WriteFileSynced(const std::string& path,
                             absl::string_view contents) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("open", path);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return ErrnoError("write", path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return ErrnoError("fsync", path);
  }
  if (::close(fd) != 0) return ErrnoError("close", path);
  return absl::OkStatus();
}

bool IsPlainName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == absl::string_view::npos;
}

}  // namespace

absl::Status SyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync", path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadCurrent(const std::string& root) {
  const std::string path = (fs::path(root) / kCurrentFileName).string();
  ASSIGN_OR_RETURN(std::string contents, ReadWholeFile(path));
  absl::string_view name = absl::StripAsciiWhitespace(contents);
  if (!IsPlainName(name)) {
    return absl::DataLossError(
        absl::StrCat(path, ": does not name a version directory: \"",
                     absl::CEscape(name), "\""));
  }
  return std::string(name);
}

absl::Status PublishCurrent(const std::string& root,
                            const std::string& version) {
  if (!IsPlainName(version) || !fs::is_directory(fs::path(root) / version)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot publish \"", version, "\": not a directory under ", root));
  }
  const std::string tmp = (fs::path(root) / "CURRENT.tmp").string();
  const std::string current = (fs::path(root) / kCurrentFileName).string();
  RETURN_IF_ERROR(WriteFileSynced(tmp, version + "\n"));
  if (::rename(tmp.c_str(), current.c_str()) != 0)
    return ErrnoError("rename", tmp);
  return SyncPath(root);
}

absl::Status ValidateManifest(const v1::Manifest& m) {
  auto bad = [](absl::string_view field, absl::string_view problem) {
    return absl::DataLossError(
        absl::StrCat("MANIFEST: ", field, ": ", problem));
  };
  if (m.format_version() != kManifestFormatVersion) {
    return bad("format_version",
               absl::StrCat(m.format_version(), " is not the supported ",
                            kManifestFormatVersion));
  }
  if (!IsPlainName(m.version()))
    return bad("version", "missing or not a plain name");
  if (m.items().count() <= 0) return bad("items.count", "must be positive");
  if (m.items().file().path().empty()) return bad("items.file.path", "missing");
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < m.spaces_size(); ++i) {
    const v1::SpaceManifest& s = m.spaces(i);
    const std::string field = absl::StrCat("spaces[", i, "]");
    if (s.name().empty()) return bad(field + ".name", "missing");
    if (!names.insert(s.name()).second) {
      return bad(field + ".name",
                 absl::StrCat("duplicate space \"", s.name(), "\""));
    }
    if (s.dim() <= 0) return bad(field + ".dim", "must be positive");
    if (s.metric() != v1::METRIC_INNER_PRODUCT)
      return bad(field + ".metric", "unsupported");
    if (s.factory().empty()) return bad(field + ".factory", "missing");
    if (s.index().path().empty()) return bad(field + ".index.path", "missing");
    if (s.count() <= 0 || s.count() > m.items().count()) {
      return bad(field + ".count",
                 absl::StrCat(s.count(), " is not in [1, items.count=",
                              m.items().count(), "]"));
    }
    if (s.has_neighbours()) {
      const v1::NeighbourTableManifest& t = s.neighbours();
      if (t.file().path().empty())
        return bad(field + ".neighbours.file.path", "missing");
      if (t.k() <= 0) return bad(field + ".neighbours.k", "must be positive");
      if (!(t.min_similarity() >= -1 && t.min_similarity() <= 1)) {
        return bad(field + ".neighbours.min_similarity",
                   absl::StrCat(t.min_similarity(), " is not in [-1, 1]"));
      }
    }
  }
  if (m.store().dir().empty()) return bad("store.dir", "missing");
  return absl::OkStatus();
}

absl::Status ReadTextProto(const std::string& path,
                           google::protobuf::Message* message) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  google::protobuf::TextFormat::Parser parser;
  struct Collector : google::protobuf::io::ErrorCollector {
    std::string error;
    void AddError(int line, int column, const std::string& text) override {
      if (error.empty()) {
        error = absl::StrCat(line + 1, ":", column + 1, ": ", text);
      }
    }
  } collector;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(text, message)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", collector.error));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Manifest> ReadManifest(const std::string& version_dir) {
  const std::string path = (fs::path(version_dir) / kManifestFileName).string();
  v1::Manifest manifest;
  if (absl::Status s = ReadTextProto(path, &manifest); !s.ok()) {
    return absl::IsInvalidArgument(s) ? absl::DataLossError(s.message()) : s;
  }
  absl::Status valid = ValidateManifest(manifest);
  if (!valid.ok())
    return absl::DataLossError(absl::StrCat(path, ": ", valid.message()));
  return manifest;
}

absl::Status WriteManifest(const std::string& version_dir,
                           const v1::Manifest& manifest) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(manifest, &text)) {
    return absl::InternalError("cannot print MANIFEST");
  }
  return WriteFileSynced((fs::path(version_dir) / kManifestFileName).string(),
                         text);
}

absl::StatusOr<std::string> FileCrc32c(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  rocksdb::FileChecksumGenContext context;
  std::unique_ptr<rocksdb::FileChecksumGenerator> gen =
      rocksdb::GetFileChecksumGenCrc32cFactory()->CreateFileChecksumGenerator(
          context);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    gen->Update(buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  gen->Finalize();
  return absl::BytesToHexString(gen->GetChecksum());
}

absl::StatusOr<v1::FileRef> MakeFileRef(const std::string& version_dir,
                                        const std::string& relative_path) {
  const fs::path path = fs::path(version_dir) / relative_path;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec)
    return absl::NotFoundError(absl::StrCat(path.string(), ": ", ec.message()));
  v1::FileRef ref;
  ref.set_path(relative_path);
  ref.set_size_bytes(static_cast<int64_t>(size));
  ASSIGN_OR_RETURN(*ref.mutable_crc32c(), FileCrc32c(path.string()));
  return ref;
}

absl::Status VerifyFileRef(const std::string& version_dir,
                           const v1::FileRef& ref) {
  const fs::path path = fs::path(version_dir) / ref.path();
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec)
    return absl::DataLossError(absl::StrCat(path.string(), ": ", ec.message()));
  if (static_cast<int64_t>(size) != ref.size_bytes()) {
    return absl::DataLossError(absl::StrCat(path.string(), ": size ", size,
                                            " bytes, MANIFEST says ",
                                            ref.size_bytes()));
  }
  ASSIGN_OR_RETURN(std::string crc, FileCrc32c(path.string()));
  if (crc != ref.crc32c()) {
    return absl::DataLossError(absl::StrCat(path.string(), ": crc32c ", crc,
                                            ", MANIFEST says ", ref.crc32c()));
  }
  return absl::OkStatus();
}

}  // namespace recall
