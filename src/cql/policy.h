// The load-balancing policy of the session as a pure function: token-aware (replicas of
// the statement's partition first) and DC-aware (the local data centre before any remote
// one), skipping nodes that are down, rotating among equals to spread the load.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cql {

struct plan_node {
  std::string data_center;
  bool up = false;
};

/// The order in which to try nodes (indexes into `nodes`): local-DC replicas (in replica
/// order), then the other local-DC nodes, then remote replicas, then the other remote
/// nodes. `rotation` (a request counter) varies the start among non-replicas.
std::vector<std::size_t> query_plan(const std::vector<plan_node>& nodes,
                                    const std::vector<std::size_t>& replicas,
                                    std::string_view local_dc, std::size_t rotation);

}  // namespace sluice::cql
