// recallctl query --target HOST:PORT (--user ID | --seeds ID,ID) [...]: one
// Recall (or SimilarItems) call, printed with provenance.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "tools/command.h"
#include "tools/flags.h"

ABSL_FLAG(std::string, user, "", "query: user id");
ABSL_FLAG(std::vector<std::string>, seeds, {},
          "query: comma-separated seed item ids");
ABSL_FLAG(std::vector<std::string>, exclude, {},
          "query: comma-separated item ids to exclude");
ABSL_FLAG(
    bool, similar, false,
    "query: call SimilarItems for --seeds (in --spaces) instead of Recall");
ABSL_FLAG(std::vector<std::string>, spaces, {},
          "query --similar: spaces to search");

namespace recall {
namespace {

// The Recall request the flags describe.
v1::RecallRequest RecallRequestFromFlags() {
  v1::RecallRequest request;
  request.set_user_id(absl::GetFlag(FLAGS_user));
  request.set_k(absl::GetFlag(FLAGS_k));
  for (const std::string& id : absl::GetFlag(FLAGS_seeds))
    request.add_seed_item_ids(id);
  for (const std::string& id : absl::GetFlag(FLAGS_exclude))
    request.add_exclude_item_ids(id);
  for (const std::string& name : absl::GetFlag(FLAGS_channels)) {
    request.add_channel_overrides()->set_channel(name);
    request.set_only_overridden_channels(true);
  }
  request.set_request_id("recallctl-query");
  return request;
}

// The SimilarItems request for the same seeds, k, exclusions and request
// id as `request`, in the --spaces.
v1::SimilarItemsRequest SimilarRequestFor(const v1::RecallRequest& request) {
  v1::SimilarItemsRequest similar;
  *similar.mutable_item_ids() = request.seed_item_ids();
  for (const std::string& space : absl::GetFlag(FLAGS_spaces))
    similar.add_spaces(space);
  similar.set_k(request.k());
  *similar.mutable_exclude_item_ids() = request.exclude_item_ids();
  similar.set_request_id(request.request_id());
  return similar;
}

// Calls SimilarItems (`use_similar`) or Recall on `target`, each try with a
// 5 s deadline, retrying an UNAVAILABLE answer every 200 ms for up to
// --wait seconds.
grpc::Status CallWhileUnavailable(const std::string& target, bool use_similar,
                                  const v1::RecallRequest& request,
                                  const v1::SimilarItemsRequest& similar,
                                  v1::RecallResponse* response) {
  auto stub = v1::RecallService::NewStub(RetryingChannel(target));
  const absl::Time give_up =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait));
  grpc::Status status;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    context.set_wait_for_ready(absl::GetFlag(FLAGS_wait) > 0);
    status = use_similar ? stub->SimilarItems(&context, similar, response)
                         : stub->Recall(&context, request, response);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
        absl::Now() >= give_up)
      break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return status;
}

// The answer as indented JSON, with the proto field names.
void PrintJson(const v1::RecallResponse& response) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(response, &json, options);
  printf("%s", json.c_str());
}

// One item's sources: "channel similarity [score when other] #rank via",
// separated by "; ".
std::string SourcesText(const v1::RecalledItem& item) {
  std::string sources;
  for (const v1::Source& s : item.sources()) {
    absl::StrAppend(&sources, sources.empty() ? "" : "; ", s.channel(), " ",
                    absl::StrFormat("%.3f", s.similarity()),
                    s.score() == s.similarity()
                        ? ""
                        : absl::StrFormat(" [%.3f]", s.score()),
                    " #", s.rank(), s.via().empty() ? "" : " via " + s.via());
  }
  return sources;
}

// The answer as tables: its items with their sources, then each channel's
// counts, latency and status.
void PrintTables(const v1::RecallResponse& response) {
  printf("snapshot %s  user_found=%s  partial=%s  items=%d\n",
         response.snapshot_version().c_str(),
         response.user_found() ? "true" : "false",
         response.partial() ? "true" : "false", response.items_size());
  printf("  %-5s %-20s %8s  %s\n", "rank", "item_id", "score",
         "sources (channel similarity [score when other] #rank via)");
  for (int i = 0; i < response.items_size(); ++i) {
    const v1::RecalledItem& item = response.items(i);
    printf("  %-5d %-20s %8.4f  %s\n", i, item.item_id().c_str(), item.score(),
           SourcesText(item).c_str());
  }
  printf("  %-16s %6s %6s %8s %8s %9s %10s  %s\n", "channel", "found", "kept",
         "dropped", "excluded", "truncated", "latency_us", "status");
  for (const v1::ChannelStats& c : response.channel_stats()) {
    printf("  %-16s %6d %6d %8d %8d %9d %10lld  %s\n", c.channel().c_str(),
           c.found(), c.kept(), c.dropped_by_threshold(), c.excluded(),
           c.truncated(), static_cast<long long>(c.latency_us()),
           c.status().c_str());
  }
  printf("  merged beyond k: %d, back-filled: %d\n", response.truncated(),
         response.backfilled());
}

}  // namespace

// Calls Recall (SimilarItems with --similar) once and prints the
// candidates with their sources.
int RunQuery() {
  const std::string target = absl::GetFlag(FLAGS_target);
  if (target.empty())
    return Fail(absl::InvalidArgumentError("query: --target is required"));
  const v1::RecallRequest request = RecallRequestFromFlags();
  const v1::SimilarItemsRequest similar = SimilarRequestFor(request);
  const bool use_similar = absl::GetFlag(FLAGS_similar);

  v1::RecallResponse response;
  const grpc::Status status =
      CallWhileUnavailable(target, use_similar, request, similar, &response);
  if (!status.ok()) {
    fprintf(stderr, "recallctl: %s failed: %d %s\n",
            use_similar ? "SimilarItems" : "Recall", status.error_code(),
            status.error_message().c_str());
    return 1;
  }
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(response);
  } else {
    PrintTables(response);
  }
  return 0;
}

}  // namespace recall
