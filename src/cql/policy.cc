// Token-aware, DC-aware query plans (see policy.h).
#include "cql/policy.h"

#include <algorithm>

namespace sluice::cql {

std::vector<std::size_t> query_plan(const std::vector<plan_node>& nodes,
                                    const std::vector<std::size_t>& replicas,
                                    std::string_view local_dc, std::size_t rotation) {
  std::vector<std::size_t> plan;
  auto add = [&](std::size_t i) {
    if (i < nodes.size() && nodes[i].up && std::find(plan.begin(), plan.end(), i) == plan.end())
      plan.push_back(i);
  };
  auto local = [&](std::size_t i) { return nodes[i].data_center == local_dc; };
  for (auto i : replicas) {
    if (i < nodes.size() && local(i)) add(i);
  }
  const auto n = nodes.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto i = (rotation + k) % n;
    if (local(i)) add(i);
  }
  for (auto i : replicas) add(i);
  for (std::size_t k = 0; k < n; ++k) add((rotation + k) % n);
  return plan;
}

}  // namespace sluice::cql
