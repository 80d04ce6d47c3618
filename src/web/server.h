// The HTTP server shared by every sluice service (the randomuser API, the schema
// registry, the processor's and producer's /metrics, the console): HTTP/1.1 with
// keep-alive on Boost.Beast, a small router, request limits that answer 413/414/431
// instead of failing, a 400 for paths and queries that are not UTF-8, a cap on open
// connections, an accept loop that backs off when file descriptors run out, and
// built-in /health and /metrics.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "web/metrics.h"

namespace sluice::web {

struct request {
  std::string method;                                      // "GET", "POST", ...
  std::string target;                                      // raw target, e.g. "/api/?results=5"
  std::string path;                                        // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first query value with this name, if any.
  const std::string* param(std::string_view name) const;
  /// A header value (case-insensitive name), or empty.
  std::string header(std::string_view name) const;
};

struct response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using handler = std::function<response(const request&)>;

/// `{"error": message, "parameter": parameter}` with the given 4xx/5xx status.
response json_error(int status, std::string_view message, std::string_view parameter = {});

/// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). Malformed escapes are kept as-is.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
std::string percent_decode(std::string_view text);

class router {
 public:
  /// Exact path match for a method ("*" for any method).
  void add(std::string method, std::string path, handler h);
  /// Longest-prefix match, tried after exact matches.
  void add_prefix(std::string method, std::string prefix, handler h);
  /// Dispatches; 404 for an unknown path, 405 for a known path with another method.
  response dispatch(const request& r) const;

 private:
  struct route {
    std::string method, path;
    bool prefix;
    handler h;
  };
  std::vector<route> routes_;
};

struct server_options {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 picks a free port
  int threads = 2;
  std::size_t max_body_bytes = 1 << 20;  // larger: 413
  std::size_t max_target_bytes = 8192;   // longer URL: 414
  std::size_t max_header_bytes = 65536;  // larger request head: 431
  std::string service_name = "sluice";
  // Open connections at most (0: no cap); one more is answered 503 and closed at once,
  // counted in http_connections_rejected_total.
  std::size_t max_connections = 1024;
};

class server {
 public:
  /// Binds at once: a port in use throws fatal_error naming the port and what to do.
  server(server_options options, router routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The port actually bound (useful with port 0).
  int port() const;
  metrics_registry& metrics();
  /// The routes; add to them before start().
  router& routes();
  /// Extra fields for /health (called per request; must be thread-safe).
  void set_health(std::function<std::string()> json_object_fields);

  /// Starts the worker threads and returns.
  void start();
  /// Stops accepting, finishes, joins the threads. Safe to call twice.
  void stop();

  struct impl;  // implementation detail (Beast state), public for the connection type

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice::web
