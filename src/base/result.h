// result<T>: the error-as-value type used on every per-record path (decode, validate,
// route). std::expected is C++23 and the project builds as C++20, so this is a small
// stand-in with the same spirit: a value or an `error` carrying a code and context.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "base/error.h"

namespace sluice {

template <typename T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  result(error err) : state_(std::move(err)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const error& err() const { return std::get<error>(state_); }

 private:
  std::variant<T, error> state_;
};

/// result<void>: success or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error err) : err_(std::move(err)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { return err_; }

 private:
  error err_{};
  bool ok_ = true;
};

inline result<void> ok() {
  return {};
}

}  // namespace sluice
