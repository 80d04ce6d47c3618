// Where a row lives in a Cassandra cluster: the Murmur3Partitioner token of a partition
// key, and the token ring (which node owns which token range) read from system.local
// and system.peers. A client routes a statement to the node owning its key's token
// (token-aware routing) and, among nodes, prefers its own data centre (DC-aware).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cql/protocol.h"

namespace sluice::cql {

class session;

/// The Murmur3Partitioner token of a serialized partition key (the key's bytes as
/// bound, e.g. the 16 bytes of a uuid). Same value as CQL's token(key).
std::int64_t murmur3_token(std::string_view key_bytes);

/// A node as the cluster describes itself.
struct node_info {
  std::string address;  // rpc address (where clients connect)
  std::string data_center;
  std::string rack;
  std::vector<std::int64_t> tokens;
  int port = 0;         // native port (0: the session's configured port)
  std::string host_id;  // the node's identity (a uuid's text); empty when not asked for
};

/// A keyspace's replication as system_schema.keyspaces gives it: SimpleStrategy with one
/// factor, or NetworkTopologyStrategy with a factor per data centre.
struct replication {
  std::string strategy = "SimpleStrategy";
  int factor = 1;                     // SimpleStrategy
  std::map<std::string, int> per_dc;  // NetworkTopologyStrategy
};
/// From the `replication` map<text, text> (class plus factors); unknown classes are read
/// as SimpleStrategy with factor 1 (the primary owner stays right).
replication parse_replication(const std::vector<std::pair<std::string, std::string>>& options);

/// The routing key of a statement: the bound value of a one-column partition key, or the
/// composite encoding ([short length][bytes][0] per component) of a multi-column one.
/// Empty when a key component is unbound or null.
std::optional<std::string> routing_key(const std::vector<bound_value>& values,
                                       const std::vector<int>& partition_key_indexes);

/// The ring: each token owned by the node that holds the range ending at it.
class token_ring {
 public:
  token_ring() = default;
  explicit token_ring(std::vector<node_info> nodes);

  /// The node owning `token`: the first ring token >= token, wrapping around.
  /// Empty only when no node has tokens.
  const node_info* owner(std::int64_t token) const;
  /// The owner of the token if it is in `data_center`; otherwise the first node of
  /// `data_center` after it on the ring (a DC-aware fallback); null if the data centre
  /// has no node.
  const node_info* owner_in(std::int64_t token, std::string_view data_center) const;
  /// The replicas of `token`, primary first: walking the ring clockwise, the first
  /// `factor` distinct nodes (SimpleStrategy) or, per data centre, `per_dc[dc]` nodes of
  /// that centre spread over its racks as Cassandra's NetworkTopologyStrategy places them
  /// (a node of a rack that already holds a replica is passed over while the centre has
  /// racks without one, unless more replicas are wanted than it has racks).
  std::vector<const node_info*> replicas(std::int64_t token, const replication& r) const;

  const std::vector<node_info>& nodes() const { return nodes_; }

 private:
  std::vector<node_info> nodes_;
  std::map<std::int64_t, std::size_t> ring_;  // token -> index in nodes_
};

/// Nodes from rows of (address, data_center, rack, tokens[, port]) as selected from
/// system.local and system.peers(_v2); a null port leaves 0. A malformed row (too few
/// cells, an address that is no inet, unreadable tokens, a bad port) is skipped and, with
/// `skipped`, described there.
result<std::vector<node_info>> nodes_from_rows(const rows_result& rows,
                                               std::vector<std::string>* skipped = nullptr);

/// Reads the ring through an open session: system.local (the node itself) and
/// system.peers (every other node).
result<token_ring> discover_ring(session& s);

}  // namespace sluice::cql
