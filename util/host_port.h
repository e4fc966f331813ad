// "HOST:PORT" as flags and URLs write it: HOST a name, an IPv4 address, an
// [IPv6] literal (brackets removed here) or empty; PORT a decimal number.
#ifndef RECALL_UTIL_HOST_PORT_H_
#define RECALL_UTIL_HOST_PORT_H_

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"

namespace recall {

// Splits `address` at its last ':' into *host (without [] around an IPv6
// literal) and *port. False when there is no ':' or PORT is not a number in
// [0, 65535]; callers that cannot use port 0 check it themselves.
inline bool SplitHostPort(absl::string_view address, std::string* host,
                          int* port) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), port) || *port < 0 ||
      *port > 65535) {
    return false;
  }
  absl::string_view h = address.substr(0, colon);
  if (absl::StartsWith(h, "[") && absl::EndsWith(h, "]"))
    h = h.substr(1, h.size() - 2);
  *host = std::string(h);
  return true;
}

}  // namespace recall

#endif  // RECALL_UTIL_HOST_PORT_H_
