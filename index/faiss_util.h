// Internal to index/: how Faiss calls report errors. Exceptions never cross
// the index/ boundary.
#ifndef RECALL_INDEX_FAISS_UTIL_H_
#define RECALL_INDEX_FAISS_UTIL_H_

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "faiss/impl/FaissException.h"

namespace recall {

// Runs `fn`, turning Faiss and std exceptions into a Status with `code` and
// a message that starts with `what`.
template <typename Fn>
absl::Status CatchFaiss(absl::StatusCode code, absl::string_view what,
                        Fn&& fn) {
  try {
    fn();
    return absl::OkStatus();
  } catch (const faiss::FaissException& e) {
    return absl::Status(code, absl::StrCat(what, ": faiss: ", e.msg));
  } catch (const std::exception& e) {
    return absl::Status(code, absl::StrCat(what, ": ", e.what()));
  }
}

}  // namespace recall

#endif  // RECALL_INDEX_FAISS_UTIL_H_
