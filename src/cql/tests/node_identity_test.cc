// Node identity against scripted fake nodes: the session knows a node by the host_id the
// server gives, not by the address text it was reached at, so a node that comes back at a
// new address keeps its place (no dead twin left behind, no request routed to the old
// address), and a peer row without a host_id is left out with a warning.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cql/cql.h"
#include "cql/tests/fake_cassandra.h"

namespace sluice::cql {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

std::string topology_event(const std::string& change, const std::string& address, int port) {
  return str("TOPOLOGY_CHANGE") + str(change) + std::string(1, '\x04') + inet4(address) +
         be32(port);
}

/// Waits until the session's node list satisfies `ok` (5 s at most).
template <typename Predicate>
std::vector<node_status> nodes_once(session& s, Predicate ok) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  auto nodes = s.nodes();
  while (!ok(nodes) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    nodes = s.nodes();
  }
  return nodes;
}

std::string listing(const std::vector<node_status>& nodes) {
  std::string out;
  for (const auto& n : nodes)
    out += n.address + ":" + std::to_string(n.port) + (n.up ? " up; " : " down; ");
  return out;
}

// (Behaviour, not identity alone: a session keyed by address also ends with two nodes
// here, the old one dropped as removed. The duplicate-row test below is the one that
// needs the host_id.)
TEST(CqlNodeIdentity, NodeBackAtANewAddressKeepsItsPlaceAndIsReachedThere) {
  fake_cassandra a({}, "127.0.0.1");
  fake_cassandra b({}, "127.0.0.2");
  fake_cassandra b_moved({}, "127.0.0.3");  // b's process, come back on another address
  std::string b_id = host_id_cell(b.address(), b.port());
  b_moved.set_host_id(b_id);
  a.set_peers({{b.address(), b.port()}});
  auto s = session::connect(session_config_for(a));
  ASSERT_TRUE(s.ok()) << s.err().message;
  auto two_up = [](const std::vector<node_status>& nodes) {
    return nodes.size() == 2 && nodes[0].up && nodes[1].up;
  };
  auto before = nodes_once(**s, two_up);
  ASSERT_TRUE(two_up(before)) << listing(before);

  a.set_peers({{b_moved.address(), b_moved.port(), b_id}});
  ASSERT_TRUE(a.push_event(topology_event("MOVED_NODE", b_moved.address(), b_moved.port())));
  auto after = nodes_once(**s, [&](const std::vector<node_status>& nodes) {
    return two_up(nodes) && nodes[1].address == b_moved.address();
  });
  ASSERT_EQ(after.size(), 2u) << "one node, one place: " << listing(after);
  EXPECT_EQ(after[1].address, "127.0.0.3") << listing(after);
  EXPECT_EQ(after[1].port, b_moved.port());
  EXPECT_TRUE(after[1].up) << listing(after);
  // The moved node's connections are opened at its new address (the pool reconnects in
  // the background, so the node can be listed there a moment before its first STARTUP).
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (b_moved.startups().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(b_moved.startups().empty()) << "no connection reached the new address in 5 s";
}

TEST(CqlNodeIdentity, NodeListedTwiceByItsPeersIsOneNodeAtItsFirstAddress) {
  fake_cassandra a({}, "127.0.0.1");
  fake_cassandra b({}, "127.0.0.2");
  // A stale row: b under an address where nothing listens any more, same host_id.
  std::string b_id = host_id_cell(b.address(), b.port());
  a.set_peers({{b.address(), b.port()}, {"127.0.0.9", b.port(), b_id}});
  auto s = session::connect(session_config_for(a));
  ASSERT_TRUE(s.ok()) << s.err().message;
  auto nodes = nodes_once(
      **s, [](const std::vector<node_status>& n) { return n.size() == 2 && n[0].up && n[1].up; });
  ASSERT_EQ(nodes.size(), 2u) << listing(nodes);
  EXPECT_EQ(nodes[1].address, "127.0.0.2") << listing(nodes);
  // Every token has one owner: b's token range routes to b, never to the dead address.
  auto ring = (*s)->ring();
  for (const auto& n : ring.nodes()) EXPECT_NE(n.address, "127.0.0.9");
}

TEST(CqlNodeIdentity, PeerRowWithoutAHostIdIsLeftOutAndTheOthersKept) {
  fake_cassandra a({}, "127.0.0.1");
  fake_cassandra b({}, "127.0.0.2");
  fake_cassandra c({}, "127.0.0.3");
  a.set_peers({{b.address(), b.port()}, {c.address(), c.port(), {}, true}});
  auto s = session::connect(session_config_for(a));
  ASSERT_TRUE(s.ok()) << s.err().message;
  auto nodes = nodes_once(
      **s, [](const std::vector<node_status>& n) { return n.size() == 2 && n[0].up && n[1].up; });
  ASSERT_EQ(nodes.size(), 2u) << listing(nodes);
  EXPECT_EQ(nodes[1].address, "127.0.0.2");
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(c.startups().empty()) << "a node without identity should not be connected to";
}

}  // namespace
}  // namespace sluice::cql
