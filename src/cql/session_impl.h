// The session's private state, all of it owned by one I/O thread: the nodes with their
// connection pools and reconnection timers, the control connection (topology, schema,
// events), the ring and keyspace replication for token-aware routing, and the request
// path (query plan, retries, re-prepare). Only session.cc and cluster.cc include this.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>

#include "cql/connection.h"
#include "cql/cql.h"
#include "cql/policy.h"

namespace sluice::cql {

/// One request on its way through the cluster: the frame is built once and re-sent on
/// retries (a new stream id each time).
struct pending_request {
  std::string frame;
  std::optional<std::int64_t> token;
  std::string keyspace;
  std::string what;  // "EXECUTE <cql>" for error messages
  bool idempotent = false;
  consistency level = consistency::local_quorum;  // for the plan: LOCAL_* stay local
  std::function<void(result<response>)> done;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::vector<std::size_t> plan;  // node indexes, best first
  std::size_t next = 0;
  int rounds = 0;   // passes over a fresh plan after every node of the last one failed
  int retries = 0;  // retries decided by the retry policy
  // Re-PREPAREs on the node of the current attempt (at most 2 there): each node it moves
  // to gets its own, as a node that was restarted or never saw the statement forgets it.
  int reprepares = 0;
  // Speculative execution: sends awaiting an answer, and whether `done` was called (the
  // first answer wins; a failure ends the request only when no other send is pending).
  int in_flight = 0;
  int speculative = 0;  // extra sends started
  bool completed = false;
};

class session::impl {
 public:
  explicit impl(session_config config);
  ~impl();

  /// Blocking: reaches a contact point, reads the topology, opens the pools.
  result<void> start();
  /// Thread-safe: hands the request to the I/O thread.
  void submit(std::shared_ptr<pending_request> request);
  void prepare_async(std::string cql, std::function<void(result<prepared>)> done);
  bool on_io_thread() const { return std::this_thread::get_id() == io_thread_id_; }
  /// True when `values` hold an unset value the negotiated protocol cannot carry: `done`
  /// then gets the error on the I/O thread.
  bool refuse_unset(std::span<const bound_value> values, rows_handler& done);

  session_config config_;
  std::atomic<std::uint64_t> requests_{0}, retries_{0}, reprepares_{0}, reconnects_{0}, failed_{0},
      heartbeat_failures_{0}, speculative_executions_{0};
  std::array<std::atomic<std::uint64_t>, retry_reason_count> retries_by_reason_{};
  mutable std::mutex state_mutex_;  // guards what readers on other threads see: ring_, nodes_
  token_ring ring_;

  struct node {
    std::string address;
    int port = 0;
    std::string data_center, rack;
    std::string host_id;  // the node's identity when the server gave one
    bool up = false;
    bool removed = false;
    std::string last_error;
    std::atomic<std::uint64_t> requests{0};
    // I/O thread only:
    std::vector<std::shared_ptr<connection>> pool;
    bool opening = false;
    bool ever_up = false;
    int failures = 0;
    std::unique_ptr<boost::asio::steady_timer> reconnect_timer;
    bool reconnect_scheduled = false;
    std::size_t next_connection = 0;
  };
  std::vector<std::unique_ptr<node>> nodes_;  // appended only; indexes stay valid
  std::string local_dc_;

 private:
  // cluster.cc: nodes, pools, control connection, topology.
  connection_options options_for(const std::string& host, int port) const;
  void open_control(std::size_t contact);
  void control_lost(const error& why);
  /// A query on the control connection, or on `via` when given.
  void control_query(std::string cql, std::function<void(result<rows_result>)> done,
                     std::shared_ptr<connection> via = nullptr);
  void refresh_topology();
  void schedule_refresh(std::chrono::milliseconds delay);
  void apply_topology(const rows_result& local, const rows_result& peers,
                      const rows_result& keyspaces);
  /// The node with this host_id (or, without one, this address): known or added.
  std::size_t node_index(const std::string& address, int port, const std::string& host_id);
  void readdress(std::size_t index, const std::string& address, int port);
  void connect_node(std::size_t index);
  void node_opened(std::size_t index, result<std::shared_ptr<connection>> opened);
  void schedule_reconnect(std::size_t index);
  void connection_closed(std::size_t index, const connection* closed, const error& why);
  void handle_event(const server_event& event);
  /// Calls `then` once all up nodes report one schema version (or at `until`). Asked of
  /// `coordinator`, the node that ran the schema change: it already holds the new version,
  /// so its view cannot agree on the old one (another node's view can, before the change
  /// reaches it).
  void await_schema_agreement(std::shared_ptr<connection> coordinator,
                              std::chrono::steady_clock::time_point until,
                              std::function<void()> then);
  void finish_start(result<void> outcome);
  void stop();

  // session.cc: the request path.
  std::vector<std::size_t> plan_for(const pending_request& request);
  std::shared_ptr<connection> pick_connection(node& n);
  void dispatch(std::shared_ptr<pending_request> request);
  /// Sends to the next usable node of the plan; false when none is left.
  bool send_to_next_node(const std::shared_ptr<pending_request>& request);
  /// Arms the speculative send of a slow idempotent request (when enabled).
  void schedule_speculation(const std::shared_ptr<pending_request>& request);
  void on_response(std::shared_ptr<pending_request> request, std::shared_ptr<connection> via,
                   result<response> answer);
  void retry_or_fail(std::shared_ptr<pending_request> request, error why, failure_kind kind,
                     const server_error* server = nullptr);
  void fail(std::shared_ptr<pending_request> request, error why);
  void retry_after_backoff(std::shared_ptr<pending_request> request);
  void reprepare(std::shared_ptr<pending_request> request, std::shared_ptr<connection> via,
                 const std::string& id);
  std::string cql_of(const std::string& id) const;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::thread::id io_thread_id_;
  std::shared_ptr<boost::asio::ssl::context> tls_;

  // I/O thread only:
  std::vector<contact_point> contacts_;  // config_.host, each name by its addresses
  std::shared_ptr<connection> control_;
  std::map<std::string, replication> keyspaces_;
  std::map<std::string, std::string> prepared_cql_;  // statement id -> CQL text
  std::string current_keyspace_;
  std::uint8_t negotiated_version_ = 0;  // by the first control connection; 0: not yet
  std::unique_ptr<boost::asio::steady_timer> control_timer_, refresh_timer_;
  bool refresh_scheduled_ = false;
  int control_failures_ = 0;
  std::set<std::shared_ptr<boost::asio::steady_timer>> retry_timers_;
  std::vector<std::weak_ptr<connection>> opening_;  // pool connections in their handshake
  std::size_t round_robin_ = 0;
  bool stopping_ = false;

  // start() handshake between the caller and the I/O thread.
  std::mutex start_mutex_;
  std::condition_variable start_cv_;
  std::optional<result<void>> start_outcome_;
  std::string start_errors_;

  friend class session;
};

/// A server ERROR as an `error` carrying its code in `detail`.
error server_error_of(const server_error& e, std::string_view what);

}  // namespace sluice::cql
