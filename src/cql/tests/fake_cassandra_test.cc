// The session against scripted fake nodes (fake_cassandra.h) that check what the client
// puts on the wire with their own decoder: LZ4 negotiated in STARTUP and every later
// frame an LZ4 body per spec section 5 (checked with liblz4 directly), re-prepare on
// UNPREPARED, and the wait for schema agreement after a schema change.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "cql/cql.h"
#include "cql/tests/fake_cassandra.h"

namespace sluice::cql {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

/// Checks that `f.body` is a complete, well-formed body of its opcode as the spec lays
/// it out (nothing missing, nothing left over); returns what is wrong, or "".
std::string body_problem(const frame& f) {
  cursor c{f.body};
  auto params = [&c] {  // <consistency><flags>[values][page_size][paging_state]
    auto level = c.be(2);
    if (level > 10) c.ok = false;
    auto flags = c.be(1);
    if (flags & 0x01) {
      auto n = c.be(2);
      for (std::int64_t i = 0; i < n && c.ok; ++i) {
        auto len = static_cast<std::int32_t>(c.be(4));
        if (len > 0) c.take(static_cast<std::size_t>(len));
      }
    }
    if (flags & 0x04) c.be(4);
    if (flags & 0x08) c.take(static_cast<std::size_t>(c.be(4)));
    if (flags & ~0x0D) c.ok = false;  // flags the client never sets
  };
  switch (f.op) {
    case 0x05:  // OPTIONS
      break;
    case 0x07:  // QUERY
      if (c.long_string().empty()) return "QUERY without text";
      params();
      break;
    case 0x09:  // PREPARE
      if (c.long_string().empty()) return "PREPARE without text";
      break;
    case 0x0A:  // EXECUTE
      if (c.short_bytes().empty()) return "EXECUTE without id";
      params();
      break;
    case 0x0B: {  // REGISTER
      auto n = c.be(2);
      for (std::int64_t i = 0; i < n && c.ok; ++i) c.string();
      break;
    }
    default:
      return "unexpected opcode " + std::to_string(f.op);
  }
  if (!c.ok) return "truncated or malformed body";
  if (!c.data.empty()) return std::to_string(c.data.size()) + " bytes left over";
  return "";
}

std::string big_payload() {
  std::string p;
  for (int i = 0; p.size() < 20000; ++i) p += "row " + std::to_string(i % 17) + " of the fake; ";
  return p;
}

/// Answers "SELECT payload FROM big" with one 20 kB text cell.
std::optional<reply> big_rows(const frame& f) {
  if (f.op == 0x07 && query_text(f) == "SELECT payload FROM big")
    return reply{0x08, rows_body({{"payload", type_varchar()}}, {{big_payload()}})};
  return std::nullopt;
}

TEST(CqlFakeCassandra, Lz4SessionAsksForLz4InStartupAndSendsEveryLaterFrameAsAnLz4Body) {
  fake_cassandra node(big_rows);
  auto config = session_config_for(node);
  config.compression = "lz4";
  {
    auto s = session::connect(config);
    ASSERT_TRUE(s.ok()) << s.err().describe();
    // The reply is compressed (the fake compresses after READY): decoding it proves the
    // client inflates what the server sends.
    auto rows = (*s)->query("SELECT payload FROM big");
    ASSERT_TRUE(rows.ok()) << rows.err().describe();
    ASSERT_EQ(rows->rows.size(), 1u);
    EXPECT_EQ(rows->rows[0][0], big_payload());
    auto p = (*s)->prepare("SELECT v FROM kv WHERE k = ?");
    ASSERT_TRUE(p.ok()) << p.err().describe();
  }
  auto startups = node.startups();
  ASSERT_GE(startups.size(), 2u);  // the control connection and the node's pool
  for (const auto& options : startups) {
    auto compression = options.find("COMPRESSION");
    ASSERT_NE(compression, options.end());
    EXPECT_EQ(compression->second, "lz4");
    EXPECT_EQ(options.count("CQL_VERSION"), 1u);
  }
  std::set<int> compressed_ops;
  bool saw_big_query = false;
  for (const auto& f : node.frames()) {
    SCOPED_TRACE("connection " + std::to_string(f.connection) + " opcode " + std::to_string(f.op));
    if (f.op == 0x01) {  // STARTUP travels before compression is agreed
      EXPECT_EQ(f.flags & 0x01, 0);
      continue;
    }
    EXPECT_EQ(f.flags & 0x01, 0x01) << "a frame after READY without the compression flag";
    EXPECT_TRUE(f.inflated) << "not a 4-byte big-endian length + LZ4 block";
    EXPECT_EQ(body_problem(f), "");
    if (f.flags & 0x01) compressed_ops.insert(f.op);
    saw_big_query = saw_big_query || (f.op == 0x07 && query_text(f) == "SELECT payload FROM big");
  }
  EXPECT_TRUE(saw_big_query);
  EXPECT_EQ(compressed_ops, (std::set<int>{0x07, 0x09, 0x0B}));  // QUERY, PREPARE, REGISTER
}

TEST(CqlFakeCassandra, SessionWithoutCompressionLeavesItOutOfStartupAndFlagsNoFrame) {
  fake_cassandra node(big_rows);
  {
    auto s = session::connect(session_config_for(node));
    ASSERT_TRUE(s.ok()) << s.err().describe();
    auto rows = (*s)->query("SELECT payload FROM big");
    ASSERT_TRUE(rows.ok()) << rows.err().describe();
    EXPECT_EQ(rows->rows.at(0).at(0), big_payload());
  }
  auto startups = node.startups();
  ASSERT_GE(startups.size(), 2u);
  for (const auto& options : startups) {
    EXPECT_EQ(options.count("COMPRESSION"), 0u);
    EXPECT_EQ(options.count("CQL_VERSION"), 1u);
  }
  auto frames = node.frames();
  EXPECT_GT(frames.size(), 5u);
  for (const auto& f : frames) {
    EXPECT_EQ(f.flags & 0x01, 0) << "opcode " << int(f.op);
    if (f.op != 0x01) {
      EXPECT_EQ(body_problem(f), "") << "opcode " << int(f.op);
    }
  }
}

TEST(CqlFakeCassandra, CompressedReplyWhenNoneWasNegotiatedIsAProtocolErrorNotAMisparse) {
  fake_cassandra node([](const frame& f) -> std::optional<reply> {
    if (f.op != 0x07 || query_text(f) != "SELECT payload FROM big") return std::nullopt;
    reply r{0x08, rows_body({{"payload", type_varchar()}}, {{std::string("x")}})};
    r.compressed = true;
    return r;
  });
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto rows = (*s)->query("SELECT payload FROM big");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.err().code, errc::protocol);
  EXPECT_NE(rows.err().message.find("compressed frame"), std::string::npos) << rows.err().message;
}

// ------------------------------------------------------------------ re-prepare

constexpr std::string_view kv_select = "SELECT v FROM kv WHERE k = ?";

/// A node that knows the statement as `ids[0]`, answers its first `forget` EXECUTEs with
/// UNPREPARED, and each re-PREPARE with the next id of `ids` (the last one repeated).
struct forgetful_node {
  std::vector<std::string> ids;
  int forget = 1;
  std::atomic<int> prepares{0}, executes{0};
  std::optional<reply> operator()(const frame& f) {
    if (f.op == 0x09 && query_text(f) == kv_select) {
      int n = prepares++;
      // The first two PREPAREs are prepare() and its broadcast to the node's pool.
      auto i = static_cast<std::size_t>(std::max(0, n - 1));
      return reply{0x08, prepared_body(ids[std::min(i, ids.size() - 1)], 1)};
    }
    if (f.op == 0x0A) {
      if (executes++ < forget) {
        auto id = execute_id(f);
        return reply{0x00, error_body(0x2500, "Prepared query with ID " + id + " not found",
                                      short_bytes(id))};
      }
      return reply{0x08, rows_body({{"v", type_int()}}, {{int_cell(42)}})};
    }
    return std::nullopt;
  }
};

/// The PREPARE and EXECUTE frames from the first EXECUTE on.
std::vector<frame> from_first_execute(const fake_cassandra& node) {
  std::vector<frame> out;
  for (const auto& f : node.frames()) {
    if (f.op == 0x0A || (!out.empty() && f.op == 0x09)) out.push_back(f);
  }
  return out;
}

TEST(CqlFakeCassandra, UnpreparedAnswerIsFollowedByPrepareOfTheSameTextAndTheSameExecute) {
  forgetful_node script{{"id-kv-1"}, 1};
  fake_cassandra node(std::ref(script));
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto p = (*s)->prepare(std::string(kv_select));
  ASSERT_TRUE(p.ok()) << p.err().describe();
  ASSERT_EQ(p->id, "id-kv-1");
  auto rows = (*s)->execute(*p, {int_value(7)});
  ASSERT_TRUE(rows.ok()) << rows.err().describe();
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->rows[0][0], int_cell(42));
  EXPECT_EQ((*s)->stats().reprepares, 1u);

  auto seq = from_first_execute(node);
  ASSERT_EQ(seq.size(), 3u) << "expected EXECUTE, PREPARE, EXECUTE";
  EXPECT_EQ(seq[0].op, 0x0A);
  EXPECT_EQ(seq[1].op, 0x09);
  EXPECT_EQ(query_text(seq[1]), kv_select);
  EXPECT_EQ(seq[2].op, 0x0A);
  EXPECT_EQ(execute_id(seq[2]), "id-kv-1");
  EXPECT_EQ(seq[2].body, seq[0].body) << "the re-sent EXECUTE must bind the same values";
  // Re-prepared on the node that forgot it, over the same connection.
  EXPECT_EQ(seq[1].connection, seq[0].connection);
  EXPECT_EQ(seq[2].connection, seq[0].connection);
}

TEST(CqlFakeCassandra, NodeThatKeepsForgettingTheStatementFailsTheCallAfterTwoReprepares) {
  forgetful_node script{{"id-kv-1"}, 1000};
  fake_cassandra node(std::ref(script));
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto p = (*s)->prepare(std::string(kv_select));
  ASSERT_TRUE(p.ok()) << p.err().describe();
  auto rows = (*s)->execute(*p, {int_value(7)});
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.err().code, errc::server);
  EXPECT_EQ(rows.err().detail, 0x2500);
  EXPECT_EQ(error_kind(rows.err().detail), server_error_kind::unprepared);
  EXPECT_NE(rows.err().message.find("not found"), std::string::npos) << rows.err().message;
  EXPECT_EQ(script.executes.load(), 3);  // the first try and two after re-preparing
}

/// A node that forgets the statement, is overloaded, then forgets it again: its n-th
/// EXECUTE answers UNPREPARED, OVERLOADED, UNPREPARED, then rows.
struct forgetful_overloaded_node {
  std::atomic<int> executes{0};
  std::optional<reply> operator()(const frame& f) {
    if (f.op == 0x09 && query_text(f) == kv_select) return reply{0x08, prepared_body("id-kv-1", 1)};
    if (f.op != 0x0A) return std::nullopt;
    int n = executes++;
    if (n == 0 || n == 2) {
      auto id = execute_id(f);
      return reply{
          0x00, error_body(0x2500, "Prepared query with ID " + id + " not found", short_bytes(id))};
    }
    if (n == 1) return reply{0x00, error_body(0x1001, "overloaded")};
    return reply{0x08, rows_body({{"v", type_int()}}, {{int_cell(42)}})};
  }
};

// One read meets the statement forgotten on every node it is sent to (nodes restarted one
// after the other): each node gets its own two re-PREPAREs, so the read succeeds. With
// one budget for the whole request, the third UNPREPARED (back on the first node after
// both were overloaded) failed the read.
TEST(CqlFakeCassandra, EveryNodeARequestMovesToGetsItsOwnReprepares) {
  forgetful_overloaded_node script_a, script_b;
  fake_cassandra a(std::ref(script_a), "127.0.0.1");
  fake_cassandra b(std::ref(script_b), "127.0.0.2");
  a.set_peers({{b.address(), b.port()}});
  auto s = session::connect(session_config_for(a));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  auto both_up = [&] {
    auto nodes = (*s)->nodes();
    return nodes.size() == 2 && nodes[0].up && nodes[1].up;
  };
  while (!both_up() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(both_up());
  auto p = (*s)->prepare(std::string(kv_select));
  ASSERT_TRUE(p.ok()) << p.err().describe();
  auto rows = (*s)->execute(*p, {int_value(7)});
  ASSERT_TRUE(rows.ok()) << rows.err().describe();
  EXPECT_EQ(rows->rows[0][0], int_cell(42));
  EXPECT_EQ((*s)->stats().reprepares, 3u);  // first node, second node, first node again
  EXPECT_EQ(script_a.executes.load() + script_b.executes.load(), 6);
}

TEST(CqlFakeCassandra, ReprepareThatYieldsAnotherIdFailsAskingToPrepareAgain) {
  // Protocol v4 ids are a digest of keyspace and text, so a new id means the statement
  // is not what the session prepared: the client refuses to re-send the old frame.
  forgetful_node script{{"id-kv-1", "id-kv-2"}, 1};
  fake_cassandra node(std::ref(script));
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto p = (*s)->prepare(std::string(kv_select));
  ASSERT_TRUE(p.ok()) << p.err().describe();
  auto rows = (*s)->execute(*p, {int_value(7)});
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.err().message.find("prepare it again"), std::string::npos) << rows.err().message;
  EXPECT_EQ(script.executes.load(), 1);
}

// ------------------------------------------------------------------ schema agreement

/// Shared by two fake nodes: a schema change, then `disagreeing` polls in which the peer
/// still reports the old schema version.
struct schema_script {
  int disagreeing = 3;
  std::atomic<int> peer_polls{0}, local_polls{0};
  std::atomic<bool> changed{false};
  std::optional<reply> answer(const frame& f, const std::string& other_address) {
    if (f.op != 0x07) return std::nullopt;
    auto q = query_text(f);
    const std::string agreed(16, '\xA1'), old(16, '\x0B');
    if (q.starts_with("CREATE TABLE")) {
      changed = true;
      return reply{0x08, schema_change_body("ks", "fresh")};
    }
    if (q == "SELECT schema_version FROM system.local") {
      ++local_polls;
      return reply{0x08, rows_body({{"schema_version", type_uuid()}}, {{agreed}})};
    }
    if (q == "SELECT peer, rpc_address, schema_version FROM system.peers") {
      int n = ++peer_polls;
      return reply{0x08, rows_body({{"peer", type_inet()},
                                    {"rpc_address", type_inet()},
                                    {"schema_version", type_uuid()}},
                                   {{inet4(other_address), inet4(other_address),
                                     n <= disagreeing ? old : agreed}})};
    }
    return std::nullopt;
  }
};

bool wait_until_up(session& s, std::size_t nodes) {
  for (int i = 0; i < 100; ++i) {
    std::size_t up = 0;
    for (const auto& n : s.nodes()) up += n.up ? 1 : 0;
    if (up == nodes) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(CqlFakeCassandra, SchemaChangeReturnsOnlyOnceEveryUpNodeReportsTheSameSchemaVersion) {
  schema_script script;
  fake_cassandra a([&](const frame& f) { return script.answer(f, "127.0.0.2"); }, "127.0.0.1");
  fake_cassandra b([&](const frame& f) { return script.answer(f, "127.0.0.1"); }, "127.0.0.2");
  a.set_peers({{"127.0.0.2", b.port()}});
  b.set_peers({{"127.0.0.1", a.port()}});
  auto s = session::connect(session_config_for(a));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  ASSERT_TRUE(wait_until_up(**s, 2)) << "the peer's pool never came up";
  auto started = std::chrono::steady_clock::now();
  auto r = (*s)->query("CREATE TABLE fresh (k int PRIMARY KEY)");
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_TRUE(script.changed);
  // Three polls saw the peer on the old version, the fourth saw agreement; the call
  // returned then and not before.
  EXPECT_EQ(script.peer_polls.load(), 4);
  EXPECT_EQ(script.local_polls.load(), 4);
  EXPECT_GE(took, 3 * 150ms);  // the polls are ~200 ms apart
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(script.peer_polls.load(), 4) << "kept polling after agreement";
}

TEST(CqlFakeCassandra, SchemaAgreementIgnoresAPeerTheSessionDoesNotSeeUp) {
  // system.peers lists 127.0.0.9 on an old version, but no such node is up: the
  // schema change returns after one poll.
  schema_script script;
  script.disagreeing = 1000;
  fake_cassandra a([&](const frame& f) { return script.answer(f, "127.0.0.9"); });
  auto s = session::connect(session_config_for(a));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto r = (*s)->query("CREATE TABLE fresh (k int PRIMARY KEY)");
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(script.peer_polls.load(), 1);
}

}  // namespace
}  // namespace sluice::cql
