// The hand-made five-item snapshot of the engine, channel and live-segment
// tests: every cosine is known by hand.
#ifndef RECALL_TESTS_RECALL_TINY_SNAPSHOT_H_
#define RECALL_TESTS_RECALL_TINY_SNAPSHOT_H_

#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "index/exact_index.h"
#include "recall/channel.h"
#include "recall/snapshot.h"
#include "store/user_store.h"

namespace recall {

inline constexpr int64_t kNow = 1793491200;

inline ChannelConfig Channel(const std::string& name, const std::string& kind,
                             const std::string& space = "",
                             float min_similarity = 0) {
  ChannelConfig c;
  c.set_name(name);
  c.set_kind(kind);
  c.set_space(space);
  c.set_min_similarity(min_similarity);
  return c;
}

// Five items on the unit circle, so every cosine is known by hand:
//   a (1,0)  b (.8,.6)  c (.6,.8)  d (0,1)  e (-1,0)
// Hotness a 1, b 5, c 3, d 10, e 20; e is 5 days old (outside popular's
// 72 h window); a and c are an hour old, b and d half an hour.
// Media: a, b by m1 (1,0); c, d by m2 (0,1); e by m3 (.8,.6).
// Tags: t_x (1,0), t_y (0,1).
// With `neighbour_table`, dssm has a neighbour table (k=2, cut 0.5) that
// differs from the index on purpose, so that a test can tell which one an
// answer came from: c's list is e (0.9) alone, every other list is empty.
inline std::shared_ptr<const Snapshot> TinySnapshot(
    bool neighbour_table = false) {
  ItemTable items;
  struct Row {
    std::string id;
    float hotness;
    int64_t age_s;
    std::string media;
  };
  for (const Row& r : {Row{"a", 1, 3600, "m1"}, Row{"b", 5, 1800, "m1"},
                       Row{"c", 3, 3600, "m2"}, Row{"d", 10, 1800, "m2"},
                       Row{"e", 20, 5 * 86400, "m3"}}) {
    Item item;
    item.id = r.id;
    item.hotness = r.hotness;
    item.publish_ts = kNow - r.age_s;
    item.media_id = r.media;
    EXPECT_TRUE(items.Add(item).ok());
  }
  v1::Manifest manifest;
  manifest.set_version("tiny");
  manifest.set_reference_time_unix(kNow);
  manifest.mutable_items()->set_count(5);
  v1::SpaceManifest space_manifest;
  space_manifest.set_name("dssm");
  space_manifest.set_dim(2);
  space_manifest.set_count(5);
  space_manifest.set_user_count(2);
  std::vector<Space> spaces;
  spaces.push_back({space_manifest, *NewExactIndex(2, {1, 0, .8f, .6f, .6f, .8f,
                                                       0, 1, -1, 0})});
  if (neighbour_table) {
    v1::NeighbourTableManifest* tm = spaces[0].manifest.mutable_neighbours();
    tm->set_k(2);
    tm->set_min_similarity(0.5f);
    auto table = std::make_unique<RankedLists>();
    for (int row = 0; row < 5; ++row) {
      table->Add(row == 2 ? std::vector<RankedEntry>{{4, 0.9f}}
                          : std::vector<RankedEntry>{});
    }
    spaces[0].neighbours = std::move(table);
  }
  std::vector<VectorTable> tables;
  tables.push_back(MakeVectorTable("media", {"m1", "m2", "m3"},
                                   *NewExactIndex(2, {1, 0, 0, 1, .8f, .6f})));
  tables.push_back(
      MakeVectorTable("tags", {"t_x", "t_y"}, *NewExactIndex(2, {1, 0, 0, 1})));
  // A k-means clustering "km" over dssm with centres c0 (1,0) and c1 (0,1).
  std::vector<Clustering> clusterings(1);
  Clustering& km = clusterings[0];
  km.manifest.mutable_spec()->set_name("km");
  km.manifest.mutable_spec()->set_kind("kmeans");
  km.manifest.mutable_spec()->add_spaces("dssm");
  km.manifest.set_k(2);
  km.manifest.set_dim(2);
  km.centres = *NewExactIndex(2, {1, 0, 0, 1});
  for (int id : {0, 1}) {
    v1::Cluster* cluster = km.table.add_clusters();
    cluster->set_id(id);
    cluster->set_label(absl::StrCat("c", id));
    v1::TagWeight* t = cluster->add_profile();
    t->set_tag(id == 0 ? "t_x" : "t_y");
    t->set_weight(1);
  }
  // Members' clicks: c0 liked b (3) and a (1); c1 liked d (2) and c (1).
  for (auto [id, row, score] :
       {std::tuple{0, 1, 3.0f}, {0, 0, 1.0f}, {1, 3, 2.0f}, {1, 2, 1.0f}}) {
    v1::ClusterItem* item = km.table.mutable_clusters(id)->add_items();
    item->set_item_row(row);
    item->set_score(score);
  }
  IndexClustering(&km);

  absl::flat_hash_map<std::string, v1::UserRecord> users;
  v1::UserRecord u1;
  v1::UserVector* v = u1.add_vectors();
  v->set_space("dssm");
  v->add_values(1);
  v->add_values(0);
  v1::Click* click = u1.add_recent_clicks();  // c, newest
  click->set_item_row(2);
  click->set_ts(kNow);
  click = u1.add_recent_clicks();  // a, a day earlier
  click->set_item_row(0);
  click->set_ts(kNow - 86400);
  v1::TagWeight* tag = u1.add_tags();
  tag->set_tag("t_x");
  tag->set_category("sports");
  tag->set_weight(0.9f);
  tag = u1.add_tags();
  tag->set_tag("t_y");
  tag->set_category("tech");
  tag->set_weight(0.5f);
  users["u1"] = u1;
  v1::UserRecord reader = u1;  // has read a and b; a member of km's c1
  reader.add_seen_rows(0);
  reader.add_seen_rows(1);
  v1::ClusterMembership* membership = reader.add_clusters();
  membership->set_clustering("km");
  membership->set_cluster(1);
  membership->set_weight(1);
  users["reader"] = reader;
  v1::UserRecord broken;  // a vector of the wrong dimension
  v = broken.add_vectors();
  v->set_space("dssm");
  v->add_values(1);
  users["broken"] = broken;
  return Snapshot::FromParts(manifest, std::move(items), std::move(spaces),
                             NewInMemoryUserStore(std::move(users)),
                             std::move(tables), std::move(clusterings));
}

}  // namespace recall

#endif  // RECALL_TESTS_RECALL_TINY_SNAPSHOT_H_
