// u2i: the user's vector in the channel's space -> nearest items.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recall/channel.h"
#include "recall/channel_kinds.h"
#include "recall/channel_kit.h"

namespace recall {
namespace {

using channel_kit::Factory;
using channel_kit::NeedSpace;
using channel_kit::SearchSpace;

constexpr absl::string_view kViaUser = "user";

class U2iChannel final : public RecallChannel {
 public:
  U2iChannel(ChannelConfig config, const Snapshot& snapshot)
      : RecallChannel(std::move(config)),
        space_(snapshot.FindSpace(this->config().space())) {}

  bool AppliesTo(const RequestContext& ctx) const override {
    return ctx.user != nullptr;
  }

  void Run(const RequestContext& ctx, const ChannelParams& params,
           ChannelOutput* out) const override {
    const v1::UserVector* vector = nullptr;
    for (const v1::UserVector& v : ctx.user->vectors()) {
      if (v.space() == config().space()) vector = &v;
    }
    if (vector == nullptr) {
      out->status = absl::NotFoundError(absl::StrCat(
          "user has no vector in space \"", config().space(), "\""));
      return;
    }
    const IndexHandle& index = *space_->index;
    if (vector->values_size() != index.dim()) {
      out->status = absl::FailedPreconditionError(absl::StrCat(
          "user vector has dim ", vector->values_size(), ", space \"",
          config().space(), "\" has dim ", index.dim()));
      return;
    }
    thread_local std::vector<Neighbor> neighbors;
    out->status = SearchSpace(ctx, *space_, vector->values().data(),
                              params.fetch_k, params.search, &neighbors);
    if (out->status.ok()) AddNeighbors(neighbors, kViaUser, params, out);
  }

 private:
  const Space* space_;
};

}  // namespace

void RegisterU2iChannel(ChannelRegistry& registry) {
  registry.Register("u2i", Factory<U2iChannel>(NeedSpace));
}

}  // namespace recall
