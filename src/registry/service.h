// The Confluent Schema Registry REST API, independent of any HTTP server: a request
// (method, path, query, body) goes in, a status and a JSON body come out. The HTTP
// layer (server.h) only moves bytes; everything the API means lives here, so it is
// unit-tested without sockets or Kafka.
//
// Endpoints (Confluent shapes and error codes): GET /subjects; GET|POST|DELETE
// /subjects/{s}[/versions[/{v|latest}[/schema]]]; GET /schemas/ids/{id}[/versions];
// GET /schemas/types; GET|PUT /config; GET|PUT|DELETE /config/{s}; POST
// /compatibility/subjects/{s}/versions[/{v|latest}].
//
// Writes go to the log first (log_writer, the compacted Kafka topic in production) and
// change the in-memory state only once the log acknowledged them. One mutex serialises
// requests: the registry is meant to run as a single writer per topic. So that no request
// holds it for long, request bodies nest JSON at most max_json_nesting levels, schemas
// nest types at most max_type_nesting levels (both 422, naming the limit: see schema.h),
// and a request's compatibility checks take at most `check_steps` steps (default
// default_check_steps, under half a second): past that the answer is 422 with
// error code 42201 and a message saying the check is too costly. The schema in a POST body
// (the costly part of parsing) is parsed before the lock is taken.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "registry/schema.h"
#include "registry/state.h"

namespace sluice::registry {

/// Where the service persists its changes.
class log_writer {
 public:
  virtual ~log_writer() = default;
  /// Appends a record and returns once it is durable (acknowledged).
  virtual result<void> append(const log_record& record) = 0;
};

struct api_request {
  std::string method;  ///< GET, POST, PUT, DELETE
  std::string path;    ///< percent-encoded path, e.g. /subjects/users.raw-value/versions
  std::string query;   ///< raw query string without '?', e.g. "deleted=true"
  std::string body;
};

struct api_response {
  int status = 200;
  std::string body;  ///< JSON
};

/// The media type Confluent clients send and expect.
inline constexpr const char* registry_content_type = "application/vnd.schemaregistry.v1+json";

/// Counters for /metrics.
struct service_stats {
  size_t subjects = 0;
  size_t schemas = 0;
  int next_id = 1;
};

class service {
 public:
  explicit service(log_writer& writer, std::uint64_t check_steps = default_check_steps)
      : writer_(writer), check_steps_(check_steps) {}

  /// Applies a record read back from the log at start-up.
  result<void> replay(const log_record& record);

  /// Serves one API call.
  api_response handle(const api_request& request);

  service_stats stats();

 private:
  class call;
  // The schema of a POST body, parsed before the lock is taken.
  static std::optional<result<avro_schema>> parse_body(const api_request& request);
  std::mutex mu_;
  state state_;
  std::map<int, avro_schema> parsed_;  // by schema id, parsed on first use
  log_writer& writer_;
  std::uint64_t check_steps_;
};

}  // namespace sluice::registry
