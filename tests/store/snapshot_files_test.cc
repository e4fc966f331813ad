#include "store/snapshot_files.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class SnapshotFilesTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_ / "v1"); }

  static v1::Manifest ValidManifest() {
    v1::Manifest m;
    m.set_format_version(kManifestFormatVersion);
    m.set_version("v1");
    m.mutable_items()->set_count(10);
    m.mutable_items()->mutable_file()->set_path("items.tsv");
    v1::SpaceManifest* s = m.add_spaces();
    s->set_name("dssm");
    s->set_dim(8);
    s->set_metric(v1::METRIC_INNER_PRODUCT);
    s->set_factory("HNSW32");
    s->set_count(10);
    s->mutable_index()->set_path("spaces/dssm.faiss");
    m.mutable_store()->set_dir("store");
    return m;
  }

  ScopedTempDir tmp_{"snapshot_files_test"};
  const fs::path root_{tmp_.dir()};
};

TEST_F(SnapshotFilesTest, CurrentRoundTripAndAtomicReplace) {
  EXPECT_EQ(ReadCurrent(root_).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(PublishCurrent(root_, "v1").ok());
  EXPECT_EQ(*ReadCurrent(root_), "v1");
  fs::create_directories(root_ / "v2");
  ASSERT_TRUE(PublishCurrent(root_, "v2").ok());
  EXPECT_EQ(*ReadCurrent(root_), "v2");
  EXPECT_FALSE(fs::exists(root_ / "CURRENT.tmp"));
  // Only existing plain directory names can be published.
  EXPECT_FALSE(PublishCurrent(root_, "v3").ok());
  EXPECT_FALSE(PublishCurrent(root_, "../v1").ok());
  EXPECT_EQ(*ReadCurrent(root_), "v2");
}

TEST_F(SnapshotFilesTest, CurrentNamingAPathIsDataLoss) {
  std::ofstream(root_ / "CURRENT") << "../../etc\n";
  EXPECT_EQ(ReadCurrent(root_).status().code(), absl::StatusCode::kDataLoss);
  std::ofstream(root_ / "CURRENT") << "  \n";
  EXPECT_EQ(ReadCurrent(root_).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotFilesTest, ManifestRoundTrip) {
  const v1::Manifest m = ValidManifest();
  ASSERT_TRUE(WriteManifest(root_ / "v1", m).ok());
  auto read = ReadManifest(root_ / "v1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->SerializeAsString(), m.SerializeAsString());
}

TEST_F(SnapshotFilesTest, ManifestSyntaxErrorNamesFileAndLine) {
  std::ofstream(root_ / "v1" / "MANIFEST")
      << "format_version: 1\nversion: \"v1\"\nspaces { nme: \"x\" }\n";
  auto read = ReadManifest(root_ / "v1");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("MANIFEST:3:"));
  EXPECT_THAT(read.status().message(), HasSubstr("nme"));
}

TEST_F(SnapshotFilesTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateManifest(ValidManifest()).ok());
  struct Case {
    std::function<void(v1::Manifest*)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](v1::Manifest* m) { m->set_format_version(99); }, "format_version"},
      {[](v1::Manifest* m) { m->set_version(""); }, "version"},
      {[](v1::Manifest* m) { m->mutable_items()->set_count(0); },
       "items.count"},
      {[](v1::Manifest* m) { m->mutable_spaces(0)->set_dim(0); },
       "spaces[0].dim"},
      {[](v1::Manifest* m) { m->mutable_spaces(0)->set_count(11); },
       "spaces[0].count"},
      {[](v1::Manifest* m) { m->mutable_spaces(0)->set_factory(""); },
       "spaces[0].factory"},
      {[](v1::Manifest* m) {
         m->mutable_spaces(0)->set_metric(v1::METRIC_UNSPECIFIED);
       },
       "spaces[0].metric"},
      {[](v1::Manifest* m) { *m->add_spaces() = m->spaces(0); },
       "spaces[1].name"},
      {[](v1::Manifest* m) { m->mutable_store()->clear_dir(); }, "store.dir"},
  };
  for (const Case& c : cases) {
    v1::Manifest m = ValidManifest();
    c.mutate(&m);
    absl::Status s = ValidateManifest(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << c.field;
    EXPECT_THAT(s.message(), HasSubstr(c.field));
  }
}

TEST_F(SnapshotFilesTest, FileRefDetectsCorruption) {
  std::ofstream(root_ / "v1" / "data.bin") << "hello world";
  auto ref = MakeFileRef(root_ / "v1", "data.bin");
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->size_bytes(), 11);
  EXPECT_EQ(ref->crc32c(), "c99465aa");  // CRC32C("hello world")
  EXPECT_TRUE(VerifyFileRef(root_ / "v1", *ref).ok());

  std::ofstream(root_ / "v1" / "data.bin") << "hello_world";  // same size
  absl::Status s = VerifyFileRef(root_ / "v1", *ref);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("crc32c"));

  std::ofstream(root_ / "v1" / "data.bin") << "hello";
  EXPECT_THAT(VerifyFileRef(root_ / "v1", *ref).message(), HasSubstr("size 5"));
  fs::remove(root_ / "v1" / "data.bin");
  EXPECT_EQ(VerifyFileRef(root_ / "v1", *ref).code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace recall
