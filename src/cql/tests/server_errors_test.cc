// Every server ERROR code the client types, sent by a scripted fake node with the body
// layout of the v4 spec (section 9, including each code's extra fields): the error the
// session surfaces carries errc::server, the code in `detail`, the right error_kind()
// and the server's own message; transient kinds alone are retried for idempotent calls.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <future>

#include "cql/connection.h"
#include "cql/cql.h"
#include "cql/tests/fake_cassandra.h"

namespace sluice::cql {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

struct error_case {
  std::int32_t code;
  server_error_kind kind;
  std::string extra;  // the code's own fields after [string] message
};

std::vector<error_case> all_cases() {
  const std::string quorum = be16(0x0004);
  return {
      {0x0000, server_error_kind::server, ""},
      {0x000A, server_error_kind::protocol, ""},
      {0x0100, server_error_kind::authentication, ""},
      // <cl><required><alive>
      {0x1000, server_error_kind::unavailable, quorum + be32(3) + be32(1)},
      {0x1001, server_error_kind::overloaded, ""},
      {0x1002, server_error_kind::bootstrapping, ""},
      {0x1003, server_error_kind::truncate, ""},
      // <cl><received><blockfor><writeType>
      {0x1100, server_error_kind::write_timeout, quorum + be32(1) + be32(2) + str("SIMPLE")},
      // <cl><received><blockfor><data_present>
      {0x1200, server_error_kind::read_timeout, quorum + be32(1) + be32(2) + std::string(1, '\0')},
      // <cl><received><blockfor><numfailures><data_present>
      {0x1300, server_error_kind::read_failure,
       quorum + be32(1) + be32(2) + be32(1) + std::string(1, '\1')},
      // <keyspace><function><arg_types>
      {0x1400, server_error_kind::function_failure,
       str("ks") + str("fn") + be16(2) + str("int") + str("text")},
      // <cl><received><blockfor><numfailures><writeType>
      {0x1500, server_error_kind::write_failure,
       quorum + be32(1) + be32(2) + be32(1) + str("BATCH")},
      {0x2000, server_error_kind::syntax, ""},
      {0x2100, server_error_kind::unauthorized, ""},
      {0x2200, server_error_kind::invalid, ""},
      {0x2300, server_error_kind::config, ""},
      // <ks><table>
      {0x2400, server_error_kind::already_exists, str("ks") + str("tbl")},
  };
}

std::string message_for(std::int32_t code) {
  return fmt::format("fake message for 0x{:04x}: see node log", code);
}

/// Answers "fail <code>[ <variant>]" with that code's ERROR, its extra fields taken from
/// extras["<code>[ <variant>]"]; counts the QUERY frames per code and variant.
struct failing_node {
  std::map<std::string, std::string> extras;
  std::mutex mutex;
  std::map<std::string, int> asked;
  std::optional<reply> operator()(const frame& f) {
    if (f.op != 0x07) return std::nullopt;
    auto q = query_text(f);
    if (!q.starts_with("fail ")) return std::nullopt;
    auto key = q.substr(5);
    auto code = static_cast<std::int32_t>(std::stoi(key, nullptr, 16));
    std::lock_guard lock(mutex);
    ++asked[key];
    return reply{0x00, error_body(code, message_for(code), extras[key])};
  }
  int times_asked(const std::string& key) {
    std::lock_guard lock(mutex);
    return asked[key];
  }
  int times_asked(std::int32_t code) { return times_asked(fmt::format("{:x}", code)); }
};

/// A QUERY through query_async (not idempotent, so nothing is retried).
result<rows_result> query_once(session& s, const std::string& cql, bool idempotent = false) {
  std::promise<result<rows_result>> promise;
  auto future = promise.get_future();
  s.query_async(cql, query_params{},
                [&promise](result<rows_result> r) { promise.set_value(std::move(r)); },
                {.idempotent = idempotent});
  if (future.wait_for(10s) != std::future_status::ready)
    return make_error(errc::timeout, "no callback");
  return future.get();
}

TEST(CqlServerErrors, EveryTypedCodeSurfacesWithItsCodeKindAndTheServersMessage) {
  failing_node script;
  for (const auto& c : all_cases()) script.extras[fmt::format("{:x}", c.code)] = c.extra;
  fake_cassandra node(std::ref(script));
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  for (const auto& c : all_cases()) {
    auto cql = fmt::format("fail {:x}", c.code);
    SCOPED_TRACE(cql);
    auto r = query_once(**s, cql);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().code, errc::server) << r.err().describe();
    EXPECT_EQ(r.err().detail, c.code);
    EXPECT_EQ(error_kind(r.err().detail), c.kind);
    EXPECT_NE(r.err().message.find(message_for(c.code)), std::string::npos) << r.err().message;
    EXPECT_NE(r.err().message.find(std::string(error_name(c.code))), std::string::npos)
        << r.err().message;
    EXPECT_EQ(script.times_asked(c.code), 1) << "a non-idempotent statement was retried";
  }
}

TEST(CqlServerErrors, ConnectionParsesEveryErrorBodyToItsCodeExactMessageAndUnpreparedId) {
  failing_node script;
  auto cases = all_cases();
  cases.push_back({0x2500, server_error_kind::unprepared, short_bytes("\x01\x02id\xff")});
  for (const auto& c : cases) script.extras[fmt::format("{:x}", c.code)] = c.extra;
  fake_cassandra node(std::ref(script));
  boost::asio::io_context io;
  connection_options options;
  options.port = node.port();
  std::shared_ptr<connection> conn;
  std::map<std::int32_t, result<response>> answers;
  connection::open(io, options, [&](result<std::shared_ptr<connection>> opened) {
    ASSERT_TRUE(opened.ok()) << opened.err().describe();
    conn = *opened;
    for (const auto& c : cases) {
      std::string frame;
      write_query(frame, 0, fmt::format("fail {:x}", c.code), {});
      conn->send(std::move(frame), [&, code = c.code](result<response> r) {
        answers.emplace(code, std::move(r));
        if (answers.size() == cases.size()) conn->close(make_error(errc::unavailable, "done"));
      });
    }
  });
  io.run_for(5s);
  ASSERT_EQ(answers.size(), cases.size());
  for (const auto& c : cases) {
    SCOPED_TRACE(fmt::format("0x{:04x}", c.code));
    const auto& r = answers.at(c.code);
    ASSERT_TRUE(r.ok()) << r.err().describe();
    ASSERT_TRUE(r->error.has_value());
    EXPECT_EQ(r->op, opcode::error);
    EXPECT_EQ(r->error->code, c.code);
    EXPECT_EQ(r->error->message, message_for(c.code));  // extra fields not read into it
    EXPECT_EQ(error_kind(r->error->code), c.kind);
    if (c.code == 0x2500) {
      EXPECT_EQ(r->error->unprepared_id, "\x01\x02id\xff");
    }
  }
  conn.reset();
  io.run_for(100ms);
}

TEST(CqlServerErrors, UnknownCodeIsKindUnknownAndKeepsItsCodeAndMessage) {
  failing_node script;
  fake_cassandra node(std::ref(script));
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto r = query_once(**s, "fail 7777");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().detail, 0x7777);
  EXPECT_EQ(error_kind(r.err().detail), server_error_kind::unknown);
  EXPECT_NE(r.err().message.find(message_for(0x7777)), std::string::npos) << r.err().message;
}

TEST(CqlServerErrors, UnpreparedForAStatementTheSessionNeverPreparedKeepsCodeAndMessage) {
  // EXECUTE of an id this session never prepared (e.g. a `prepared` from another
  // session) that the node does not know: the caller should still see kind unprepared.
  fake_cassandra node([](const frame& f) -> std::optional<reply> {
    if (f.op != 0x0A) return std::nullopt;
    return reply{0x00, error_body(0x2500, message_for(0x2500), short_bytes(execute_id(f)))};
  });
  auto s = session::connect(session_config_for(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  prepared stranger{"SELECT v FROM kv WHERE k = ?", "id-from-elsewhere", {}, {}, ""};
  auto r = (*s)->execute(stranger, {int_value(1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::server) << r.err().describe();
  EXPECT_EQ(r.err().detail, 0x2500) << r.err().message;
  EXPECT_EQ(error_kind(r.err().detail), server_error_kind::unprepared);
  EXPECT_NE(r.err().message.find(message_for(0x2500)), std::string::npos) << r.err().message;
}

/// The extra fields of timeouts with chosen details (consistency QUORUM).
std::string write_timeout_extra(std::string_view write_type) {
  return be16(0x0004) + be32(1) + be32(2) + str(std::string(write_type));
}
std::string read_timeout_extra(std::int32_t received, std::int32_t block_for, bool data) {
  return be16(0x0004) + be32(received) + be32(block_for) + std::string(1, data ? '\1' : '\0');
}

struct retry_case {
  std::string key;  // "<code>[ <variant>]" as the failing node reads it
  std::string extra;
  int asked_when_idempotent;
  int asked_otherwise;
};

TEST(CqlServerErrors, RetriesFollowTheJavaDriversDefaultPolicyOnOneNode) {
  // One node, three rounds: "next node" means a new round after a backoff, allowed for
  // idempotent statements only once a statement may have run.
  const std::vector<retry_case> cases = {
      {"1000", all_cases()[3].extra, 2, 1},  // unavailable: once
      {"1001", "", 4, 1},                    // overloaded: every round
      {"0", "", 4, 1},                       // server error: every round
      {"1003", "", 4, 1},                    // truncate error: every round
      {"1002", "", 4, 1},                    // bootstrapping: every round
      {"1100 simple", write_timeout_extra("SIMPLE"), 1, 1},
      {"1100 batchlog", write_timeout_extra("BATCH_LOG"), 2, 1},
      {"1200 short", read_timeout_extra(1, 2, false), 1, 1},   // too few replicas
      {"1200 nodata", read_timeout_extra(2, 2, false), 2, 2},  // data replica slow: once
      {"1200 data", read_timeout_extra(2, 2, true), 1, 1},     // data came: give up
      {"1200 bare", "", 1, 1},                                 // no details: give up
      {"1300", all_cases()[9].extra, 1, 1},
      {"1500", all_cases()[11].extra, 1, 1},
      {"2000", "", 1, 1},
      {"2200", "", 1, 1},
  };
  for (bool idempotent : {true, false}) {
    failing_node script;
    for (const auto& c : cases) script.extras[c.key] = c.extra;
    fake_cassandra node(std::ref(script));
    auto config = session_config_for(node);
    config.retry_rounds = 3;
    config.idempotent_retry_for = 10s;
    auto s = session::connect(config);
    ASSERT_TRUE(s.ok()) << s.err().describe();
    for (const auto& c : cases) {
      SCOPED_TRACE(
          fmt::format("fail {} ({})", c.key, idempotent ? "idempotent" : "not idempotent"));
      auto r = query_once(**s, "fail " + c.key, idempotent);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(fmt::format("{:x}", r.err().detail), c.key.substr(0, c.key.find(' ')));
      EXPECT_EQ(script.times_asked(c.key), idempotent ? c.asked_when_idempotent : c.asked_otherwise)
          << r.err().message;
    }
  }
}

TEST(CqlServerErrors, RetriesAreCountedByReason) {
  failing_node script;
  fake_cassandra node(std::ref(script));
  auto config = session_config_for(node);
  config.retry_rounds = 3;
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  ASSERT_FALSE(query_once(**s, "fail 1001", true).ok());
  std::map<std::string, std::uint64_t> by_reason;
  for (const auto& [reason, count] : (*s)->stats().retries_by_reason) by_reason[reason] = count;
  EXPECT_EQ(by_reason["overloaded"], 3u);
  EXPECT_EQ(by_reason["unavailable"], 0u);
  EXPECT_EQ((*s)->stats().retries, 3u);
}

TEST(CqlServerErrors, SchemaStatementsAreNeverRetriedEvenWhenDeclaredIdempotent) {
  fake_cassandra node([](const frame& f) -> std::optional<reply> {
    if (f.op != 0x07 || !query_text(f).starts_with("CREATE")) return std::nullopt;
    return reply{0x00, error_body(0x1001, "overloaded", "")};
  });
  auto config = session_config_for(node);
  config.retry_rounds = 3;
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto r = query_once(**s, "CREATE TABLE t (k int PRIMARY KEY)", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ((*s)->stats().retries, 0u) << r.err().message;
  EXPECT_NE(r.err().message.find("not retried"), std::string::npos) << r.err().message;
}

TEST(CqlServerErrors, BlockingQueryOfAnUpdateIsNotRetriedButASelectIs) {
  std::atomic<int> updates{0}, selects{0};
  fake_cassandra node([&](const frame& f) -> std::optional<reply> {
    if (f.op != 0x07) return std::nullopt;
    auto q = query_text(f);
    if (q.starts_with("UPDATE"))
      ++updates;
    else if (q.starts_with("SELECT v"))
      ++selects;
    else
      return std::nullopt;
    return reply{0x00, error_body(0x1001, "overloaded", "")};
  });
  auto config = session_config_for(node);
  config.retry_rounds = 2;
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  EXPECT_FALSE((*s)->query("UPDATE counters SET n = n + 1 WHERE k = 1").ok());
  EXPECT_EQ(updates.load(), 1);
  EXPECT_FALSE((*s)->query("SELECT v FROM kv WHERE k = 1").ok());
  EXPECT_EQ(selects.load(), 3);
  EXPECT_FALSE((*s)->query("UPDATE kv SET v = 1 WHERE k = 1", {}, {.idempotent = true}).ok());
  EXPECT_EQ(updates.load(), 4);
}

}  // namespace
}  // namespace sluice::cql
