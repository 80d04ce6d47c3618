// The session against a real two-node Cassandra cluster with PasswordAuthenticator and
// optional client TLS, started by tests/integration/cql/test_cluster.py (which runs this
// binary with the cluster in the environment; without it every test fails, it does not
// skip): authentication, TLS, LZ4, discovery, token-aware routing, schema events, and a
// node restarted under load.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cql/cql.h"

namespace sluice::cql {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

session_config cluster_config() {
  session_config c;
  c.host = env("SLUICE_TEST_CLUSTER");
  c.auth = credentials{env("SLUICE_TEST_CLUSTER_USER"), env("SLUICE_TEST_CLUSTER_PASSWORD")};
  c.level = consistency::one;
  return c;
}

class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(env("SLUICE_TEST_CLUSTER").empty())
        << "SLUICE_TEST_CLUSTER is not set: run tests/integration/cql/test_cluster.py";
  }
  std::unique_ptr<session> open(session_config c = cluster_config()) {
    auto s = session::connect(c);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.err().message);
    return s.ok() ? std::move(*s) : nullptr;
  }
  /// Waits until the session has an open pool to every node it discovered.
  static bool all_up(session& s, std::size_t expected) {
    for (int i = 0; i < 100; ++i) {
      auto nodes = s.nodes();
      std::size_t up = 0;
      for (const auto& n : nodes) up += n.up ? 1 : 0;
      if (nodes.size() == expected && up == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  static void make_keyspace(session& s, const std::string& name, int replication_factor = 1) {
    ASSERT_TRUE(s.query("DROP KEYSPACE IF EXISTS " + name).ok());
    auto made =
        s.query(fmt::format("CREATE KEYSPACE {} WITH replication = {{'class': 'SimpleStrategy', "
                            "'replication_factor': {}}}",
                            name, replication_factor));
    ASSERT_TRUE(made.ok()) << made.err().message;
    auto table = s.query("CREATE TABLE " + name + ".kv (id int PRIMARY KEY, v text)");
    ASSERT_TRUE(table.ok()) << table.err().message;
  }
};

TEST_F(Cluster, RightPasswordConnectsAndDiscoversBothNodes) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(all_up(*s, 2));
  EXPECT_EQ(s->ring().nodes().size(), 2u);
  auto version = s->query("SELECT release_version FROM system.local");
  ASSERT_TRUE(version.ok()) << version.err().message;
  EXPECT_EQ(version->rows.size(), 1u);
}

TEST_F(Cluster, WrongPasswordIsRefusedWithTheServersMessage) {
  auto c = cluster_config();
  c.auth->password = "not-the-password";
  auto s = session::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("authentication as 'cassandra'"), std::string::npos)
      << s.err().message;
  EXPECT_NE(s.err().message.find("incorrect"), std::string::npos) << s.err().message;
  EXPECT_EQ(error_kind(s.err().detail), server_error_kind::authentication);
}

TEST_F(Cluster, MissingCredentialsSayWhatToGive) {
  auto c = cluster_config();
  c.auth.reset();
  auto s = session::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("requires authentication"), std::string::npos) << s.err().message;
  EXPECT_NE(s.err().message.find("PasswordAuthenticator"), std::string::npos) << s.err().message;
}

TEST_F(Cluster, TlsWithTheClusterCertificateConnectsAndRoundTrips) {
  auto c = cluster_config();
  c.tls = {true, env("SLUICE_TEST_CLUSTER_CA"), true};
  auto s = open(c);
  ASSERT_TRUE(s);
  make_keyspace(*s, "cql_tls");
  auto insert = s->prepare("INSERT INTO cql_tls.kv (id, v) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().message;
  ASSERT_TRUE(s->execute(*insert, {int_value(1), text_value("over TLS")}).ok());
  auto rows = s->query("SELECT v FROM cql_tls.kv WHERE id = 1");
  ASSERT_TRUE(rows.ok()) << rows.err().message;
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0].value_or(""), "over TLS");
}

TEST_F(Cluster, TlsWithAnUntrustedCertificateIsRefused) {
  auto c = cluster_config();
  c.tls = {true, "", true};  // the system CAs do not know the cluster's self-signed cert
  auto s = session::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.err().message.find("TLS handshake"), std::string::npos) << s.err().message;
}

TEST_F(Cluster, Lz4CompressedSessionRoundTripsLargeValues) {
  auto c = cluster_config();
  c.compression = "lz4";
  auto s = open(c);
  ASSERT_TRUE(s);
  make_keyspace(*s, "cql_lz4");
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "row " + std::to_string(i) + " ";
  auto insert = s->prepare("INSERT INTO cql_lz4.kv (id, v) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().message;
  ASSERT_TRUE(s->execute(*insert, {int_value(7), text_value(big)}).ok());
  auto rows = s->query("SELECT v FROM cql_lz4.kv WHERE id = 7");
  ASSERT_TRUE(rows.ok()) << rows.err().message;
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0].value_or(""), big);
}

TEST_F(Cluster, EveryWriteGoesToTheReplicaOwningItsKey) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(all_up(*s, 2));
  make_keyspace(*s, "cql_routing");
  auto insert = s->prepare("INSERT INTO cql_routing.kv (id, v) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().message;
  ASSERT_EQ(insert->partition_key_indexes, std::vector<int>{0});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // keyspace event -> replication
  auto ring = s->ring();
  std::map<std::string, std::uint64_t> expected, before;
  std::vector<std::vector<bound_value>> rows;
  for (int i = 0; i < 2000; ++i) {
    rows.push_back({int_value(i), text_value("v")});
    auto owner = ring.replicas(murmur3_token(*int_value(i)), {"SimpleStrategy", 1, {}});
    ASSERT_EQ(owner.size(), 1u);
    ++expected[owner[0]->address];
  }
  for (const auto& n : s->nodes()) before[n.address] = n.requests;
  for (const auto& r : s->execute_many(*insert, rows, 128)) ASSERT_TRUE(r.ok()) << r.err().message;
  for (const auto& n : s->nodes()) {
    EXPECT_EQ(n.requests - before[n.address], expected[n.address]) << n.address;
    EXPECT_GT(expected[n.address], 500u) << "keys should spread over both nodes";
    // For test_cluster.py, which checks these against the Python driver's own replica
    // map (a witness that does not share this client's ring or token code).
    std::printf("routed %s %llu\n", n.address.c_str(),
                static_cast<unsigned long long>(n.requests - before[n.address]));
  }
  // The server agrees on ownership: each node holds exactly the rows routed to it.
  auto count = s->query("SELECT count(*) FROM cql_routing.kv");
  ASSERT_TRUE(count.ok()) << count.err().message;
  EXPECT_EQ(read_bigint(*count->rows[0][0]), 2000);
}

TEST_F(Cluster, SchemaChangeEventsReachTheListener) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<server_event> events;
  auto c = cluster_config();
  c.on_event = [&](const server_event& e) {
    std::lock_guard lock(mutex);
    events.push_back(e);
    arrived.notify_all();
  };
  auto s = open(c);
  ASSERT_TRUE(s);
  make_keyspace(*s, "cql_events");
  std::unique_lock lock(mutex);
  bool seen = arrived.wait_for(lock, std::chrono::seconds(10), [&] {
    for (const auto& e : events) {
      if (e.type == "SCHEMA_CHANGE" && e.change == "CREATED" && e.target == "TABLE" &&
          e.keyspace == "cql_events" && e.name == "kv")
        return true;
    }
    return false;
  });
  EXPECT_TRUE(seen) << events.size() << " events, none for the new table";
}

/// Writes until the harness says the node is back (SLUICE_TEST_RESTART_DIR/restarted),
/// half of the writes marked idempotent; the harness stops and restarts a node meanwhile.
TEST_F(Cluster, NodeRestartUnderLoadRetriesIdempotentWritesAndFailsOthersCleanly) {
  namespace fs = std::filesystem;
  fs::path dir = env("SLUICE_TEST_RESTART_DIR");
  ASSERT_FALSE(dir.empty()) << "SLUICE_TEST_RESTART_DIR is not set: run test_cluster.py";
  auto c = cluster_config();
  c.idempotent_retry_for = std::chrono::seconds(150);
  c.timeout = std::chrono::seconds(5);
  auto s = open(c);
  ASSERT_TRUE(s);
  ASSERT_TRUE(all_up(*s, 2));
  make_keyspace(*s, "cql_restart");
  auto insert = s->prepare("INSERT INTO cql_restart.kv (id, v) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().message;

  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_flight = 0;
  std::vector<int> stored;
  std::vector<std::string> idempotent_failed;
  std::vector<std::string> other_failures, replica_failures;
  auto replica_verdict = [](const error& e) {
    return e.code == errc::server &&
           (e.detail == 0x1000 || e.detail == 0x1100 || e.detail == 0x1500);
  };
  std::ofstream(dir / "writing").put('\n');
  std::optional<std::chrono::steady_clock::time_point> restarted_seen;
  int id = 0;
  for (;; ++id) {
    auto now = std::chrono::steady_clock::now();
    if (!restarted_seen && fs::exists(dir / "restarted")) restarted_seen = now;
    if (restarted_seen && now > *restarted_seen + std::chrono::seconds(5)) break;
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return in_flight < 64; });
    ++in_flight;
    lock.unlock();
    bool idempotent = id % 2 == 0;
    s->execute_async(*insert, {int_value(id), text_value("v")},
                     [&, id, idempotent](result<rows_result> r) {
                       std::lock_guard guard(mutex);
                       if (r.ok()) {
                         stored.push_back(id);
                       } else if (replica_verdict(r.err())) {
                         // The coordinator's own answer for a key whose single replica was
                         // down: the retry policy (the Java driver's) gives it back after
                         // one more node for unavailable, at once for write timeouts and
                         // failures, idempotent or not.
                         replica_failures.push_back(r.err().message);
                       } else if (idempotent) {
                         idempotent_failed.push_back(r.err().message);
                       } else {
                         other_failures.push_back(r.err().message);
                       }
                       --in_flight;
                       changed.notify_all();
                     },
                     {.idempotent = idempotent});
    if (id % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(200), [&] { return in_flight == 0; }))
        << in_flight << " requests never completed";
  }
  EXPECT_TRUE(idempotent_failed.empty())
      << idempotent_failed.size() << " idempotent writes failed, e.g. " << idempotent_failed[0];
  EXPECT_FALSE(other_failures.empty() && replica_failures.empty())
      << "the restart should have failed some writes";
  for (const auto& m : other_failures) {
    EXPECT_NE(m.find("not retried: the statement is not marked idempotent"), std::string::npos)
        << m;
  }
  EXPECT_GE(s->stats().retries, 1u);
  EXPECT_GE(s->stats().reconnects, 1u);
  EXPECT_TRUE(all_up(*s, 2)) << "the session should be connected to the restarted node again";
  auto count = s->query("SELECT count(*) FROM cql_restart.kv");
  ASSERT_TRUE(count.ok()) << count.err().message;
  // Every acknowledged write is there; a plain write that failed may or may not have been
  // applied before its node went away (that is why it was not retried).
  auto rows_there = static_cast<std::size_t>(read_bigint(*count->rows[0][0]));
  EXPECT_GE(rows_there, stored.size());
  EXPECT_LE(rows_there, stored.size() + other_failures.size() + replica_failures.size());
  std::ofstream(dir / "summary") << id << " writes, " << stored.size() << " stored, "
                                 << other_failures.size() << " plain writes failed cleanly, "
                                 << replica_failures.size() << " refused by their replica, "
                                 << s->stats().retries << " retries\n";
}

}  // namespace
}  // namespace sluice::cql

namespace sluice::cql {
namespace {

/// Reads (idempotent) with 16 in flight while the harness freezes one node with SIGSTOP
/// (SLUICE_TEST_FREEZE_DIR/frozen holds its address) and thaws it (.../thawed): the
/// heartbeat marks it down within seconds, no read fails, none waits out the timeout, and
/// the node is used again once thawed.
TEST_F(Cluster, FrozenNodeIsMarkedDownWithinSecondsAndReadsMoveToTheOtherNode) {
  namespace fs = std::filesystem;
  using clock = std::chrono::steady_clock;
  fs::path dir = env("SLUICE_TEST_FREEZE_DIR");
  ASSERT_FALSE(dir.empty()) << "SLUICE_TEST_FREEZE_DIR is not set: run test_cluster.py";
  auto c = cluster_config();
  c.timeout = std::chrono::seconds(12);
  auto s = open(c);
  ASSERT_TRUE(s);
  ASSERT_TRUE(all_up(*s, 2));
  make_keyspace(*s, "cql_freeze", 2);  // both nodes hold every row: reads at ONE can move
  auto insert = s->prepare("INSERT INTO cql_freeze.kv (id, v) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.err().message;
  for (int id = 0; id < 200; ++id)
    ASSERT_TRUE(
        s->execute(*insert, {int_value(id), text_value("v")}, {.level = consistency::all}).ok());
  auto select = s->prepare("SELECT v FROM cql_freeze.kv WHERE id = ?");
  ASSERT_TRUE(select.ok()) << select.err().message;

  std::mutex mutex;
  std::condition_variable changed;
  std::size_t in_flight = 0, reads = 0;
  std::vector<std::string> failures;
  clock::duration slowest{0};
  std::ofstream(dir / "reading").put('\n');
  std::optional<clock::time_point> frozen_at, thawed_at, marked_down_at;
  std::string frozen_address;
  for (int id = 0;; ++id) {
    auto now = clock::now();
    if (!frozen_at && fs::exists(dir / "frozen")) {
      std::ifstream(dir / "frozen") >> frozen_address;
      if (!frozen_address.empty()) frozen_at = now;  // written whole (renamed into place)
    }
    if (frozen_at && !marked_down_at) {
      for (const auto& n : s->nodes())
        if (n.address == frozen_address && !n.up) marked_down_at = now;
    }
    if (!thawed_at && fs::exists(dir / "thawed")) thawed_at = now;
    if (thawed_at && now > *thawed_at + std::chrono::seconds(5)) break;
    if (now - (frozen_at ? *frozen_at : now) > std::chrono::seconds(120)) break;  // no harness
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return in_flight < 16; });
    ++in_flight;
    lock.unlock();
    auto sent = clock::now();
    s->execute_async(*select, {int_value(id % 200)}, [&, sent](result<rows_result> r) {
      std::lock_guard guard(mutex);
      ++reads;
      slowest = std::max(slowest, clock::now() - sent);
      if (!r.ok()) failures.push_back(r.err().message);
      --in_flight;
      changed.notify_all();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(60), [&] { return in_flight == 0; }));
  }
  ASSERT_TRUE(frozen_at && thawed_at) << "the harness never froze and thawed a node";
  ASSERT_TRUE(marked_down_at) << frozen_address << " was never marked down";
  auto detected =
      std::chrono::duration_cast<std::chrono::milliseconds>(*marked_down_at - *frozen_at);
  EXPECT_LT(detected, std::chrono::seconds(8))
      << "heartbeat detection took " << detected.count() << " ms";
  EXPECT_TRUE(failures.empty()) << failures.size() << " reads failed, e.g. " << failures[0];
  EXPECT_LT(slowest, std::chrono::seconds(10)) << "a read waited on the frozen node";
  EXPECT_GE(s->stats().heartbeat_failures, 1u);
  EXPECT_TRUE(all_up(*s, 2)) << "the thawed node was not used again";
  std::ofstream(dir / "summary")
      << reads << " reads, frozen node marked down after " << detected.count()
      << " ms, slowest read "
      << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms\n";
}

}  // namespace
}  // namespace sluice::cql
