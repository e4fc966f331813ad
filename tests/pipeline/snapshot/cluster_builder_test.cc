// `build --clusters`: k-means over the users' vectors writes centres and a
// cluster table and gives each user its membership; bad specs are refused
// naming the clustering.
#include "pipeline/snapshot/cluster_builder.h"

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "store/version_layout.h"
#include "tests/test_util.h"

namespace recall {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ClusterBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tsv = absl::StrCat(kItemTsvHeader, "\n");
    for (const char* id : {"a", "b"})
      absl::StrAppend(&tsv, id, "\tnews\tnews/x\tm1\t\t100\t1\t0.1\n");
    WriteFile(tmp_.Path("items.tsv"), tsv);
    items_ = *ItemTable::ReadTsv(tmp_.Path("items.tsv"));
    ASSERT_TRUE(layout::CreateDirs(tmp_.Path("v1")).ok());
    // 40 users in two planted groups: vectors near (1, 0) click a, near
    // (0, 1) click b.
    vectors_.dim = 2;
    for (int u = 0; u < 40; ++u) {
      const int32_t user = log_.AddUser(absl::StrCat("u", u));
      vectors_.ids.push_back(absl::StrCat("u", u));
      const float jitter = 0.01f * static_cast<float>(u % 5);
      if (u < 20) {
        vectors_.values.insert(vectors_.values.end(), {1.0f, jitter});
      } else {
        vectors_.values.insert(vectors_.values.end(), {jitter, 1.0f});
      }
      log_.AddClick(user, u < 20 ? 0 : 1, 1000 + u);
    }
    log_.Finish();
    profiles_.resize(40);
  }

  ClusterInputs Inputs() {
    ClusterInputs inputs;
    inputs.items = &items_;
    inputs.reference_time = 2000;
    inputs.log = &log_;
    inputs.profiles = &profiles_;
    inputs.spaces.push_back({"dssm", &vectors_});
    return inputs;
  }

  static v1::ClusteringConfig Config(const std::string& text) {
    v1::ClusteringConfig config;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config));
    return config;
  }

  ScopedTempDir tmp_{"cluster_builder_test"};
  ItemTable items_;
  ClickLog log_;
  VectorSet vectors_;
  std::vector<std::vector<v1::TagWeight>> profiles_;
};

TEST_F(ClusterBuilderTest, KMeansFindsThePlantedGroups) {
  std::vector<std::vector<v1::ClusterMembership>> memberships;
  auto manifests = BuildClusterings(
      Config("clusterings { name: \"km\" kind: \"kmeans\" spaces: \"dssm\" "
             "k: 2 }"),
      Inputs(), tmp_.Path("v1"), &memberships);
  ASSERT_TRUE(manifests.ok()) << manifests.status();
  ASSERT_EQ(manifests->size(), 1u);
  const v1::ClusteringManifest& m = (*manifests)[0];
  EXPECT_EQ(m.k(), 2);
  EXPECT_EQ(m.dim(), 2);
  EXPECT_TRUE(fs::exists(tmp_.Path("v1/" + m.centres().path())));
  EXPECT_TRUE(fs::exists(tmp_.Path("v1/" + m.clusters().path())));
  ASSERT_EQ(memberships.size(), 40u);
  for (int u = 0; u < 40; ++u) {
    ASSERT_EQ(memberships[u].size(), 1u) << u;
    EXPECT_EQ(memberships[u][0].clustering(), "km");
    // Every user of a group in the same cluster, the groups apart.
    EXPECT_EQ(memberships[u][0].cluster(),
              memberships[u < 20 ? 0 : 20][0].cluster());
  }
  EXPECT_NE(memberships[0][0].cluster(), memberships[20][0].cluster());
}

TEST_F(ClusterBuilderTest, BadSpecsAreRefusedNamingTheClustering) {
  std::vector<std::vector<v1::ClusterMembership>> memberships;
  for (const auto& [spec, why] :
       std::vector<std::pair<std::string, std::string>>{
           {"name: \"x\" kind: \"spectral\" spaces: \"dssm\" k: 2", "kind"},
           {"name: \"x\" kind: \"kmeans\" spaces: \"nope\" k: 2", "nope"},
           {"name: \"x\" kind: \"kmeans\" spaces: \"dssm\" k: 100", "k"},
           {"name: \"x\" kind: \"kmeans\" spaces: \"dssm\" k: 2 "
            "stable_centres: true",
            "stable_centres"}}) {
    auto manifests = BuildClusterings(Config("clusterings { " + spec + " }"),
                                      Inputs(), tmp_.Path("v1"), &memberships);
    EXPECT_EQ(manifests.status().code(), absl::StatusCode::kInvalidArgument)
        << spec;
    EXPECT_THAT(manifests.status().message(), HasSubstr("\"x\"")) << spec;
    EXPECT_THAT(manifests.status().message(), HasSubstr(why)) << spec;
  }
}

}  // namespace
}  // namespace recall
