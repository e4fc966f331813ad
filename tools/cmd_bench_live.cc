// recallctl bench-live --target HOST:PORT --stream ITEM_STREAM_URL
//     --click_stream CLICK_STREAM_URL --input WORLD [--items 1000
//     --concurrency 4 --space dssm --json]
// How soon live items are visible, measured against a running server that
// follows both streams (the news policy: u2i_<space> and back-fill from hot
// now). Per probe, for a user U of the world and U's best item X in <space>:
//   u2i      XADD of an upsert of a new item near X -> in U's u2i_<space>
//            answer (k 10, that channel alone)
//   similar  the same XADD -> in SimilarItems(X) in <space> (k 10)
//   hot_now  XADD of 300 readers' clicks on it -> in a new reader's top 50
//   takedown XADD of its delete -> absent from all three
// Each from the XADD's reply to the first answer that shows it, polled every
// 2 ms; p50 and p99 over the probes, and the probes that missed 10 s.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "pipeline/data/word2vec_io.h"
#include "proto/recall/v1/recall.grpc.pb.h"
#include "store/item_table.h"
#include "stream/entries.h"
#include "stream/redis_stream.h"
#include "tools/command.h"
#include "tools/flags.h"
#include "util/percentile.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, click_stream, "",
          "bench-live: the click stream the server follows, "
          "redis://HOST:PORT/STREAM");

namespace recall {
namespace {

constexpr absl::Duration kGiveUp = absl::Seconds(10);
constexpr int kReaders = 300;

// What one probe measured; InfiniteDuration for a miss.
struct Probe {
  absl::Duration u2i, similar, hot_now, takedown;
};

// The world's vectors of <space>, by id.
struct Vectors {
  VectorSet set;
  absl::flat_hash_map<std::string, size_t> row;
};

class LiveProbe {
 public:
  LiveProbe(std::shared_ptr<grpc::Channel> channel, std::string space,
            const Vectors& items, const ItemTable& table)
      : stub_(v1::RecallService::NewStub(std::move(channel))),
        space_(std::move(space)),
        items_(items),
        table_(table) {}

  // One probe for `user` with a fresh item `id`; errors abort the run.
  absl::StatusOr<Probe> Run(RedisStream& item_stream, RedisStream& clicks,
                            const std::string& user, const std::string& id,
                            uint32_t seed);

 private:
  absl::StatusOr<std::vector<std::string>> U2i(const std::string& user, int k);
  absl::StatusOr<std::vector<std::string>> Similar(const std::string& seed);
  absl::StatusOr<std::vector<std::string>> Top(const std::string& user);
  // Polls `holds` every 2 ms from `since`; the time it took, or
  // InfiniteDuration after kGiveUp.
  static absl::Duration Until(absl::Time since,
                              const std::function<bool()>& holds);

  std::unique_ptr<v1::RecallService::Stub> stub_;
  const std::string space_;
  const Vectors& items_;
  const ItemTable& table_;
};

bool Has(const absl::StatusOr<std::vector<std::string>>& ids,
         const std::string& id) {
  return ids.ok() && std::find(ids->begin(), ids->end(), id) != ids->end();
}

std::vector<std::string> Ids(const v1::RecallResponse& response) {
  std::vector<std::string> ids;
  for (const v1::RecalledItem& item : response.items())
    ids.push_back(item.item_id());
  return ids;
}

absl::StatusOr<std::vector<std::string>> Call(
    const std::function<grpc::Status(grpc::ClientContext*,
                                     v1::RecallResponse*)>& call) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::RecallResponse response;
  const grpc::Status s = call(&context, &response);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("bench-live: ", s.error_message()));
  }
  return Ids(response);
}

absl::StatusOr<std::vector<std::string>> LiveProbe::U2i(const std::string& user,
                                                        int k) {
  v1::RecallRequest request;
  request.set_user_id(user);
  request.set_k(k);
  request.add_channel_overrides()->set_channel("u2i_" + space_);
  request.set_only_overridden_channels(true);
  return Call([&](grpc::ClientContext* c, v1::RecallResponse* r) {
    return stub_->Recall(c, request, r);
  });
}

absl::StatusOr<std::vector<std::string>> LiveProbe::Similar(
    const std::string& seed) {
  v1::SimilarItemsRequest request;
  request.add_item_ids(seed);
  request.add_spaces(space_);
  request.set_k(10);
  return Call([&](grpc::ClientContext* c, v1::RecallResponse* r) {
    return stub_->SimilarItems(c, request, r);
  });
}

absl::StatusOr<std::vector<std::string>> LiveProbe::Top(
    const std::string& user) {
  v1::RecallRequest request;
  request.set_user_id(user);
  request.set_k(50);
  return Call([&](grpc::ClientContext* c, v1::RecallResponse* r) {
    return stub_->Recall(c, request, r);
  });
}

absl::Duration LiveProbe::Until(absl::Time since,
                                const std::function<bool()>& holds) {
  while (!holds()) {
    if (absl::Now() - since > kGiveUp) return absl::InfiniteDuration();
    absl::SleepFor(absl::Milliseconds(2));
  }
  return absl::Now() - since;
}

absl::StatusOr<Probe> LiveProbe::Run(RedisStream& item_stream,
                                     RedisStream& clicks,
                                     const std::string& user,
                                     const std::string& id, uint32_t seed) {
  absl::StatusOr<std::vector<std::string>> best = U2i(user, 1);
  if (!best.ok()) return best.status();
  if (best->empty() || !items_.row.contains(best->front())) {
    return absl::FailedPreconditionError(
        absl::StrCat("bench-live: no ", space_, " item for user ", user));
  }
  const std::string near = best->front();
  ItemEvent upsert;
  upsert.item = table_.item(table_.Find(near));
  upsert.item.id = id;
  upsert.item.publish_ts = absl::ToUnixSeconds(absl::Now());
  upsert.item.hotness = 0;  // hot only by the readers' clicks
  const float* v = items_.set.row(items_.row.at(near));
  std::vector<float> vector(v, v + items_.set.dim);
  std::mt19937 rng(seed);
  // A near duplicate of X: in U's top 10 as X is, and X's nearest.
  std::normal_distribution<float> noise(0, 0.001f);
  for (float& x : vector) x += noise(rng);
  upsert.vectors.emplace_back(space_, std::move(vector));
  RETURN_IF_ERROR(item_stream.Append({EncodeItemEvent(upsert)}));
  Probe probe;
  absl::Time added = absl::Now();
  // Both polled in turn, each timed from the XADD.
  probe.u2i = probe.similar = absl::InfiniteDuration();
  Until(added, [&] {
    if (probe.u2i == absl::InfiniteDuration() && Has(U2i(user, 10), id))
      probe.u2i = absl::Now() - added;
    if (probe.similar == absl::InfiniteDuration() && Has(Similar(near), id))
      probe.similar = absl::Now() - added;
    return probe.u2i != absl::InfiniteDuration() &&
           probe.similar != absl::InfiniteDuration();
  });

  std::vector<ClickEvent> reads;
  for (int r = 0; r < kReaders; ++r) {
    reads.push_back(
        {absl::StrCat(id, "-reader", r), id, absl::ToUnixSeconds(absl::Now())});
  }
  RETURN_IF_ERROR(clicks.Append(EncodeClicks(reads)));
  const std::string newcomer = absl::StrCat(id, "-newcomer");
  added = absl::Now();
  probe.hot_now = Until(added, [&] { return Has(Top(newcomer), id); });

  ItemEvent takedown;
  takedown.op = ItemEvent::Op::kDelete;
  takedown.item.id = id;
  RETURN_IF_ERROR(item_stream.Append({EncodeItemEvent(takedown)}));
  added = absl::Now();
  probe.takedown = Until(added, [&] {
    return !Has(U2i(user, 10), id) && !Has(Similar(near), id) &&
           !Has(Top(newcomer), id);
  });
  return probe;
}

// "p50 X ms, p99 Y ms (n, m missed)" of one measure.
std::string Summary(std::vector<absl::Duration> times, bool json) {
  int missed = 0;
  std::vector<double> ms;
  for (absl::Duration d : times) {
    if (d == absl::InfiniteDuration()) {
      ++missed;
    } else {
      ms.push_back(absl::ToDoubleMilliseconds(d));
    }
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = NearestRank(ms, 500), p99 = NearestRank(ms, 990);
  if (json) {
    return absl::StrFormat(
        "{\"p50_ms\": %.1f, \"p99_ms\": %.1f, \"n\": %d, \"missed\": %d}", p50,
        p99, static_cast<int>(ms.size()), missed);
  }
  return absl::StrFormat("p50 %7.1f ms  p99 %7.1f ms  (%d probes, %d missed)",
                         p50, p99, static_cast<int>(ms.size()), missed);
}

absl::StatusOr<Vectors> ReadVectors(const std::string& world,
                                    const std::string& space) {
  Vectors vectors;
  ASSIGN_OR_RETURN(vectors.set, ReadWord2VecText(absl::StrCat(
                                    world, "/vectors/", space, ".item.vec")));
  for (size_t i = 0; i < vectors.set.size(); ++i)
    vectors.row.emplace(vectors.set.ids[i], i);
  return vectors;
}

// Runs `probes` probes on --concurrency threads, each with connections of
// its own; the first error stops them all.
absl::StatusOr<std::vector<Probe>> RunProbes(const Vectors& vectors,
                                             const ItemTable& table,
                                             const VectorSet& users,
                                             const std::string& space,
                                             int probes) {
  ASSIGN_OR_RETURN(const StreamAddress item_stream,
                   ParseStreamUrl(absl::GetFlag(FLAGS_stream)));
  ASSIGN_OR_RETURN(const StreamAddress click_stream,
                   ParseStreamUrl(absl::GetFlag(FLAGS_click_stream)));
  const int threads = std::max(1, absl::GetFlag(FLAGS_concurrency));
  std::atomic<int> next{0};
  absl::Mutex mu;
  std::vector<Probe> done;
  absl::Status failed;
  const std::string run =
      absl::StrCat("live", absl::ToUnixSeconds(absl::Now()));
  auto worker = [&]() {
    auto items = RedisStream::Connect(item_stream, absl::Seconds(5));
    auto clicks = RedisStream::Connect(click_stream, absl::Seconds(5));
    LiveProbe prober(RetryingChannel(absl::GetFlag(FLAGS_target)), space,
                     vectors, table);
    for (int i = next++; i < probes; i = next++) {
      absl::StatusOr<Probe> probe =
          !items.ok() ? items.status()
          : !clicks.ok()
              ? clicks.status()
              : prober.Run(**items, **clicks, users.ids[i % users.size()],
                           absl::StrCat(run, "-", i), i);
      absl::MutexLock lock(&mu);
      if (!probe.ok()) {
        if (failed.ok()) failed = probe.status();
        next = probes;
        return;
      }
      done.push_back(*probe);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  if (!failed.ok()) return failed;
  return done;
}

}  // namespace

int RunBenchLive() {
  const std::string world = absl::GetFlag(FLAGS_input);
  const std::string space = absl::GetFlag(FLAGS_space);
  int probes = 1000;
  if (!absl::GetFlag(FLAGS_items).empty() &&
      !absl::SimpleAtoi(absl::GetFlag(FLAGS_items), &probes)) {
    return Fail(absl::InvalidArgumentError("bench-live: --items wants N"));
  }
  if (absl::GetFlag(FLAGS_target).empty() || world.empty() ||
      absl::GetFlag(FLAGS_stream).empty() ||
      absl::GetFlag(FLAGS_click_stream).empty() || probes <= 0) {
    return Fail(absl::InvalidArgumentError(
        "bench-live: --target, --input, --stream and --click_stream are "
        "required, --items > 0"));
  }
  absl::StatusOr<Vectors> vectors = ReadVectors(world, space);
  if (!vectors.ok()) return Fail(vectors.status());
  absl::StatusOr<ItemTable> table = ItemTable::ReadTsv(world + "/items.tsv");
  if (!table.ok()) return Fail(table.status());
  absl::StatusOr<VectorSet> users =
      ReadWord2VecText(absl::StrCat(world, "/vectors/", space, ".user.vec"));
  if (!users.ok()) return Fail(users.status());

  absl::StatusOr<std::vector<Probe>> done =
      RunProbes(*vectors, *table, *users, space, probes);
  if (!done.ok()) return Fail(done.status());
  const bool json = absl::GetFlag(FLAGS_json);
  auto column = [&](absl::Duration Probe::*field) {
    std::vector<absl::Duration> v;
    for (const Probe& p : *done) v.push_back(p.*field);
    return Summary(std::move(v), json);
  };
  if (json) {
    printf(
        "{\"u2i\": %s, \"similar\": %s, \"hot_now\": %s, \"takedown\": %s}\n",
        column(&Probe::u2i).c_str(), column(&Probe::similar).c_str(),
        column(&Probe::hot_now).c_str(), column(&Probe::takedown).c_str());
  } else {
    printf("visible in u2i        %s\n", column(&Probe::u2i).c_str());
    printf("visible in similar    %s\n", column(&Probe::similar).c_str());
    printf("hot now, new reader   %s\n", column(&Probe::hot_now).c_str());
    printf("taken down everywhere %s\n", column(&Probe::takedown).c_str());
  }
  return 0;
}

}  // namespace recall
