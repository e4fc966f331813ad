#include "server/snapshot_manager.h"

#include <utility>

#include "absl/time/clock.h"
#include "store/snapshot_files.h"
#include "util/status_macros.h"

namespace recall {

SnapshotManager::SnapshotManager(std::string root, EngineOptions engine_options)
    : root_(std::move(root)), engine_options_(std::move(engine_options)) {}

std::shared_ptr<const Serving> SnapshotManager::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

absl::Status SnapshotManager::LoadCurrent() {
  absl::MutexLock load_lock(&load_mu_);
  ASSIGN_OR_RETURN(std::string version, ReadCurrent(root_));
  std::shared_ptr<const Serving> old = Current();
  if (old != nullptr && old->engine->snapshot().version() == version)
    return absl::OkStatus();

  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                   Snapshot::Load(root_, version));
  ASSIGN_OR_RETURN(std::unique_ptr<RecallEngine> engine,
                   RecallEngine::Create(std::move(snapshot), engine_options_));
  auto serving = std::make_shared<Serving>();
  serving->engine = std::move(engine);
  serving->loaded_at = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    current_ = std::move(serving);
  }
  // `old` is released here, on the loader's thread, unless a request still
  // holds it; then the last request to finish releases it.
  return absl::OkStatus();
}

}  // namespace recall
