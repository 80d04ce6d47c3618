// What the console's route files share: the engines' clients, the request guard, the
// decoder, the flow sampler, background jobs (searches, verify), and small helpers for
// JSON answers and parameters. Internal to src/console.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "console/console.h"
#include "console/flow.h"
#include "console/message_view.h"
#include "console/security.h"
#include "kafka/admin.h"
#include "registry/client.h"
#include "web/server.h"

namespace sluice::console {

/// A bounded search over a topic, run on its own thread.
struct search_job {
  std::mutex mutex;
  std::string state = "running";  // running, done, failed
  std::int64_t scanned = 0;
  std::int64_t max_scan = 0;
  std::vector<nlohmann::json> matches;
  std::string error;
  std::thread worker;
};

/// The last verify run started from the console.
struct verify_job {
  std::mutex mutex;
  std::string state = "never";  // never, running, done, failed
  std::int64_t started_ms = 0, finished_ms = 0;
  nlohmann::json report;
  std::string error;
  std::string progress;
  std::thread worker;
};

/// The Cassandra view's row count and latest users, from one scan of the table, kept for
/// a while: the scan reads every row (seconds at a few hundred thousand rows).
struct cassandra_cache {
  std::mutex mutex;
  bool have = false;
  bool refreshing = false;
  std::int64_t as_of_ms = 0;
  std::int64_t rows = 0;
  nlohmann::json latest;  // the newest 100 registrations
  std::string error;      // the last refresh's failure
  std::thread worker;
};

struct console::state {
  console_options options;
  /// options.kafka for the console's readers (browser, search, dead letters): they look at
  /// a topic rather than stream it, so a small prefetch queue (librdkafka's default is
  /// 64 MB per consumer) keeps the console's memory small.
  kafka::client_settings reader_kafka;
  request_guard guard;
  std::unique_ptr<kafka::admin> admin;
  std::unique_ptr<registry::client> registry;
  std::unique_ptr<message_decoder> decoder;
  std::unique_ptr<flow_sampler> flow;
  std::mutex searches_mutex;
  std::map<std::string, std::unique_ptr<search_job>> searches;
  std::atomic<int> next_search{1};
  verify_job verify;
  cassandra_cache cassandra;
  std::atomic<bool> stopping{false};
  std::unique_ptr<web::server> server;

  explicit state(console_options o);
  ~state();
};

/// 200 (or `status`) with a JSON body.
web::response json_answer(const nlohmann::json& body, int status = 200);

/// An engine's failure as an HTTP answer: 404 not found, 400 bad argument, 409
/// conflict, 503 unavailable or timed out, 502 otherwise; the message names the engine.
web::response engine_failure(const error& err, std::string_view engine);

/// An integer query parameter within [min, max]; `fallback` when absent. A bad value
/// sets `bad` to a 400 naming the parameter.
std::optional<std::int64_t> int_param(const web::request& r, std::string_view name,
                                      std::int64_t min, std::int64_t max,
                                      std::optional<std::int64_t> fallback,
                                      std::optional<web::response>& bad);

/// The request body as a JSON object, or a 400 in `bad`.
std::optional<nlohmann::json> json_body(const web::request& r, std::optional<web::response>& bad);

/// Hands freed memory back to the system after a large read (glibc's malloc_trim).
void release_memory();

/// Milliseconds since the epoch, now.
std::int64_t now_ms();

void add_kafka_routes(console::state& s, web::router& routes);
void add_pipeline_routes(console::state& s, web::router& routes);
void add_page_routes(console::state& s, web::router& routes);

/// Wraps a handler with the request guard (Host, token, and for POSTs CSRF and Origin).
web::handler guarded(console::state& s, bool changes_state, web::handler h);

}  // namespace sluice::console
