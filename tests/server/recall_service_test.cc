// The conversions of server/recall_service.h, in process: ToGrpcStatus
// (code and message of every canonical code, OK) and RecallQueryFromProto
// (every field, overrides with their optional fields set, unset, or set to
// zero). The RPCs themselves are covered by the e2e tests.
#include "server/recall_service.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

TEST(ToGrpcStatusTest, OkIsOk) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(status.error_message(), "");
}

TEST(ToGrpcStatusTest, KeepsCodeAndMessage) {
  const grpc::Status status =
      ToGrpcStatus(absl::InvalidArgumentError("k must be in [1, 2000]"));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "k must be in [1, 2000]");
}

TEST(ToGrpcStatusTest, EveryCanonicalCodeMapsToTheSameGrpcCode) {
  struct Case {
    absl::Status status;
    grpc::StatusCode code;
  };
  const Case cases[] = {
      {absl::CancelledError("m1"), grpc::StatusCode::CANCELLED},
      {absl::UnknownError("m2"), grpc::StatusCode::UNKNOWN},
      {absl::InvalidArgumentError("m3"), grpc::StatusCode::INVALID_ARGUMENT},
      {absl::DeadlineExceededError("m4"), grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::NotFoundError("m5"), grpc::StatusCode::NOT_FOUND},
      {absl::AlreadyExistsError("m6"), grpc::StatusCode::ALREADY_EXISTS},
      {absl::PermissionDeniedError("m7"), grpc::StatusCode::PERMISSION_DENIED},
      {absl::ResourceExhaustedError("m8"),
       grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::FailedPreconditionError("m9"),
       grpc::StatusCode::FAILED_PRECONDITION},
      {absl::AbortedError("m10"), grpc::StatusCode::ABORTED},
      {absl::OutOfRangeError("m11"), grpc::StatusCode::OUT_OF_RANGE},
      {absl::UnimplementedError("m12"), grpc::StatusCode::UNIMPLEMENTED},
      {absl::InternalError("m13"), grpc::StatusCode::INTERNAL},
      {absl::UnavailableError("m14"), grpc::StatusCode::UNAVAILABLE},
      {absl::DataLossError("m15"), grpc::StatusCode::DATA_LOSS},
      {absl::UnauthenticatedError("m16"), grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const Case& c : cases) {
    const grpc::Status status = ToGrpcStatus(c.status);
    EXPECT_EQ(status.error_code(), c.code) << c.status;
    EXPECT_EQ(status.error_message(), std::string(c.status.message()))
        << c.status;
  }
}

TEST(ToGrpcStatusTest, AnErrorWithAnEmptyMessageStaysAnError) {
  const grpc::Status status = ToGrpcStatus(absl::InternalError(""));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "");
}

TEST(ToGrpcStatusTest, MessageBytesAreKept) {
  const std::string message = "channel \"u2i\": \xE7\xA9\xBA\n\ttab";
  const grpc::Status status = ToGrpcStatus(absl::UnavailableError(message));
  EXPECT_EQ(status.error_message(), message);
}

TEST(RecallQueryFromProtoTest, DefaultRequestGivesAnEmptyQuery) {
  const RecallQuery query = RecallQueryFromProto(v1::RecallRequest());
  EXPECT_EQ(query.user_id, "");
  EXPECT_EQ(query.k, 0);
  EXPECT_THAT(query.seed_item_ids, IsEmpty());
  EXPECT_THAT(query.exclude_item_ids, IsEmpty());
  EXPECT_THAT(query.overrides, IsEmpty());
  EXPECT_FALSE(query.only_overridden_channels);
  // The caller sets the deadline.
  EXPECT_EQ(query.deadline, absl::InfiniteFuture());
}

TEST(RecallQueryFromProtoTest, CopiesEveryScalarAndList) {
  v1::RecallRequest request;
  request.set_user_id("u42");
  request.set_k(150);
  request.add_seed_item_ids("s1");
  request.add_seed_item_ids("s2");
  request.add_seed_item_ids("s1");  // duplicates kept as sent
  request.add_exclude_item_ids("x9");
  request.add_exclude_item_ids("x3");
  request.set_request_id("trace-1");
  request.set_only_overridden_channels(true);
  const RecallQuery query = RecallQueryFromProto(request);
  EXPECT_EQ(query.user_id, "u42");
  EXPECT_EQ(query.k, 150);
  EXPECT_THAT(query.seed_item_ids, ElementsAre("s1", "s2", "s1"));
  EXPECT_THAT(query.exclude_item_ids, ElementsAre("x9", "x3"));
  EXPECT_TRUE(query.only_overridden_channels);
  EXPECT_THAT(query.overrides, IsEmpty());
  EXPECT_EQ(query.deadline, absl::InfiniteFuture());
}

TEST(RecallQueryFromProtoTest, NegativeKIsPassedOnForTheEngineToRefuse) {
  v1::RecallRequest request;
  request.set_k(-5);
  EXPECT_EQ(RecallQueryFromProto(request).k, -5);
}

TEST(RecallQueryFromProtoTest, OverrideWithEveryFieldSet) {
  v1::RecallRequest request;
  v1::ChannelOverride* o = request.add_channel_overrides();
  o->set_channel("u2i_dssm");
  o->set_enabled(true);
  o->set_quota(300);
  o->set_min_similarity(0.35f);
  o->set_fetch_k(900);
  o->set_ef_search(128);
  o->set_nprobe(16);
  o->set_weight(2.5f);
  const RecallQuery query = RecallQueryFromProto(request);
  ASSERT_EQ(query.overrides.size(), 1u);
  const ChannelOverride& got = query.overrides[0];
  EXPECT_EQ(got.channel, "u2i_dssm");
  EXPECT_THAT(got.enabled, Optional(true));
  EXPECT_THAT(got.quota, Optional(300));
  EXPECT_THAT(got.min_similarity, Optional(0.35f));
  EXPECT_THAT(got.fetch_k, Optional(900));
  EXPECT_THAT(got.ef_search, Optional(128));
  EXPECT_THAT(got.nprobe, Optional(16));
  EXPECT_THAT(got.weight, Optional(2.5f));
}

TEST(RecallQueryFromProtoTest, UnsetOverrideFieldsStayUnset) {
  v1::RecallRequest request;
  request.add_channel_overrides()->set_channel("popular");
  const RecallQuery query = RecallQueryFromProto(request);
  ASSERT_EQ(query.overrides.size(), 1u);
  const ChannelOverride& got = query.overrides[0];
  EXPECT_EQ(got.channel, "popular");
  EXPECT_EQ(got.enabled, std::nullopt);
  EXPECT_EQ(got.quota, std::nullopt);
  EXPECT_EQ(got.min_similarity, std::nullopt);
  EXPECT_EQ(got.fetch_k, std::nullopt);
  EXPECT_EQ(got.ef_search, std::nullopt);
  EXPECT_EQ(got.nprobe, std::nullopt);
  EXPECT_EQ(got.weight, std::nullopt);
}

TEST(RecallQueryFromProtoTest, FieldsSetToZeroAreSetNotUnset) {
  // proto3 `optional`: an explicit false or 0 is a value, not "keep the
  // policy's".
  v1::RecallRequest request;
  v1::ChannelOverride* o = request.add_channel_overrides();
  o->set_channel("i2i");
  o->set_enabled(false);
  o->set_quota(0);
  o->set_min_similarity(0);
  o->set_fetch_k(0);
  o->set_ef_search(0);
  o->set_nprobe(0);
  o->set_weight(0);
  const ChannelOverride got = RecallQueryFromProto(request).overrides.at(0);
  EXPECT_THAT(got.enabled, Optional(false));
  EXPECT_THAT(got.quota, Optional(0));
  EXPECT_THAT(got.min_similarity, Optional(0.0f));
  EXPECT_THAT(got.fetch_k, Optional(0));
  EXPECT_THAT(got.ef_search, Optional(0));
  EXPECT_THAT(got.nprobe, Optional(0));
  EXPECT_THAT(got.weight, Optional(0.0f));
}

TEST(RecallQueryFromProtoTest, OverridesKeepTheirOrderAndOwnFields) {
  v1::RecallRequest request;
  v1::ChannelOverride* first = request.add_channel_overrides();
  first->set_channel("b");
  first->set_quota(10);
  v1::ChannelOverride* second = request.add_channel_overrides();
  second->set_channel("a");
  second->set_min_similarity(-0.5f);
  v1::ChannelOverride* third = request.add_channel_overrides();
  third->set_channel("b");  // repeated names are the engine's to judge
  third->set_nprobe(4);
  const RecallQuery query = RecallQueryFromProto(request);
  ASSERT_EQ(query.overrides.size(), 3u);
  EXPECT_EQ(query.overrides[0].channel, "b");
  EXPECT_THAT(query.overrides[0].quota, Optional(10));
  EXPECT_EQ(query.overrides[0].min_similarity, std::nullopt);
  EXPECT_EQ(query.overrides[0].nprobe, std::nullopt);
  EXPECT_EQ(query.overrides[1].channel, "a");
  EXPECT_THAT(query.overrides[1].min_similarity, Optional(-0.5f));
  EXPECT_EQ(query.overrides[1].quota, std::nullopt);
  EXPECT_EQ(query.overrides[2].channel, "b");
  EXPECT_THAT(query.overrides[2].nprobe, Optional(4));
  EXPECT_EQ(query.overrides[2].quota, std::nullopt);
}

TEST(RecallQueryFromProtoTest, SurvivesTheWireFormat) {
  // What the service parses from the raw bytes converts the same way.
  v1::RecallRequest sent;
  sent.set_user_id("u1");
  sent.set_k(7);
  sent.add_seed_item_ids("s");
  sent.add_exclude_item_ids("x");
  sent.set_only_overridden_channels(true);
  v1::ChannelOverride* o = sent.add_channel_overrides();
  o->set_channel("hot");
  o->set_enabled(false);
  o->set_weight(0.5f);
  v1::RecallRequest received;
  ASSERT_TRUE(received.ParseFromString(sent.SerializeAsString()));
  const RecallQuery query = RecallQueryFromProto(received);
  EXPECT_EQ(query.user_id, "u1");
  EXPECT_EQ(query.k, 7);
  EXPECT_THAT(query.seed_item_ids, ElementsAre("s"));
  EXPECT_THAT(query.exclude_item_ids, ElementsAre("x"));
  EXPECT_TRUE(query.only_overridden_channels);
  ASSERT_EQ(query.overrides.size(), 1u);
  EXPECT_EQ(query.overrides[0].channel, "hot");
  EXPECT_THAT(query.overrides[0].enabled, Optional(false));
  EXPECT_THAT(query.overrides[0].weight, Optional(0.5f));
  EXPECT_EQ(query.overrides[0].quota, std::nullopt);
}

// Every file a load reads into memory counts, ranked lists and neighbour
// tables included; the user store does not.
TEST(LoadedBytesTest, CountsEveryLoadedFileButTheStore) {
  v1::Manifest m;
  m.mutable_items()->mutable_file()->set_size_bytes(1);
  m.add_spaces()->mutable_index()->set_size_bytes(10);
  v1::SpaceManifest* space = m.add_spaces();
  space->mutable_index()->set_size_bytes(20);
  space->mutable_neighbours()->mutable_file()->set_size_bytes(40000);
  v1::VectorTableManifest* table = m.add_tables();
  table->mutable_ids()->set_size_bytes(100);
  table->mutable_index()->set_size_bytes(200);
  v1::ClusteringManifest* clustering = m.add_clusterings();
  clustering->mutable_centres()->set_size_bytes(1000);
  clustering->mutable_clusters()->set_size_bytes(2000);
  m.add_lists()->mutable_file()->set_size_bytes(10000);
  m.add_lists()->mutable_file()->set_size_bytes(20000);
  m.mutable_store()->add_files()->set_size_bytes(1000000);
  EXPECT_EQ(LoadedBytes(m), 73331);
}

}  // namespace
}  // namespace recall
