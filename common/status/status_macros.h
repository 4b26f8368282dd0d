#pragma once
// RETURN_IF_ERROR / ASSIGN_OR_RETURN: the one place the project spells out early return on
// a non-OK absl::Status or absl::StatusOr. Abseil 20220623 ships neither.

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ANKEN_STATUS_CONCAT_INNER(a, b) a##b
#define ANKEN_STATUS_CONCAT(a, b) ANKEN_STATUS_CONCAT_INNER(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the calling function when not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status anken_status_ = (expr);           \
    if (!anken_status_.ok()) return anken_status_;   \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status when not OK, otherwise moves
// the value into `lhs` (which may be a declaration such as `auto x`).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ANKEN_ASSIGN_OR_RETURN_IMPL(ANKEN_STATUS_CONCAT(anken_statusor_, __LINE__), lhs, rexpr)

#define ANKEN_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
