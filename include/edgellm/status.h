// Errors as values where user data enters (files, requests, CLI arguments).
// A Status is either ok or carries one human-readable message that says what is wrong and where
// (file, field, byte offset, JSON path). Library code never calls exit() or lets exceptions escape.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace edgellm {

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message), true); }

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message" (used to add a file name or field path).
  Status with_context(const std::string& context) const {
    if (!failed_) return *this;
    return Status(context + ": " + message_, true);
  }

 private:
  Status(std::string m, bool failed) : message_(std::move(m)), failed_(failed) {}
  std::string message_;
  bool failed_ = false;
};

// Either a value or an error Status. Accessing value() of an error is a programming error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }  // NOLINT

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }
  T& value() & { assert(is_ok()); return std::get<0>(v_); }
  const T& value() const& { assert(is_ok()); return std::get<0>(v_); }
  T&& value() && { assert(is_ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  Status status() const { return is_ok() ? Status::ok() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edgellm

#define EL_CONCAT_INNER(a, b) a##b
#define EL_CONCAT(a, b) EL_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) failed.
#define EL_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::edgellm::Status el_status_ = (expr);       \
    if (!el_status_.is_ok()) return el_status_;  \
  } while (0)

// `EL_ASSIGN_OR_RETURN(auto x, f());` binds x to the value of a Result or returns its Status.
#define EL_ASSIGN_OR_RETURN(lhs, expr) EL_ASSIGN_OR_RETURN_IMPL(EL_CONCAT(el_result_, __LINE__), lhs, expr)
#define EL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
