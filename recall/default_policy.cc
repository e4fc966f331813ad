// DefaultPolicy (declared in recall/engine.h): the policy a snapshot gets
// when its MANIFEST has none, from what the snapshot holds.
#include <string>

#include "recall/engine.h"

namespace recall {

namespace {

// Per user clustering: cluster_center (k-means over one space), cluster_cf,
// and cluster_profile over tag2vec for rule clusterings.
void AddClusterChannels(const Snapshot& snapshot, v1::Policy* policy_out) {
  v1::Policy& policy = *policy_out;
  for (const v1::ClusteringManifest& cm : snapshot.manifest().clusterings()) {
    const v1::ClusteringSpec& spec = cm.spec();
    if (cm.has_centres() && spec.spaces_size() == 1) {
      v1::ChannelPolicy* center = policy.add_channels();
      center->set_name("cluster_center_" + spec.name());
      center->set_kind("cluster_center");
      center->set_clustering(spec.name());
      center->set_space(spec.spaces(0));
      center->set_weight(0.5f);
    }
    v1::ChannelPolicy* cf = policy.add_channels();
    cf->set_name("cluster_cf_" + spec.name());
    cf->set_kind("cluster_cf");
    cf->set_clustering(spec.name());
    cf->set_weight(0.5f);
    if (spec.kind() == "rules" && snapshot.FindTable("tags") != nullptr &&
        snapshot.FindSpace("tag2vec") != nullptr) {
      v1::ChannelPolicy* profile = policy.add_channels();
      profile->set_name("cluster_profile_" + spec.name());
      profile->set_kind("cluster_profile");
      profile->set_clustering(spec.name());
      profile->set_space("tag2vec");
      profile->set_weight(0.5f);
    }
  }
}

}  // namespace

v1::Policy DefaultPolicy(const Snapshot& snapshot) {
  v1::Policy policy;
  const bool has_item2vec = snapshot.FindSpace("item2vec") != nullptr;
  for (const Space& space : snapshot.spaces()) {
    if (space.manifest.user_count() > 0) {
      v1::ChannelPolicy* u2i = policy.add_channels();
      u2i->set_name("u2i_" + space.manifest.name());
      u2i->set_kind("u2i");
      u2i->set_space(space.manifest.name());
      // The tag profile is a coarser signal than a trained user tower.
      if (space.manifest.name() == "tag2vec") u2i->set_weight(0.8f);
    }
  }
  for (const Space& space : snapshot.spaces()) {
    // i2i over the co-click space when there is one, else over every space.
    if (has_item2vec && space.manifest.name() != "item2vec") continue;
    v1::ChannelPolicy* i2i = policy.add_channels();
    i2i->set_name("i2i_" + space.manifest.name());
    i2i->set_kind("i2i");
    i2i->set_space(space.manifest.name());
    i2i->set_fetch_k(1000);
    i2i->set_min_similarity(0.6f);
  }
  if (snapshot.FindTable("tags") != nullptr &&
      snapshot.FindSpace("tag2vec") != nullptr) {
    v1::ChannelPolicy* crosstag = policy.add_channels();
    crosstag->set_name("crosstag");
    crosstag->set_kind("crosstag");
    crosstag->set_space("tag2vec");
    crosstag->set_weight(0.8f);
  }
  if (snapshot.FindTable("media") != nullptr) {
    v1::ChannelPolicy* media = policy.add_channels();
    media->set_name("media2vec");
    media->set_kind("media2vec");
    // Every fresh item of a liked author scores its author's similarity
    // (1 for the author itself): a weak, broad signal.
    media->set_weight(0.5f);
  }
  AddClusterChannels(snapshot, &policy);
  if (const NamedLists* itemcf = snapshot.FindLists("itemcf");
      itemcf != nullptr && !itemcf->lists.named()) {
    v1::ChannelPolicy* cf = policy.add_channels();
    cf->set_name("item_cf");
    cf->set_kind("item_cf");
  }
  if (const NamedLists* hot = snapshot.FindLists("hot");
      hot != nullptr && hot->lists.named()) {
    v1::ChannelPolicy* channel = policy.add_channels();
    channel->set_name("hot");
    channel->set_kind("hot");
    channel->set_weight(0.5f);
    // Back-fill from what is clicked now rather than what was published
    // recently: it works for catalogues that are not news too.
    policy.mutable_backfill()->set_name("hot_backfill");
    policy.mutable_backfill()->set_kind("hot");
    return policy;
  }
  policy.mutable_backfill()->set_name("popular");
  policy.mutable_backfill()->set_kind("popular");
  return policy;
}

}  // namespace recall
