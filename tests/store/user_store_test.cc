#include "store/user_store.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;

v1::UserRecord Record(float x, uint32_t clicked_row) {
  v1::UserRecord r;
  v1::UserVector* v = r.add_vectors();
  v->set_space("dssm");
  v->add_values(x);
  v->add_values(-x);
  v1::Click* c = r.add_recent_clicks();
  c->set_item_row(clicked_row);
  c->set_ts(1700000000 + clicked_row);
  return r;
}

class UserStoreTest : public ::testing::Test {
 protected:
  ScopedTempDir tmp_{"user_store_test"};
  const fs::path dir_{tmp_.dir()};
};

TEST_F(UserStoreTest, RocksDbRoundTrip) {
  const std::string db = dir_ / "store";
  {
    auto writer = UserStoreWriter::Open(db);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Add("u1", Record(0.5f, 3)).ok());
    ASSERT_TRUE((*writer)->Add("u2", Record(0.25f, 7)).ok());
    EXPECT_EQ((*writer)->count(), 2);
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  EXPECT_FALSE(fs::exists(db + ".sst"));
  auto store = OpenRocksDbUserStore(db);
  ASSERT_TRUE(store.ok()) << store.status();
  v1::UserRecord r;
  auto found = (*store)->Get("u2", &r);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(*found);
  EXPECT_EQ(r.SerializeAsString(), Record(0.25f, 7).SerializeAsString());
  found = (*store)->Get("nobody", &r);
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(*found);
  EXPECT_EQ(r.vectors_size(), 0);
}

TEST_F(UserStoreTest, WriterRejectsUnorderedOrDuplicateIds) {
  auto writer = UserStoreWriter::Open(dir_ / "store");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Add("u2", Record(1, 1)).ok());
  EXPECT_EQ((*writer)->Add("u1", Record(1, 1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Add("u2", Record(1, 1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*writer)->Add("", Record(1, 1)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(UserStoreTest, WriterRefusesExistingDirAndOpenRefusesMissingDb) {
  EXPECT_EQ(UserStoreWriter::Open(dir_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenRocksDbUserStore(dir_ / "none").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(UserStoreTest, InMemoryFakeBehavesLikeTheRealStore) {
  absl::flat_hash_map<std::string, v1::UserRecord> records;
  records["u1"] = Record(1, 2);
  auto store = NewInMemoryUserStore(std::move(records));
  v1::UserRecord r;
  EXPECT_TRUE(*store->Get("u1", &r));
  EXPECT_EQ(r.recent_clicks(0).item_row(), 2u);
  EXPECT_FALSE(*store->Get("u9", &r));
}

}  // namespace
}  // namespace recall
