// Snapshot: everything one version of the data needs to answer requests, in
// memory and immutable: the MANIFEST, the item table, one index per space and
// the user store. Shared as std::shared_ptr<const Snapshot>; a request holds
// its reference for its whole duration.
#ifndef RECALL_RECALL_SNAPSHOT_H_
#define RECALL_RECALL_SNAPSHOT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "index/index_handle.h"
#include "recall/v1/snapshot.pb.h"
#include "store/item_table.h"
#include "store/user_store.h"

namespace recall {

struct Space {
  v1::SpaceManifest manifest;
  std::unique_ptr<IndexHandle> index;
};

// Thread safety: immutable after construction; safe for concurrent reads.
class Snapshot {
 public:
  // Loads ROOT/<version> and verifies it before returning: the MANIFEST
  // parses and validates, its version matches the directory name, every
  // listed file has the recorded size and CRC32C, the item count, each
  // index's dimension and count match the MANIFEST, the store opens, and a
  // smoke query per space returns valid item rows. Any failure is an error
  // naming the file and the mismatch (DATA_LOSS for corrupt or inconsistent
  // data, NOT_FOUND for missing files).
  static absl::StatusOr<std::shared_ptr<const Snapshot>> Load(
      const std::string& root, const std::string& version);

  // Assembles a snapshot from parts (tests, tools). The manifest should
  // describe the parts; only Load verifies that.
  static std::shared_ptr<const Snapshot> FromParts(
      v1::Manifest manifest, ItemTable items, std::vector<Space> spaces,
      std::unique_ptr<UserStore> users);

  const std::string& version() const { return manifest_.version(); }
  const v1::Manifest& manifest() const { return manifest_; }
  const ItemTable& items() const { return items_; }
  const std::vector<Space>& spaces() const { return spaces_; }
  const UserStore& users() const { return *users_; }

  // The space called `name`, or nullptr.
  const Space* FindSpace(absl::string_view name) const;

 private:
  Snapshot(v1::Manifest manifest, ItemTable items, std::vector<Space> spaces,
           std::unique_ptr<UserStore> users);

  v1::Manifest manifest_;
  ItemTable items_;
  std::vector<Space> spaces_;
  std::unique_ptr<UserStore> users_;
};

}  // namespace recall

#endif  // RECALL_RECALL_SNAPSHOT_H_
