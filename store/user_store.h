// UserStore: per-user state a request needs (vectors per space, recent
// clicks), one record per user, fetched with one point read.
//
// On disk (RocksDB, format of MANIFEST format_version 1): key = user id bytes,
// value = serialized recall.v1.UserRecord. Written once by UserStoreWriter
// (SstFileWriter + IngestExternalFile), then only ever opened read-only.
#ifndef RECALL_STORE_USER_STORE_H_
#define RECALL_STORE_USER_STORE_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/recall/v1/snapshot.pb.h"

namespace recall {

// Thread safety: safe for concurrent access from multiple threads without
// external synchronization.
class UserStore {
 public:
  virtual ~UserStore() = default;

  // Fills `*record` and returns true when the store knows `user_id`; returns
  // false (and leaves *record cleared) when it does not. An error means the
  // store could not answer (I/O error, corrupt record).
  virtual absl::StatusOr<bool> Get(absl::string_view user_id,
                                   v1::UserRecord* record) const = 0;
};

// Opens a store written by UserStoreWriter, read-only. NOT_FOUND when `dir`
// holds no database; DATA_LOSS when RocksDB reports corruption.
absl::StatusOr<std::unique_ptr<UserStore>> OpenRocksDbUserStore(
    const std::string& dir);

// An in-memory store for unit tests.
std::unique_ptr<UserStore> NewInMemoryUserStore(
    absl::flat_hash_map<std::string, v1::UserRecord> records);

// Bulk-loads a new RocksDB user store. Usage: Open, Add in strictly ascending
// byte order of user id, Finish. Not thread-safe.
class UserStoreWriter {
 public:
  // Creates the database in `dir`, which must not exist yet; SST files are
  // staged in `dir`.sst and removed by Finish.
  static absl::StatusOr<std::unique_ptr<UserStoreWriter>> Open(
      const std::string& dir);
  virtual ~UserStoreWriter() = default;

  // INVALID_ARGUMENT when `user_id` is empty or not greater than the
  // previous one.
  virtual absl::Status Add(absl::string_view user_id,
                           const v1::UserRecord& record) = 0;

  // Ingests what was added, compacts, syncs and closes the database.
  virtual absl::Status Finish() = 0;

  virtual int64_t count() const = 0;
};

}  // namespace recall

#endif  // RECALL_STORE_USER_STORE_H_
