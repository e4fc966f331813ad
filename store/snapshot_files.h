// Files of a snapshot root, following the LevelDB CURRENT pattern:
//
//   ROOT/CURRENT             one line: the active version directory's name
//   ROOT/<version>/MANIFEST  text-format recall.v1.Manifest
//   ROOT/<version>/...       the files the MANIFEST lists
//
// A builder writes a version directory completely, syncs it, and only then
// points CURRENT at it (write CURRENT.tmp, fsync, rename, fsync ROOT). A
// published version is never modified, so readers need no locks.
#ifndef RECALL_STORE_SNAPSHOT_FILES_H_
#define RECALL_STORE_SNAPSHOT_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "proto/recall/v1/snapshot.pb.h"

namespace recall {

// The MANIFEST format this code writes and the only one it reads.
inline constexpr int kManifestFormatVersion = 1;
inline constexpr char kManifestFileName[] = "MANIFEST";
inline constexpr char kCurrentFileName[] = "CURRENT";

// The version name in ROOT/CURRENT (whitespace trimmed). NOT_FOUND when there
// is no CURRENT; DATA_LOSS when it is empty or names something that is not a
// plain directory name.
absl::StatusOr<std::string> ReadCurrent(const std::string& root);

// Atomically points ROOT/CURRENT at `version` (a directory under ROOT that
// must already exist). Durable on return.
absl::Status PublishCurrent(const std::string& root,
                            const std::string& version);

// Parses a text-format proto file. NOT_FOUND when it cannot be opened;
// INVALID_ARGUMENT "PATH:LINE:COLUMN: problem" when it does not parse.
absl::Status ReadTextProto(const std::string& path,
                           google::protobuf::Message* message);

// Reads and validates ROOT/<version>/MANIFEST (see ValidateManifest).
absl::StatusOr<v1::Manifest> ReadManifest(const std::string& version_dir);

// Writes `manifest` as text format to version_dir/MANIFEST and syncs it.
absl::Status WriteManifest(const std::string& version_dir,
                           const v1::Manifest& manifest);

// Structural checks that need no other file: known format version, a version
// name, an item table with a positive count, each space with a unique
// non-empty name, dim > 0, a known metric, a factory string, 0 < count <=
// item count, and a store directory. Errors are DATA_LOSS naming the field.
absl::Status ValidateManifest(const v1::Manifest& manifest);

// Size and CRC32C of version_dir/relative_path.
absl::StatusOr<v1::FileRef> MakeFileRef(const std::string& version_dir,
                                        const std::string& relative_path);

// DATA_LOSS when version_dir/ref.path is missing or its size or CRC32C differs
// from `ref`.
absl::Status VerifyFileRef(const std::string& version_dir,
                           const v1::FileRef& ref);

// CRC32C of a whole file as 8 lower-case hex digits.
absl::StatusOr<std::string> FileCrc32c(const std::string& path);

// fsync a file or directory.
absl::Status SyncPath(const std::string& path);

}  // namespace recall

#endif  // RECALL_STORE_SNAPSHOT_FILES_H_
