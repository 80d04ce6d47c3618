// The request pipeline between a connection and the routes, shared by the server's
// sessions, the tests and the fuzz target (no sockets here): a parsed Beast message
// becomes a web::request or a 4xx answer, then built-in /health and /metrics or the
// routes answer it; each answer is counted in the metrics and written to the debug
// access log with the request text escaped.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/logger.h>
#include <boost/beast/http.hpp>

#include "web/metrics.h"
#include "web/server.h"

namespace sluice::web {

using beast_request = boost::beast::http::request<boost::beast::http::string_body>;

/// The answer to a read that failed with `ec` (413, 431 or 400), or nullopt when the
/// client went away or timed out and the connection just closes.
std::optional<response> read_failure_response(boost::system::error_code ec);

/// The request `msg` carries, or the answer refusing it: 414 for a target longer than
/// options.max_target_bytes, 400 for a path or query that is not UTF-8 once decoded.
std::variant<request, response> to_request(beast_request& msg, const server_options& options);

/// One access-log line, `GET /a\nb -> 404 (0.120 ms)`, method and target escaped.
std::string access_log_line(std::string_view method, std::string_view target, int status,
                            double seconds);

class request_handler {
 public:
  request_handler(server_options options, router routes);

  const server_options& options() const { return options_; }
  router& routes() { return routes_; }
  metrics_registry& metrics() { return metrics_; }
  /// Extra /health fields; set before serving (not synchronised with handle()).
  void set_health(std::function<std::string()> fields) { health_fields_ = std::move(fields); }

  /// The answer to a parsed message: to_request's refusal, or handle().
  response answer(beast_request& msg);
  /// The answer to a request: /health, /metrics or the routes (an exception is a 500);
  /// counted in http_requests_total and logged at debug level.
  response handle(const request& r);
  /// Parses `bytes` as one HTTP request with the server's limits and answers it as a
  /// connection would; nullopt when a connection would close without answering.
  std::optional<response> handle_raw(std::string_view bytes);

 private:
  response respond(const request& r);
  response health() const;
  void record(std::string_view method, std::string_view target, int status,
              std::chrono::steady_clock::time_point begin);

  server_options options_;
  router routes_;
  metrics_registry metrics_;
  std::function<std::string()> health_fields_;
  std::shared_ptr<spdlog::logger> log_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace sluice::web
