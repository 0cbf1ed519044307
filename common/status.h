// Status and Result<T>: how every module boundary in shardcast reports failure.
//
// A Status is a code, a human-readable message, and an optional machine-readable
// reason (snake_case, e.g. "no_space", "source_unreachable") that APIs and node
// states pass on unchanged, and, for transient origin errors, an optional retry
// hint (the delay a server asked for with Retry-After) that retry loops honour as
// a floor. Status and Result are values: copyable, not shared,
// and safe to move between threads. Likely failures (network, disk, bad input)
// travel as Status; broken invariants assert instead.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace shardcast {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kCorruption,
  kUnavailable,
  kResourceExhausted,
  kIOError,
  kPermissionDenied,
  kUnauthenticated,
  kDeadlineExceeded,
  kAborted,
  kInternal,
};

// Stable snake_case name of a code, used in JSON error bodies ("invalid_argument").
const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string reason = "")
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status ok() { return Status(); }

  bool isOk() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Machine-readable reason; falls back to the code's name when none was given.
  std::string reason() const { return reason_.empty() ? statusCodeName(code_) : reason_; }

  // The delay the server asked for before a retry (HTTP Retry-After), if any.
  std::optional<int64_t> retryAfterMs() const {
    if (retry_after_ms_ < 0) return std::nullopt;
    return retry_after_ms_;
  }
  // Returns a copy carrying the retry hint (negative values are clamped to 0).
  Status withRetryAfterMs(int64_t ms) const {
    Status s = *this;
    s.retry_after_ms_ = ms < 0 ? 0 : ms;
    return s;
  }

  // Returns a copy whose message is "<context>: <message>" (reason and retry hint kept).
  Status withContext(const std::string& context) const;
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
  int64_t retry_after_ms_ = -1;  // < 0: no hint
};

inline Status invalidArgument(std::string msg, std::string reason = "") {
  return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(reason));
}
inline Status notFound(std::string msg, std::string reason = "") {
  return Status(StatusCode::kNotFound, std::move(msg), std::move(reason));
}
inline Status alreadyExists(std::string msg, std::string reason = "") {
  return Status(StatusCode::kAlreadyExists, std::move(msg), std::move(reason));
}
inline Status failedPrecondition(std::string msg, std::string reason = "") {
  return Status(StatusCode::kFailedPrecondition, std::move(msg), std::move(reason));
}
inline Status corruption(std::string msg, std::string reason = "") {
  return Status(StatusCode::kCorruption, std::move(msg), std::move(reason));
}
inline Status unavailable(std::string msg, std::string reason = "") {
  return Status(StatusCode::kUnavailable, std::move(msg), std::move(reason));
}
inline Status resourceExhausted(std::string msg, std::string reason = "") {
  return Status(StatusCode::kResourceExhausted, std::move(msg), std::move(reason));
}
inline Status ioError(std::string msg, std::string reason = "") {
  return Status(StatusCode::kIOError, std::move(msg), std::move(reason));
}
inline Status permissionDenied(std::string msg, std::string reason = "") {
  return Status(StatusCode::kPermissionDenied, std::move(msg), std::move(reason));
}
inline Status unauthenticated(std::string msg, std::string reason = "") {
  return Status(StatusCode::kUnauthenticated, std::move(msg), std::move(reason));
}
inline Status deadlineExceeded(std::string msg, std::string reason = "") {
  return Status(StatusCode::kDeadlineExceeded, std::move(msg), std::move(reason));
}
inline Status aborted(std::string msg, std::string reason = "") {
  return Status(StatusCode::kAborted, std::move(msg), std::move(reason));
}
inline Status internalError(std::string msg, std::string reason = "") {
  return Status(StatusCode::kInternal, std::move(msg), std::move(reason));
}

// Status from errno after a failed system call: "<what>: <strerror>". ENOSPC maps to
// ResourceExhausted with reason "no_space"; ENOENT to NotFound; EACCES to PermissionDenied.
Status errnoStatus(const std::string& what, int err);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {    // NOLINT: implicit by design
    assert(!std::get<Status>(v_).isOk() && "Result needs a value or an error");
  }

  bool isOk() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return isOk() ? kOk : std::get<Status>(v_);
  }
  T& value() & { assert(isOk()); return std::get<T>(v_); }
  const T& value() const& { assert(isOk()); return std::get<T>(v_); }
  T&& value() && { assert(isOk()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace shardcast

#define SC_CONCAT_INNER(a, b) a##b
#define SC_CONCAT(a, b) SC_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    ::shardcast::Status sc_status_ = (expr);                   \
    if (!sc_status_.isOk()) return sc_status_;                 \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  SC_ASSIGN_OR_RETURN_IMPL(SC_CONCAT(sc_result_, __LINE__), lhs, expr)
#define SC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.isOk()) return tmp.status();          \
  lhs = std::move(tmp).value()
