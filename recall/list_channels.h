// Registration of the channels over precomputed ranked lists: "item_cf"
// (co-click neighbours of the seeds, summed) and "hot" (most recent clicks,
// overall or in the user's categories). See recall/list_channels.cc and
// ChannelPolicy.lists in snapshot.proto.
#ifndef RECALL_RECALL_LIST_CHANNELS_H_
#define RECALL_RECALL_LIST_CHANNELS_H_

#include "recall/channel.h"

namespace recall {

void RegisterListChannels(ChannelRegistry& registry);

}  // namespace recall

#endif  // RECALL_RECALL_LIST_CHANNELS_H_
