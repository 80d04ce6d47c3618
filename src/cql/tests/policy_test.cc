// The session's query plans: token-aware and DC-aware ordering, down nodes skipped.
#include <gtest/gtest.h>

#include <set>

#include "cql/policy.h"

namespace sluice::cql {
namespace {

// 0,1: dc1   2,3: dc2
std::vector<plan_node> four_nodes() {
  return {{"dc1", true}, {"dc1", true}, {"dc2", true}, {"dc2", true}};
}

TEST(QueryPlan, LocalReplicaComesFirstThenLocalNodesThenRemoteReplicasThenTheRest) {
  auto plan = query_plan(four_nodes(), {3, 1}, "dc1", 0);
  EXPECT_EQ(plan, (std::vector<std::size_t>{1, 0, 3, 2}));
}

TEST(QueryPlan, RemoteNodesNeverComeBeforeALocalOne) {
  for (std::size_t rotation = 0; rotation < 8; ++rotation) {
    auto plan = query_plan(four_nodes(), {}, "dc2", rotation);
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_GE(plan[0], 2u);
    EXPECT_GE(plan[1], 2u);
  }
}

TEST(QueryPlan, RotationSpreadsRequestsWithoutAKeyOverTheLocalNodes) {
  std::set<std::size_t> firsts;
  for (std::size_t rotation = 0; rotation < 8; ++rotation)
    firsts.insert(query_plan(four_nodes(), {}, "dc1", rotation).front());
  EXPECT_EQ(firsts, (std::set<std::size_t>{0, 1}));
}

TEST(QueryPlan, DownNodesAreSkippedAndAllDownGivesAnEmptyPlan) {
  auto nodes = four_nodes();
  nodes[1].up = false;
  EXPECT_EQ(query_plan(nodes, {1}, "dc1", 0).front(), 0u);  // its replica is down
  for (auto& n : nodes) n.up = false;
  EXPECT_TRUE(query_plan(nodes, {0}, "dc1", 0).empty());
}

}  // namespace
}  // namespace sluice::cql
