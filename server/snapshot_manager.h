// SnapshotManager: owns what the server is serving. Loads the version
// ROOT/CURRENT names, verifies it (recall::Snapshot::Load), builds its
// RecallEngine, and swaps it in atomically; a version that fails is refused
// and the previous one keeps serving.
#ifndef RECALL_SERVER_SNAPSHOT_MANAGER_H_
#define RECALL_SERVER_SNAPSHOT_MANAGER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "recall/engine.h"
#include "recall/live_items.h"
#include "recall/realtime_state.h"
#include "server/metrics.h"

namespace recall {

// What one loaded version serves with.
struct Serving {
  std::shared_ptr<const RecallEngine> engine;
  absl::Time loaded_at;
  // The engine's channels' metric series (empty without metrics).
  ChannelSeriesIndex channel_series;
};

// Thread safety: Current() is safe from any thread at any time; LoadCurrent
// calls are serialised internally.
class SnapshotManager {
 public:
  // `metrics` (may be null; must outlive the manager) gets each loaded
  // engine's channel series resolved at load time. `realtime` and `live`
  // (may be null; must outlive the manager) are bound to each loaded
  // snapshot just before it is swapped in (the live segment first: live
  // items the snapshot contains leave it in the same swap), and its engines
  // read them.
  SnapshotManager(std::string root, EngineOptions engine_options,
                  ServerMetrics* metrics = nullptr,
                  RealtimeState* realtime = nullptr, LiveItems* live = nullptr);

  // Loads the version CURRENT names unless it is already serving; true when
  // it swapped a new version in. Returns the load error otherwise (the old
  // version, if any, keeps serving). The replaced version is retired, not
  // destroyed: requests may still hold it (see ReleaseRetired).
  absl::StatusOr<bool> LoadCurrent();

  // Destroys retired versions no request holds any more. Called from the
  // reload thread, so the cost of freeing a snapshot (hundreds of MB) never
  // lands on a request. Returns how many are still held.
  int ReleaseRetired();

  // The version being served; nullptr before the first successful load. The
  // caller's reference keeps it alive for the whole request.
  std::shared_ptr<const Serving> Current() const;

 private:
  const std::string root_;
  const EngineOptions engine_options_;
  ServerMetrics* const metrics_;
  RealtimeState* const realtime_;
  LiveItems* const live_;
  absl::Mutex load_mu_;  // serialises loads
  mutable absl::Mutex mu_;
  std::shared_ptr<const Serving> current_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const Serving>> retired_
      ABSL_GUARDED_BY(load_mu_);
};

}  // namespace recall

#endif  // RECALL_SERVER_SNAPSHOT_MANAGER_H_
