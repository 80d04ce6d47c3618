// sluice's CQL client for Apache Cassandra (no C++ driver is packaged for Debian).
//
// Layers: protocol.h is the pure codec (frames, primitives, messages), values.h the cell
// codecs, and session (this header) a connection to one node speaking protocol v4 over a
// blocking socket with many requests in flight (pipelined by stream id), prepared
// statements re-prepared on UNPREPARED, paging, and reconnection on the next call after
// the node went away. Server errors come back as values carrying the server's code name
// and message. Cluster awareness (token-aware routing, DC-aware policy) and TLS/SASL are
// not there yet.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cql/protocol.h"
#include "cql/token.h"
#include "cql/values.h"

namespace sluice::cql {

struct session_config {
  std::string host = "127.0.0.1";
  int port = 9042;
  std::string keyspace;  // empty: none (USE it later with a query)
  std::chrono::milliseconds timeout{10000};
  consistency level = consistency::local_quorum;
};

struct prepared {
  std::string cql;
  std::string id;
  std::vector<column_spec> bind_columns;
};

class session {
 public:
  /// Connects and runs the handshake; errors name host:port.
  static result<std::unique_ptr<session>> connect(const session_config& config);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Runs a statement and returns all its rows (following paging states).
  result<rows_result> query(std::string_view cql, std::vector<bound_value> values = {});
  /// One page; pass the previous page's paging_state to continue.
  result<rows_result> query_page(std::string_view cql, const query_params& params);

  result<prepared> prepare(std::string cql);
  /// Executes a prepared statement (re-preparing it once if the server forgot it).
  result<rows_result> execute(prepared& statement, std::vector<bound_value> values);
  /// One BATCH request running the statement once per value list. Unlogged batches are
  /// for rows of one partition (Cassandra warns past a size threshold and refuses
  /// batches over its fail threshold, an error carrying the server's message).
  result<void> execute_batch(prepared& statement,
                             const std::vector<std::vector<bound_value>>& values,
                             batch_kind kind = batch_kind::unlogged);
  /// Executes the statement once per value list with up to `window` requests in flight.
  /// The i-th result belongs to the i-th value list. With `latencies`, the i-th entry is
  /// the time from sending request i to its response (-1 if it got none).
  std::vector<result<void>> execute_many(
      prepared& statement, const std::vector<std::vector<bound_value>>& values,
      std::size_t window = 256, std::vector<std::chrono::microseconds>* latencies = nullptr);

  const session_config& config() const { return config_; }

 private:
  explicit session(session_config config) : config_(std::move(config)) {}
  result<void> open();
  void close_socket();
  result<void> send_all(std::string_view bytes);
  result<std::pair<frame_header, std::string>> read_frame();
  result<response> roundtrip(std::string frame);
  result<response> checked(result<response> r, std::string_view what);
  /// Sends the frame `write_frame` builds for `statement`; on UNPREPARED re-prepares
  /// once (updating `statement`) and sends it again. Server errors name `what`.
  result<response> run_prepared(
      prepared& statement, const std::function<void(std::string&, const prepared&)>& write_frame,
      std::string_view what);

  session_config config_;
  int fd_ = -1;
};

}  // namespace sluice::cql
