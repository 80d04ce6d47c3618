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

/// Answers "fail <code>" with that code's ERROR; counts the QUERY frames per code.
struct failing_node {
  std::map<std::int32_t, std::string> extras;
  std::mutex mutex;
  std::map<std::int32_t, int> asked;
  std::optional<reply> operator()(const frame& f) {
    if (f.op != 0x07) return std::nullopt;
    auto q = query_text(f);
    if (!q.starts_with("fail ")) return std::nullopt;
    auto code = static_cast<std::int32_t>(std::stoi(q.substr(5), nullptr, 16));
    std::lock_guard lock(mutex);
    ++asked[code];
    return reply{0x00, error_body(code, message_for(code), extras[code])};
  }
  int times_asked(std::int32_t code) {
    std::lock_guard lock(mutex);
    return asked[code];
  }
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

session_config fake_config(const fake_cassandra& node) {
  session_config c;
  c.port = node.port();
  c.timeout = 3000ms;
  return c;
}

TEST(CqlServerErrors, EveryTypedCodeSurfacesWithItsCodeKindAndTheServersMessage) {
  failing_node script;
  for (const auto& c : all_cases()) script.extras[c.code] = c.extra;
  fake_cassandra node(std::ref(script));
  auto s = session::connect(fake_config(node));
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
  for (const auto& c : cases) script.extras[c.code] = c.extra;
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
  auto s = session::connect(fake_config(node));
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
  auto s = session::connect(fake_config(node));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  prepared stranger{"SELECT v FROM kv WHERE k = ?", "id-from-elsewhere", {}, {}, ""};
  auto r = (*s)->execute(stranger, {int_value(1)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::server) << r.err().describe();
  EXPECT_EQ(r.err().detail, 0x2500) << r.err().message;
  EXPECT_EQ(error_kind(r.err().detail), server_error_kind::unprepared);
  EXPECT_NE(r.err().message.find(message_for(0x2500)), std::string::npos) << r.err().message;
}

TEST(CqlServerErrors, IdempotentStatementsAreRetriedForTransientKindsOnly) {
  failing_node script;
  fake_cassandra node(std::ref(script));
  auto config = fake_config(node);
  config.idempotent_retry_for = 300ms;  // backoff 50, 100, 200 ms: a few tries
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  for (std::int32_t code : {0x1000, 0x1001, 0x1100, 0x1200}) {
    auto r = query_once(**s, fmt::format("fail {:x}", code), true);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().detail, code);
    EXPECT_GT(script.times_asked(code), 1) << fmt::format("0x{:04x} was not retried", code);
  }
  for (std::int32_t code : {0x2000, 0x2200, 0x2400, 0x1300, 0x1500}) {
    auto r = query_once(**s, fmt::format("fail {:x}", code), true);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.err().detail, code);
    EXPECT_EQ(script.times_asked(code), 1) << fmt::format("0x{:04x} was retried", code);
  }
}

}  // namespace
}  // namespace sluice::cql
