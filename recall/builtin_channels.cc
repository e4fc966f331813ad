// RegisterBuiltinChannels: every built-in channel kind, one file each
// (recall/channel_kinds.h).
#include "recall/channel.h"
#include "recall/channel_kinds.h"

namespace recall {

void RegisterBuiltinChannels() {
  ChannelRegistry& registry = ChannelRegistry::Global();
  RegisterU2iChannel(registry);
  RegisterI2iChannel(registry);
  RegisterCrosstagChannel(registry);
  RegisterMedia2vecChannel(registry);
  RegisterClusterCenterChannel(registry);
  RegisterClusterCfChannel(registry);
  RegisterClusterProfileChannel(registry);
  RegisterItemCfChannel(registry);
  RegisterHotChannel(registry);
  RegisterHotNowChannel(registry);
  RegisterClusterCfNowChannel(registry);
  RegisterPopularChannel(registry);
}

}  // namespace recall
