// The session's policies as pure functions, testable without sockets:
// - load balancing: token-aware (replicas of the statement's partition first) and
//   DC-aware (the local data centre before any remote one; LOCAL_* consistency levels stay
//   in it unless allowed out), skipping nodes that are down, rotating among equals;
// - retries: the DataStax Java driver 4's default policy, decided from the failure and the
//   details of the server's ERROR (write type, received/block-for, data present).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/protocol.h"

namespace sluice::cql {

/// Where to reach the cluster first: the name given (what TLS checks) and, when that name
/// stands for several nodes, one of its addresses.
struct contact_point {
  std::string name;
  std::string address;  // empty: connect to `name` itself
};

/// `hosts` as contact points. A name that resolves to several addresses becomes one contact
/// point per address, so that each is tried with its own connect timeout (a dead first
/// address does not use up the others' time); a name with one address, or none (its error
/// comes when it is tried), stays as given. Repeats are dropped.
std::vector<contact_point> expand_contacts(
    const std::vector<std::string>& hosts,
    const std::function<std::vector<std::string>(const std::string&)>& resolve);

struct plan_node {
  std::string data_center;
  bool up = false;
};

struct plan_options {
  /// Only nodes of the local data centre (LOCAL_ONE, LOCAL_QUORUM, LOCAL_SERIAL without
  /// the session's allow_remote_dc_for_local).
  bool local_only = false;
  /// Start the replicas at a rotating one, so that a hot partition does not pin one node.
  bool shuffle_replicas = false;
};

/// The order in which to try nodes (indexes into `nodes`): local-DC replicas (in replica
/// order), then the other local-DC nodes, then remote replicas, then the other remote
/// nodes. `rotation` (a request counter) varies the start among non-replicas (and among
/// replicas with shuffle_replicas).
std::vector<std::size_t> query_plan(const std::vector<plan_node>& nodes,
                                    const std::vector<std::size_t>& replicas,
                                    std::string_view local_dc, std::size_t rotation,
                                    plan_options options = {});

/// LOCAL_ONE, LOCAL_QUORUM and LOCAL_SERIAL.
bool is_local_level(consistency level);

/// How one attempt of a request failed.
enum class failure_kind : std::uint8_t {
  server_error,      // the node answered ERROR (details in the server_error)
  not_sent,          // the connection failed before the request was written: never ran
  connection_lost,   // the connection failed after it was written: outcome unknown
  client_timeout,    // no answer within the request timeout: outcome unknown
  no_node,           // no node of the plan had a usable connection: never sent
  reprepare_failed,  // the node could not re-PREPARE the statement: it did not run
};

enum class retry_decision : std::uint8_t { rethrow, retry_same, retry_next };

/// Why a request was retried: the label of the retries metric.
enum class retry_reason : std::uint8_t {
  read_timeout,
  write_timeout,
  unavailable,
  overloaded,
  server_error,
  truncate_error,
  bootstrapping,
  not_sent,
  connection_lost,
  client_timeout,
  no_node,
  reprepare_failed,
};
inline constexpr std::size_t retry_reason_count = 12;
std::string_view retry_reason_name(retry_reason reason);

struct retry_verdict {
  retry_decision decision = retry_decision::rethrow;
  retry_reason reason = retry_reason::server_error;
};

/// The Java driver 4's default retry policy. `retries` counts the retries already made for
/// this request; `error` is the server's answer for failure_kind::server_error.
/// - read timeout: once on the same node when enough replicas answered but the data
///   replica did not (received >= block_for, data absent);
/// - write timeout: once on the same node for an idempotent BATCH_LOG write;
/// - unavailable: once on the next node (the coordinator did not try the write);
/// - overloaded, server error, truncate error: the next node, idempotent statements only;
/// - bootstrapping, not sent, no node, re-PREPARE failed: the next node (it never ran);
/// - connection lost, client timeout: the next node, idempotent statements only;
/// - anything else (syntax, invalid, read/write failure, ...): rethrown.
retry_verdict decide_retry(failure_kind kind, const server_error* error, bool idempotent,
                           int retries);

/// A statement that must never be retried even when declared idempotent: schema changes
/// (CREATE, ALTER, DROP, TRUNCATE, GRANT, REVOKE) and USE. Leading whitespace and comments
/// are skipped; case-insensitive.
bool is_schema_statement(std::string_view cql);
/// A statement that is idempotent by nature: SELECT (without a side effect).
bool is_read_statement(std::string_view cql);

}  // namespace sluice::cql
