// One registration function per built-in channel kind, each defined in that
// kind's file (recall/<kind>_channel.cc). RegisterBuiltinChannels
// (recall/builtin_channels.cc) calls them all; a function registers its kind
// under its name in snapshot.proto's ChannelPolicy.kind, replacing any factory
// already registered under it.
#ifndef RECALL_RECALL_CHANNEL_KINDS_H_
#define RECALL_RECALL_CHANNEL_KINDS_H_

#include "recall/channel.h"

namespace recall {

// "u2i", "i2i", "crosstag", "media2vec" and "popular": the channels over the
// snapshot's spaces, vector tables and items.
void RegisterU2iChannel(ChannelRegistry& registry);
void RegisterI2iChannel(ChannelRegistry& registry);
void RegisterCrosstagChannel(ChannelRegistry& registry);
void RegisterMedia2vecChannel(ChannelRegistry& registry);
void RegisterPopularChannel(ChannelRegistry& registry);

// How many of the user's newest clicks seed an i2i channel whose policy
// sets no seeds_from_clicks (the builder's neighbour tables cover them).
inline constexpr int kI2iSeedsFromClicks = 3;

// "cluster_center", "cluster_cf" and "cluster_profile": the channels over a
// clustering (recall/cluster_channel.h).
void RegisterClusterCenterChannel(ChannelRegistry& registry);
void RegisterClusterCfChannel(ChannelRegistry& registry);
void RegisterClusterProfileChannel(ChannelRegistry& registry);

// "item_cf" and "hot": the channels over precomputed ranked lists
// (recall/list_channel_kit.h).
void RegisterItemCfChannel(ChannelRegistry& registry);
void RegisterHotChannel(ChannelRegistry& registry);

// "hot_now" and "cluster_cf_now": the channels over the click stream's
// real-time lists (recall/realtime_state.h).
void RegisterHotNowChannel(ChannelRegistry& registry);
void RegisterClusterCfNowChannel(ChannelRegistry& registry);

}  // namespace recall

#endif  // RECALL_RECALL_CHANNEL_KINDS_H_
