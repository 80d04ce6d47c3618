// sluice's CQL client for Apache Cassandra (no C++ driver is packaged for Debian).
//
// Layers, each testable alone: protocol.h is the pure codec (frames, primitives,
// messages), values.h the cell codecs, compression.h LZ4 bodies, token.h Murmur3 tokens,
// the ring and replica placement, connection.h one asynchronous connection (Boost.Asio,
// requests multiplexed by stream id), and the session (this header): a pool of
// connections per node of the cluster, discovered from system.local/system.peers_v2,
// with token-aware, DC-aware routing, reconnection with backoff, re-prepare on
// UNPREPARED, retries for statements marked idempotent, server events, SASL PLAIN and
// optional TLS. Server errors carry the server's code (error::detail, see error_kind())
// and message.
//
// Threading: the session runs one I/O thread. The *_async calls are thread-safe and call
// back on that thread (callbacks must not block); the blocking calls wait for their
// callback and must not be made from inside one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cql/protocol.h"
#include "cql/token.h"
#include "cql/values.h"

namespace sluice::cql {

struct tls_config {
  bool enabled = false;
  std::string ca_file;  // PEM bundle the server certificate must chain to; empty: system CAs
  bool verify = true;   // check the chain and that the certificate names the host
};

struct session_config {
  std::string host = "127.0.0.1";  // contact points: "host" or "host1,host2"
  int port = 9042;
  std::string keyspace;                      // empty: none (USE it later with a query)
  std::chrono::milliseconds timeout{10000};  // per request and per connection attempt
  consistency level = consistency::local_quorum;
  std::string local_dc;  // empty: the data centre of the contact point that answered
  std::optional<credentials> auth;
  std::string compression;  // "" or "lz4"
  tls_config tls;
  int connections_per_node = 1;
  std::uint8_t max_protocol_version = 4;          // negotiated down to 3 for older servers
  std::chrono::milliseconds reconnect_base{200};  // first wait after a node went away
  std::chrono::milliseconds reconnect_max{5000};  // the wait doubles up to this
  /// How long a request is retried (other nodes, then after a jittered backoff) when the
  /// retry policy (policy.h: the Java driver's default) allows it, and in at most how many
  /// passes over the nodes. Only idempotent statements are retried after they may have run.
  std::chrono::milliseconds idempotent_retry_for{60000};
  int retry_rounds = 10;
  /// An OPTIONS heartbeat on a connection nothing was read from for this long (0: off);
  /// with requests in flight, after one second of silence. No answer within
  /// heartbeat_timeout closes the connection and marks the node down (a frozen or
  /// powered-off node sends no RST). TCP keepalive is on as well.
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds heartbeat_timeout{3000};
  /// LOCAL_ONE/LOCAL_QUORUM/LOCAL_SERIAL statements never go to another data centre
  /// unless this is set (the Java driver's default).
  bool allow_remote_dc_for_local = false;
  /// Rotate among a partition's replicas rather than always trying the first.
  bool shuffle_replicas = false;
  /// Speculative execution (off by default): an idempotent request with no answer after
  /// this long is also sent to the next node of its plan, up to speculative_max more
  /// times; the first answer wins and the others are dropped. 0: off.
  std::chrono::milliseconds speculative_delay{0};
  int speculative_max = 2;
  /// Server events (schema, topology, status), called on the I/O thread.
  std::function<void(const server_event&)> on_event;
};

struct prepared {
  std::string cql;
  std::string id;
  std::vector<column_spec> bind_columns;
  std::vector<int> partition_key_indexes;  // for the routing token
  std::string keyspace;                    // of the bound table (for replica placement)
};

struct statement_options {
  /// Safe to apply twice (an upsert with fixed values, a read): retried on another node
  /// or after a reconnection when a node fails it. SELECTs are idempotent without it;
  /// schema statements (CREATE, ALTER, DROP, TRUNCATE, ...) never are.
  bool idempotent = false;
  std::optional<consistency> level;  // default: the session's
  /// EXECUTE of a SELECT: rows per page (<= 0: unpaged) and where to continue; the
  /// blocking execute() follows the pages, execute_async() returns one with its state.
  std::int32_t page_size = 5000;
  std::optional<std::string> paging_state;
};

/// Counters since the session opened.
struct session_stats {
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t reprepares = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t failed = 0;
  std::uint64_t heartbeat_failures = 0;      // connections closed for a missed heartbeat
  std::uint64_t speculative_executions = 0;  // extra sends of a slow idempotent request
  /// Retries by reason (retry_reason_name(reason) of policy.h), in enum order.
  std::vector<std::pair<std::string, std::uint64_t>> retries_by_reason;
};

struct node_status {
  std::string address;
  int port = 0;
  std::string data_center;
  bool up = false;
  bool local = false;  // in the local data centre
  std::uint64_t requests = 0;
  std::string last_error;
};

using rows_handler = std::function<void(result<rows_result>)>;

class session {
 public:
  /// Connects to the first contact point that answers, discovers the cluster and opens
  /// a pool to each node; errors name host:port and what to do.
  static result<std::unique_ptr<session>> connect(const session_config& config);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // --- asynchronous (thread-safe; `done` runs once on the I/O thread) ---
  // Values are encoded into the request before these return: the caller keeps its own.
  void execute_async(const prepared& statement, const std::vector<bound_value>& values,
                     rows_handler done, statement_options options = {});
  void query_async(std::string cql, query_params params, rows_handler done,
                   statement_options options = {});
  /// One BATCH request running the statement once per value list, routed by the first
  /// list's partition key (group rows by replica_of() for token-aware batches).
  void execute_batch_async(const prepared& statement,
                           const std::vector<std::vector<bound_value>>& values, rows_handler done,
                           statement_options options = {}, batch_kind kind = batch_kind::unlogged);
  /// The address of the node that owns the statement's row for these values (the first
  /// replica in the local data centre); empty when unknown.
  std::string replica_of(const prepared& statement, const std::vector<bound_value>& values) const;

  // --- blocking ---
  /// Runs a statement and returns all its rows (following paging states).
  result<rows_result> query(std::string_view cql, std::vector<bound_value> values = {},
                            statement_options options = {});
  /// One page; pass the previous page's paging_state to continue.
  result<rows_result> query_page(std::string_view cql, const query_params& params,
                                 statement_options options = {});
  result<prepared> prepare(std::string cql);
  /// Executes a prepared statement (re-preparing it if the node forgot it).
  result<rows_result> execute(prepared& statement, std::vector<bound_value> values,
                              statement_options options = {});
  /// One BATCH request running the statement once per value list (routed by the first
  /// list's key). Unlogged batches are for rows of one partition.
  result<void> execute_batch(prepared& statement,
                             const std::vector<std::vector<bound_value>>& values,
                             batch_kind kind = batch_kind::unlogged,
                             statement_options options = {});
  /// Executes the statement once per value list with up to `window` requests in flight.
  /// The i-th result belongs to the i-th value list. With `latencies`, the i-th entry is
  /// the time from submitting request i to its completion.
  std::vector<result<void>> execute_many(
      prepared& statement, const std::vector<std::vector<bound_value>>& values,
      std::size_t window = 256, std::vector<std::chrono::microseconds>* latencies = nullptr,
      statement_options options = {});

  const session_config& config() const;
  session_stats stats() const;
  std::vector<node_status> nodes() const;
  /// The ring as last read from the cluster.
  token_ring ring() const;

  class impl;

 private:
  explicit session(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace sluice::cql
