// Failure detection against scripted fake nodes: a node that stops answering without
// closing its socket (frozen, powered off: no RST) is found by the OPTIONS heartbeat and
// marked down within seconds, and requests move to the other node instead of each one
// waiting out the request timeout; requests that never left are sent elsewhere.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "cql/connection.h"
#include "cql/cql.h"
#include "cql/tests/fake_cassandra.h"

namespace sluice::cql {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

/// Answers every read with a void result.
struct reads_node {
  std::atomic<int> queries{0};
  std::optional<reply> operator()(const frame& f) {
    if (f.op != 0x07) return std::nullopt;
    if (!query_text(f).starts_with("SELECT v")) return std::nullopt;
    ++queries;
    return reply{0x08, be32(1)};  // RESULT Void
  }
};

bool node_up(session& s, const std::string& address) {
  for (const auto& n : s.nodes())
    if (n.address == address) return n.up;
  return false;
}

TEST(CqlFailureDetection, FrozenNodeIsMarkedDownByTheHeartbeatAndRequestsMoveOn) {
  reads_node script_a, script_b;
  fake_cassandra a(std::ref(script_a), "127.0.0.1");
  fake_cassandra b(std::ref(script_b), "127.0.0.2");
  a.set_peers({{"127.0.0.2", b.port()}});
  b.set_peers({{"127.0.0.1", a.port()}});
  session_config config;
  config.port = a.port();
  config.timeout = 20s;  // far longer than the test: only the heartbeat can save it
  config.heartbeat_timeout = 1s;
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  for (int i = 0; i < 100 && !node_up(**s, "127.0.0.2"); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(node_up(**s, "127.0.0.2")) << "the second node never came up";

  b.freeze();
  auto frozen_at = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration slowest{0};
  std::optional<std::chrono::steady_clock::duration> marked_down_after;
  for (int i = 0; i < 40; ++i) {
    auto started = std::chrono::steady_clock::now();
    auto r = (*s)->query("SELECT v FROM kv WHERE k = 1");  // a read: idempotent
    slowest = std::max(slowest, std::chrono::steady_clock::now() - started);
    ASSERT_TRUE(r.ok()) << r.err().describe();
    if (!marked_down_after && !node_up(**s, "127.0.0.2"))
      marked_down_after = std::chrono::steady_clock::now() - frozen_at;
    std::this_thread::sleep_for(100ms);
    if (std::chrono::steady_clock::now() - frozen_at > 12s) break;  // broken: fail, not hang
  }
  ASSERT_TRUE(marked_down_after.has_value()) << "the frozen node was never marked down";
  EXPECT_LT(*marked_down_after, 4s) << "heartbeat: 1 s of silence, then 1 s for OPTIONS";
  EXPECT_LT(slowest, 4s) << "a request waited on the frozen node";
  EXPECT_GE((*s)->stats().heartbeat_failures, 1u);
  for (const auto& n : (*s)->nodes()) {
    if (n.address == "127.0.0.2") {
      EXPECT_NE(n.last_error.find("heartbeat"), std::string::npos) << n.last_error;
    }
  }
}

TEST(CqlFailureDetection, IdleConnectionIsProbedAndAnsweredHeartbeatsKeepTheNodeUp) {
  std::atomic<int> options_seen{0};
  fake_cassandra node([&](const frame& f) -> std::optional<reply> {
    if (f.op == 0x05) ++options_seen;
    return std::nullopt;
  });
  session_config config;
  config.port = node.port();
  config.heartbeat_interval = 300ms;
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  std::this_thread::sleep_for(2s);
  EXPECT_GE(options_seen.load(), 3) << "no OPTIONS heartbeat on idle connections";
  EXPECT_EQ((*s)->stats().heartbeat_failures, 0u);
  ASSERT_FALSE((*s)->nodes().empty());
  EXPECT_TRUE((*s)->nodes().front().up);
}

TEST(CqlFailureDetection, BatchOfNothingStillCallsBackOnTheIoThread) {
  fake_cassandra node;
  session_config config;
  config.port = node.port();
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  prepared statement{"INSERT INTO kv (k) VALUES (?)", "id", {}, {}, ""};
  std::promise<std::thread::id> called_on;
  (*s)->execute_batch_async(
      statement, {}, [&](result<rows_result>) { called_on.set_value(std::this_thread::get_id()); });
  auto id = called_on.get_future().get();
  EXPECT_NE(id, std::this_thread::get_id()) << "called back on the caller's thread";
}

TEST(CqlFailureDetection, OversizedAnswerFailsItsOwnRequestAndTheConnectionGoesOn) {
  fake_cassandra node([](const frame& f) -> std::optional<reply> {
    if (f.op != 0x07) return std::nullopt;
    auto q = query_text(f);
    if (q == "SELECT big") {
      return reply{0x08, rows_body({{"v", type_varchar()}}, {{std::string(5000, 'x')}})};
    }
    if (q == "SELECT small") return reply{0x08, rows_body({{"v", type_varchar()}}, {{"ok"}})};
    return std::nullopt;
  });
  boost::asio::io_context io;
  connection_options options;
  options.port = node.port();
  options.max_frame_bytes = 1000;
  std::shared_ptr<connection> conn;
  std::optional<result<response>> big, small_before, small_after;
  auto ask = [&](const char* cql, std::optional<result<response>>& into,
                 std::function<void()> then) {
    std::string frame;
    write_query(frame, 0, cql, {});
    conn->send(std::move(frame), [&into, then](result<response> r) {
      into = std::move(r);
      if (then) then();
    });
  };
  connection::open(io, options, [&](result<std::shared_ptr<connection>> opened) {
    ASSERT_TRUE(opened.ok()) << opened.err().describe();
    conn = *opened;
    ask("SELECT small", small_before, nullptr);
    ask("SELECT big", big, [&] {
      ask("SELECT small", small_after, [&] { conn->close(make_error(errc::unavailable, "done")); });
    });
  });
  io.run_for(5s);
  ASSERT_TRUE(big && small_before && small_after) << "a request was never answered";
  ASSERT_FALSE(big->ok());
  EXPECT_NE(big->err().message.find("over the client's limit of 1000 bytes"), std::string::npos)
      << big->err().message;
  ASSERT_TRUE(small_before->ok()) << small_before->err().describe();
  ASSERT_TRUE(small_after->ok()) << small_after->err().describe();
  ASSERT_EQ((*small_after)->rows.rows.size(), 1u);
  EXPECT_EQ(*(*small_after)->rows.rows[0][0], "ok");
  conn.reset();
  io.run_for(100ms);
}

}  // namespace
}  // namespace sluice::cql
