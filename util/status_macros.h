// Status propagation macros. The packaged Abseil (20220623) does not ship
// them, so they are defined once here.
#ifndef RECALL_UTIL_STATUS_MACROS_H_
#define RECALL_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RECALL_CONCAT_INNER_(a, b) a##b
#define RECALL_CONCAT_(a, b) RECALL_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// when it is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status recall_status_ = (expr);          \
    if (!recall_status_.ok()) return recall_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo());` evaluates Foo() (an absl::StatusOr<T>),
// returns its status when not OK, otherwise moves the value into `x`.
#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  RECALL_ASSIGN_OR_RETURN_IMPL_(RECALL_CONCAT_(recall_statusor_, __LINE__), \
                                lhs, expr)

#define RECALL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // RECALL_UTIL_STATUS_MACROS_H_
