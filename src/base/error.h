// Error codes and the `error` value shared by all subsystems. An error always carries
// context: what failed, where, and with which value, so a log line or a dead-letter
// header explains itself.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace sluice {

enum class errc {
  ok = 0,
  invalid_argument,  // a bad flag, config value or request parameter
  parse,             // input could not be parsed (JSON, YAML, Avro, dates)
  not_found,
  io,  // file or socket failure
  timeout,
  unavailable,  // an engine is down or refusing work
  protocol,     // a peer broke its wire protocol
  server,       // a peer answered with an error
  conflict,     // the request contradicts the current state (exists already, in use)
  internal,
};

std::string_view to_string(errc code);

struct error {
  errc code = errc::ok;
  std::string message;
  /// A subsystem's own code when the peer gave one (e.g. the CQL server error code).
  int detail = 0;

  std::string describe() const { return fmt::format("{}: {}", to_string(code), message); }
};

template <typename... Args>
error make_error(errc code, fmt::format_string<Args...> format, Args&&... args) {
  return error{code, fmt::format(format, std::forward<Args>(args)...)};
}

/// Thrown at the edges (CLI, configuration, start-up) and caught once in main.
class fatal_error : public std::runtime_error {
 public:
  explicit fatal_error(const error& err) : std::runtime_error(err.message), code_(err.code) {}
  explicit fatal_error(std::string message)
      : std::runtime_error(std::move(message)), code_(errc::invalid_argument) {}
  errc code() const { return code_; }

 private:
  errc code_;
};

}  // namespace sluice
