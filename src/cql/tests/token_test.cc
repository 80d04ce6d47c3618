// The token ring's ownership rules (first token >= the key's, wrapping around) and its
// DC-aware fallback. Murmur3 itself is checked against Cassandra's token() in the
// integration tests.
#include <gtest/gtest.h>

#include <algorithm>

#include "cql/token.h"

namespace sluice::cql {
namespace {

token_ring three_nodes() {
  return token_ring({{"10.0.0.1", "dc1", "r1", {-100, 500}},
                     {"10.0.0.2", "dc1", "r1", {0}},
                     {"10.0.0.3", "dc2", "r1", {1000}}});
}

TEST(TokenRing, TokenBelongsToTheFirstRingTokenAtOrAfterIt) {
  auto ring = three_nodes();
  EXPECT_EQ(ring.owner(-100)->address, "10.0.0.1");
  EXPECT_EQ(ring.owner(-99)->address, "10.0.0.2");
  EXPECT_EQ(ring.owner(0)->address, "10.0.0.2");
  EXPECT_EQ(ring.owner(1)->address, "10.0.0.1");
  EXPECT_EQ(ring.owner(999)->address, "10.0.0.3");
}

TEST(TokenRing, TokenPastTheLastWrapsToTheFirst) {
  auto ring = three_nodes();
  EXPECT_EQ(ring.owner(1001)->address, "10.0.0.1");
  EXPECT_EQ(ring.owner(INT64_MAX)->address, "10.0.0.1");
}

TEST(TokenRing, DcAwareOwnerSkipsNodesOfOtherDataCentres) {
  auto ring = three_nodes();
  EXPECT_EQ(ring.owner_in(999, "dc1")->address, "10.0.0.1");  // 1000 is dc2: wrap to -100
  EXPECT_EQ(ring.owner_in(1, "dc2")->address, "10.0.0.3");
  EXPECT_EQ(ring.owner_in(1, "dc3"), nullptr);
}

TEST(TokenRing, EmptyRingOwnsNothing) {
  token_ring ring;
  EXPECT_EQ(ring.owner(0), nullptr);
  EXPECT_EQ(ring.owner_in(0, "dc1"), nullptr);
}

TEST(TokenRing, SimpleStrategyReplicasAreTheNextDistinctNodesClockwise) {
  auto ring = three_nodes();
  auto replicas = ring.replicas(1, {"SimpleStrategy", 2, {}});  // owner 10.0.0.1 (500)
  ASSERT_EQ(replicas.size(), 2u);
  EXPECT_EQ(replicas[0]->address, "10.0.0.1");
  EXPECT_EQ(replicas[1]->address, "10.0.0.3");                        // 1000, then wraps
  EXPECT_EQ(ring.replicas(1, {"SimpleStrategy", 9, {}}).size(), 3u);  // capped by nodes
}

TEST(TokenRing, NetworkTopologyReplicasTakeTheFactorOfEachDataCentre) {
  auto ring = three_nodes();
  replication r{"org.apache.cassandra.locator.NetworkTopologyStrategy", 1, {{"dc1", 2}}};
  auto replicas = ring.replicas(999, r);  // 1000 (dc2) is skipped: dc2 has no factor
  ASSERT_EQ(replicas.size(), 2u);
  EXPECT_EQ(replicas[0]->address, "10.0.0.1");
  EXPECT_EQ(replicas[1]->address, "10.0.0.2");
}

TEST(Replication, ReadsTheClassAndFactorsOfTheSchemaMap) {
  auto simple = parse_replication(
      {{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "3"}});
  EXPECT_EQ(simple.factor, 3);
  auto nts = parse_replication({{"class", "org.apache.cassandra.locator.NetworkTopologyStrategy"},
                                {"dc1", "3"},
                                {"dc2", "2/1"}});
  EXPECT_EQ(nts.per_dc.at("dc1"), 3);
  EXPECT_EQ(nts.per_dc.at("dc2"), 2);
}

TEST(RoutingKey, OneColumnKeyIsTheValueAndCompositeKeysAreLengthPrefixed) {
  std::vector<bound_value> values = {std::string("ab"), std::string("x"), std::nullopt,
                                     unset_value()};
  EXPECT_EQ(routing_key(values, {0}), "ab");
  EXPECT_EQ(routing_key(values, {1, 0}), std::string("\0\1x\0\0\2ab\0", 9));
  EXPECT_EQ(routing_key(values, {2}), std::nullopt);  // a null key component: no routing
  EXPECT_EQ(routing_key(values, {3}), std::nullopt);  // nor an unset one
  EXPECT_EQ(routing_key(values, {}), std::nullopt);
}

TEST(Murmur3Token, SameKeySameTokenAndKeysSpreadOverTheRing) {
  EXPECT_EQ(murmur3_token("user-1"), murmur3_token("user-1"));
  int negative = 0;
  for (int i = 0; i < 1000; ++i) negative += murmur3_token("user-" + std::to_string(i)) < 0;
  EXPECT_GT(negative, 400);
  EXPECT_LT(negative, 600);
}

}  // namespace
}  // namespace sluice::cql

namespace sluice::cql {
namespace {

/// One data centre, six nodes in ring order a..f on racks r1 r1 r2 r2 r3 r3.
token_ring six_nodes_on_three_racks(std::vector<std::string> racks = {"r1", "r1", "r2", "r2", "r3",
                                                                      "r3"}) {
  std::vector<node_info> nodes;
  for (std::size_t i = 0; i < racks.size(); ++i)
    nodes.push_back({std::string(1, static_cast<char>('a' + i)),
                     "dc1",
                     racks[i],
                     {static_cast<std::int64_t>(i) * 100},
                     0});
  return token_ring(std::move(nodes));
}

std::string addresses(const std::vector<const node_info*>& replicas) {
  std::string out;
  for (const auto* n : replicas) out += n->address;
  return out;
}

const replication nts_dc1(int factor) {
  return {"org.apache.cassandra.locator.NetworkTopologyStrategy", 1, {{"dc1", factor}}};
}

// Expected sets checked against the Python driver's NetworkTopologyStrategy
// (cassandra.metadata.make_token_replica_map) for the same rings.
TEST(TokenRing, NetworkTopologyReplicasSpreadOverRacksBeforeRepeatingOne) {
  auto ring = six_nodes_on_three_racks();
  EXPECT_EQ(addresses(ring.replicas(0, nts_dc1(3))), "ace");  // b and d share a's and c's racks
  EXPECT_EQ(addresses(ring.replicas(100, nts_dc1(3))), "bce");
  EXPECT_EQ(addresses(ring.replicas(0, nts_dc1(2))), "ac");
}

TEST(TokenRing, NetworkTopologyRepeatsARackOnlyForReplicasBeyondTheRackCount) {
  auto ring = six_nodes_on_three_racks({"r1", "r1", "r2", "r2", "r1", "r2"});
  // Two racks, three replicas: one repeat allowed, taken by the first node that repeats.
  // (The set is what placement decides; the Python driver lists the repeat last, "acb".)
  auto two_racks = addresses(ring.replicas(0, nts_dc1(3)));
  std::sort(two_racks.begin(), two_racks.end());
  EXPECT_EQ(two_racks, "abc");
  // One rack: every replica repeats it.
  auto one_rack = six_nodes_on_three_racks({"r", "r", "r", "r", "r", "r"});
  EXPECT_EQ(addresses(one_rack.replicas(300, nts_dc1(3))), "def");
  // More replicas wanted than nodes: every node, once.
  EXPECT_EQ(addresses(ring.replicas(0, nts_dc1(9))), "abcdef");
}

}  // namespace
}  // namespace sluice::cql
