// Speculative execution against scripted fake nodes: one node answers reads a second
// late, the other at once. With a 50 ms speculative delay every idempotent read comes
// back in well under that second (the slow node's answer, arriving later, is dropped);
// without it the reads that start at the slow node wait it out; a statement that is not
// idempotent is never sent twice.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cql/cql.h"
#include "cql/tests/fake_cassandra.h"

namespace sluice::cql {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

/// Answers "SELECT v"/"UPDATE v" with a void result after `delay`, counting each kind.
struct slow_node {
  std::chrono::milliseconds delay;
  std::atomic<int> reads{0}, writes{0};
  std::optional<reply> operator()(const frame& f) {
    if (f.op != 0x07) return std::nullopt;
    auto q = query_text(f);
    if (q.starts_with("SELECT v")) {
      ++reads;
    } else if (q.starts_with("UPDATE v")) {
      ++writes;
    } else {
      return std::nullopt;
    }
    std::this_thread::sleep_for(delay);
    return reply{0x08, be32(1)};  // RESULT Void
  }
};

struct two_nodes {
  slow_node slow_script{1000ms}, fast_script{0ms};
  fake_cassandra slow{std::ref(slow_script), "127.0.0.1"};
  fake_cassandra fast{std::ref(fast_script), "127.0.0.2"};
  two_nodes() { slow.set_peers({{"127.0.0.2", fast.port()}}); }

  std::unique_ptr<session> open(std::chrono::milliseconds speculative_delay) {
    auto config = session_config_for(slow);
    config.speculative_delay = speculative_delay;
    auto s = session::connect(config);
    EXPECT_TRUE(s.ok()) << s.err().message;
    if (!s) return nullptr;
    for (int i = 0; i < 100; ++i) {  // both pools open
      auto nodes = (*s)->nodes();
      if (nodes.size() == 2 && nodes[0].up && nodes[1].up) break;
      std::this_thread::sleep_for(50ms);
    }
    return std::move(*s);
  }
};

std::chrono::milliseconds timed(const std::function<void()>& call) {
  auto start = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST(CqlSpeculativeExecution, IdempotentReadsDoNotWaitForTheSlowNode) {
  two_nodes cluster;
  auto s = cluster.open(50ms);
  ASSERT_TRUE(s);
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < 8; ++i) {
    auto took = timed([&] {
      auto r = s->query("SELECT v FROM t");
      EXPECT_TRUE(r.ok()) << r.err().message;
    });
    slowest = std::max(slowest, took);
  }
  EXPECT_LT(slowest, 600ms) << "a read waited for the slow node";
  EXPECT_GE(cluster.slow_script.reads.load(), 1) << "the plan never started at the slow node";
  EXPECT_GE(s->stats().speculative_executions, 1u);
  EXPECT_EQ(s->stats().failed, 0u);
}

TEST(CqlSpeculativeExecution, OffByDefaultReadsStartingAtTheSlowNodeWaitForIt) {
  two_nodes cluster;
  auto s = cluster.open(0ms);
  ASSERT_TRUE(s);
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < 4; ++i)
    slowest = std::max(slowest, timed([&] { EXPECT_TRUE(s->query("SELECT v FROM t").ok()); }));
  EXPECT_GE(slowest, 900ms);
  EXPECT_EQ(s->stats().speculative_executions, 0u);
}

TEST(CqlSpeculativeExecution, StatementNotMarkedIdempotentIsNeverSentTwice) {
  two_nodes cluster;
  auto s = cluster.open(50ms);
  ASSERT_TRUE(s);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(s->query("UPDATE v SET n = n + 1").ok());
  EXPECT_EQ(cluster.slow_script.writes.load() + cluster.fast_script.writes.load(), 4);
  EXPECT_GE(cluster.slow_script.writes.load(), 1) << "the plan never started at the slow node";
  EXPECT_EQ(s->stats().speculative_executions, 0u);
}

}  // namespace
}  // namespace sluice::cql
