#include "store/user_store.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "util/status_macros.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNotFound() || s.IsPathNotFound()) return absl::NotFoundError(message);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  rocksdb::BlockBasedTableOptions table;
  // Point lookups only: a bloom filter skips blocks for unknown users.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(64 << 20);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.compression = rocksdb::kLZ4Compression;
  options.max_open_files = -1;
  options.info_log_level = rocksdb::WARN_LEVEL;
  return options;
}

class RocksDbUserStore final : public UserStore {
 public:
  explicit RocksDbUserStore(std::unique_ptr<rocksdb::DB> db)
      : db_(std::move(db)) {}

  absl::StatusOr<bool> Get(absl::string_view user_id,
                           v1::UserRecord* record) const override {
    record->Clear();
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                 rocksdb::Slice(user_id.data(), user_id.size()), &value);
    if (s.IsNotFound()) return false;
    RETURN_IF_ERROR(
        FromRocks(s, absl::StrCat("user store get \"", user_id, "\"")));
    if (!record->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return absl::DataLossError(absl::StrCat(
          "user store: corrupt record for user \"", user_id, "\""));
    }
    return true;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

class InMemoryUserStore final : public UserStore {
 public:
  explicit InMemoryUserStore(
      absl::flat_hash_map<std::string, v1::UserRecord> records)
      : records_(std::move(records)) {}

  absl::StatusOr<bool> Get(absl::string_view user_id,
                           v1::UserRecord* record) const override {
    auto it = records_.find(user_id);
    if (it == records_.end()) {
      record->Clear();
      return false;
    }
    *record = it->second;
    return true;
  }

 private:
  const absl::flat_hash_map<std::string, v1::UserRecord> records_;
};

class RocksDbUserStoreWriter final : public UserStoreWriter {
 public:
  RocksDbUserStoreWriter(std::string dir, std::string staging)
      : dir_(std::move(dir)),
        staging_(std::move(staging)),
        options_(StoreOptions()),
        writer_(rocksdb::EnvOptions(), options_) {}

  absl::Status Start() {
    std::error_code ec;
    fs::create_directories(staging_, ec);
    if (ec)
      return absl::InternalError(absl::StrCat(staging_, ": ", ec.message()));
    return FromRocks(writer_.Open(SstPath()), "user store: open SST writer");
  }

  absl::Status Add(absl::string_view user_id,
                   const v1::UserRecord& record) override {
    if (user_id.empty())
      return absl::InvalidArgumentError("user store: empty user id");
    if (count_ > 0 && user_id <= last_key_) {
      return absl::InvalidArgumentError(
          absl::StrCat("user store: user \"", user_id, "\" added after \"",
                       last_key_, "\" (ids must be unique and ascending)"));
    }
    last_key_ = std::string(user_id);
    record.SerializeToString(&value_);
    RETURN_IF_ERROR(
        FromRocks(writer_.Put(last_key_, value_), "user store: put"));
    ++count_;
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    rocksdb::Options options = options_;
    options.create_if_missing = true;
    options.error_if_exists = true;
    rocksdb::DB* raw = nullptr;
    RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir_, &raw),
                              "user store: create " + dir_));
    std::unique_ptr<rocksdb::DB> db(raw);
    if (count_ > 0) {
      RETURN_IF_ERROR(FromRocks(writer_.Finish(), "user store: finish SST"));
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      RETURN_IF_ERROR(FromRocks(db->IngestExternalFile({SstPath()}, ingest),
                                "user store: ingest"));
    }
    RETURN_IF_ERROR(FromRocks(db->SyncWAL(), "user store: sync"));
    RETURN_IF_ERROR(FromRocks(db->Close(), "user store: close"));
    std::error_code ec;
    fs::remove_all(staging_, ec);
    return absl::OkStatus();
  }

  int64_t count() const override { return count_; }

 private:
  std::string SstPath() const {
    return (fs::path(staging_) / "users.sst").string();
  }

  const std::string dir_;
  const std::string staging_;
  rocksdb::Options options_;
  rocksdb::SstFileWriter writer_;
  std::string last_key_;
  std::string value_;
  int64_t count_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<UserStore>> OpenRocksDbUserStore(
    const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "CURRENT")) {
    return absl::NotFoundError(absl::StrCat(dir, ": no RocksDB database"));
  }
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::OpenForReadOnly(StoreOptions(), dir, &raw),
                "user store: open " + dir));
  return std::unique_ptr<UserStore>(
      std::make_unique<RocksDbUserStore>(std::unique_ptr<rocksdb::DB>(raw)));
}

std::unique_ptr<UserStore> NewInMemoryUserStore(
    absl::flat_hash_map<std::string, v1::UserRecord> records) {
  return std::make_unique<InMemoryUserStore>(std::move(records));
}

absl::StatusOr<std::unique_ptr<UserStoreWriter>> UserStoreWriter::Open(
    const std::string& dir) {
  if (fs::exists(dir)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, ": already exists"));
  }
  auto writer = std::make_unique<RocksDbUserStoreWriter>(dir, dir + ".sst");
  RETURN_IF_ERROR(writer->Start());
  return std::unique_ptr<UserStoreWriter>(std::move(writer));
}

}  // namespace recall
