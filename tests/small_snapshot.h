// A small generated world and a Flat snapshot of it, for tests that need a
// real snapshot on disk (they link recall_snapshot).
#ifndef RECALL_TESTS_SMALL_SNAPSHOT_H_
#define RECALL_TESTS_SMALL_SNAPSHOT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "pipeline/data/gen_world.h"
#include "pipeline/snapshot/builder.h"
#include "util/status_macros.h"

namespace recall {

// Builds dir/world into dir/root as `version` (default: a timestamp), with an
// exact Flat index.
inline absl::Status BuildFlatSnapshot(const std::string& dir,
                                      const std::string& version = "") {
  BuildOptions build;
  build.input_dir = dir + "/world";
  build.out_root = dir + "/root";
  build.factory = "Flat";
  build.version = version;
  return BuildSnapshot(build).status();
}

// Generates dir/world with dssm vectors only.
inline absl::Status GenerateSmallWorld(const std::string& dir, int64_t items,
                                       int64_t users, int dim) {
  GenWorldOptions gen;
  gen.items = items;
  gen.users = users;
  gen.dim = dim;
  gen.extra_spaces = false;
  return GenerateWorld(gen, dir + "/world");
}

// GenerateSmallWorld, then BuildFlatSnapshot.
inline absl::Status MakeSmallSnapshot(const std::string& dir, int64_t items,
                                      int64_t users, int dim,
                                      const std::string& version = "") {
  RETURN_IF_ERROR(GenerateSmallWorld(dir, items, users, dim));
  return BuildFlatSnapshot(dir, version);
}

}  // namespace recall

#endif  // RECALL_TESTS_SMALL_SNAPSHOT_H_
