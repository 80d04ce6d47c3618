// Frames a malicious node or a man in the middle could send: truncated EVENT addresses,
// [inet]s of the wrong size, absurd column and row counts, an LZ4 body claiming gigabytes,
// malformed system.peers rows. Each must close only the connection it arrived on with an
// error naming the problem (never a crash, an over-read or a huge allocation; the unit
// tests also run under ASan/UBSan), and a new connection to the node must still work.
#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>

#include "base/log.h"
#include "cql/compression.h"
#include "cql/connection.h"
#include "cql/cql.h"
#include "cql/protocol.h"
#include "cql/tests/fake_cassandra.h"
#include "cql/values.h"

namespace sluice::cql {
namespace {

using namespace testing_support;
using namespace std::chrono_literals;

// ------------------------------------------------------------------ frame bodies

std::string topology_event(const std::string& inet_and_port) {
  return str("TOPOLOGY_CHANGE") + str("NEW_NODE") + inet_and_port;
}
std::string status_event(const std::string& inet_and_port) {
  return str("STATUS_CHANGE") + str("UP") + inet_and_port;
}
/// RESULT Rows with No_metadata and `columns` claimed, then one row of one int cell.
std::string no_metadata_rows(std::int32_t columns) {
  return be32(2) + be32(0x0004) + be32(columns) + be32(1) + bytes(int_cell(7));
}
/// RESULT Rows of one int column claiming `rows` rows but holding one.
std::string rows_claiming(std::int32_t rows) {
  return be32(2) + be32(0x0001) + be32(1) + str("ks") + str("tbl") + str("v") + type_int() +
         be32(rows) + bytes(int_cell(7));
}

/// A fake node answering QUERY "hostile" with `bad`; everything else as usual.
fake_cassandra::handler answering_hostile_with(reply bad) {
  return [bad](const frame& f) -> std::optional<reply> {
    if (f.op == 0x07 && query_text(f) == "hostile") return bad;
    return std::nullopt;
  };
}

// ------------------------------------------------------------------ one connection

struct outcome {
  std::string open_error;
  std::optional<result<response>> answer;
  std::optional<error> closed;
};

/// Opens a connection to `node`, sends QUERY `cql`, waits for its answer (and, when it
/// failed, for the connection to close) and reports both.
outcome one_request(const fake_cassandra& node, const std::string& cql,
                    const std::string& compression = "") {
  boost::asio::io_context io;
  connection_options options;
  options.port = node.port();
  options.compression = compression;
  options.request_timeout = 3s;
  auto out = std::make_shared<outcome>();
  std::shared_ptr<connection> conn;
  connection::open(io, options, [&, out](result<std::shared_ptr<connection>> opened) {
    if (!opened) {
      out->open_error = opened.err().describe();
      return;
    }
    conn = *opened;
    conn->on_close([out](const error& why) { out->closed = why; });
    std::string frame;
    write_query(frame, 0, cql, {});
    conn->send(std::move(frame), [out](result<response> r) { out->answer = std::move(r); });
  });
  auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until && out->open_error.empty() &&
         !(out->answer && (out->answer->ok() || out->closed)))
    io.run_for(10ms);
  outcome seen = *out;
  if (conn) conn->close(make_error(errc::unavailable, "test over"));
  conn.reset();
  io.run_for(20ms);
  return seen;
}

/// The hostile request failed, the connection closed, and both errors contain `what`.
void expect_closed_naming(const outcome& o, const std::string& what) {
  ASSERT_TRUE(o.open_error.empty()) << o.open_error;
  ASSERT_TRUE(o.answer.has_value()) << "no answer to the request";
  ASSERT_FALSE(o.answer->ok()) << "a hostile frame was accepted";
  EXPECT_NE(o.answer->err().message.find(what), std::string::npos) << o.answer->err().message;
  ASSERT_TRUE(o.closed.has_value()) << "the connection stayed open";
  EXPECT_EQ(o.closed->code, errc::protocol) << o.closed->describe();
  EXPECT_NE(o.closed->message.find(what), std::string::npos) << o.closed->message;
}

/// A plain request on a new connection to the same node succeeds.
void expect_new_connection_works(const fake_cassandra& node, const std::string& compression = "") {
  auto o = one_request(node, "SELECT now() FROM system.local", compression);
  ASSERT_TRUE(o.open_error.empty()) << o.open_error;
  ASSERT_TRUE(o.answer.has_value());
  ASSERT_TRUE(o.answer->ok()) << o.answer->err().describe();
  EXPECT_EQ((*o.answer)->result_kind, 1);
  EXPECT_FALSE(o.closed.has_value());
}

TEST(CqlHostileFrames, EventWithTruncatedInetAddressClosesTheConnectionNamingIt) {
  reply bad{0x0C, topology_event(std::string(1, '\x04') + "\x7f\x00"), false, false, -1};
  fake_cassandra node(answering_hostile_with(bad));
  expect_closed_naming(one_request(node, "hostile"), "truncated [inet] address");
  expect_new_connection_works(node);
}

TEST(CqlHostileFrames, EventWithFiveByteInetClosesTheConnectionNamingTheLength) {
  reply bad{0x0C, status_event(std::string(1, '\x05') + "\x7f\x00\x00\x01\x01" + be32(9042)), false,
            false, -1};
  fake_cassandra node(answering_hostile_with(bad));
  expect_closed_naming(one_request(node, "hostile"), "[inet] address of 5 bytes");
  expect_new_connection_works(node);
}

TEST(CqlHostileFrames, NoMetadataRowsWithHugeColumnCountIsAnErrorNotAnAllocation) {
  fake_cassandra node(answering_hostile_with({0x08, no_metadata_rows(0x7FFFFFFF)}));
  expect_closed_naming(one_request(node, "hostile"), "bad column count 2147483647");
  expect_new_connection_works(node);
}

TEST(CqlHostileFrames, RowsCountBeyondTheBodyIsAnErrorNamingTheCount) {
  fake_cassandra node(answering_hostile_with({0x08, rows_claiming(0x7FFFFFFF)}));
  expect_closed_naming(one_request(node, "hostile"), "claims 2147483647 rows");
  expect_new_connection_works(node);
}

TEST(CqlHostileFrames, Lz4BodyClaimingTwoGigabytesIsRefusedBeforeAllocating) {
  reply bad{0x08, be32(0x80000000LL) + std::string("\x10\x00", 2)};
  bad.precompressed = true;
  fake_cassandra node(answering_hostile_with(bad));
  expect_closed_naming(one_request(node, "hostile", "lz4"), "LZ4 frame claims 2147483648");
  expect_new_connection_works(node, "lz4");
}

TEST(CqlHostileFrames, Lz4BodyClaimingMoreThan255TimesItsSizeIsRefused) {
  reply bad{0x08, be32(100 << 20) + std::string(64, '\0')};
  bad.precompressed = true;
  fake_cassandra node(answering_hostile_with(bad));
  expect_closed_naming(one_request(node, "hostile", "lz4"), "from 64 compressed");
  expect_new_connection_works(node, "lz4");
}

// ------------------------------------------------------------------ the session

/// Captures what the "cql.cluster" logger says while alive.
class captured_log {
 public:
  captured_log() : logger_(log::get("cql.cluster")) {
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
    logger_->sinks().push_back(sink_);
  }
  ~captured_log() { std::erase(logger_->sinks(), sink_); }
  std::string text() const {
    std::string all;
    for (const auto& line : sink_->last_formatted()) all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

/// A contact node whose system.peers_v2 lists a good peer (`good`) and the bad `rows`.
fake_cassandra::handler peers_with(const fake_cassandra& good, std::vector<row> bad_rows) {
  return [&good, bad_rows](const frame& f) -> std::optional<reply> {
    if (f.op != 0x07 || query_text(f).find("FROM system.peers_v2") == std::string::npos)
      return std::nullopt;
    std::vector<row> rows = bad_rows;
    rows.push_back({inet4(good.address()), std::string("dc1"), std::string("r1"),
                    set_cell({"5000"}), int_cell(good.port())});
    return reply{0x08, rows_body({{"native_address", type_inet()},
                                  {"data_center", type_varchar()},
                                  {"rack", type_varchar()},
                                  {"tokens", type_set_of_varchar()},
                                  {"native_port", type_int()}},
                                 rows)};
  };
}

/// A query on the session until it succeeds (pools may still be opening) or 5 s pass.
result<rows_result> query_until_ok(session& s, const std::string& cql) {
  auto until = std::chrono::steady_clock::now() + 5s;
  while (true) {
    auto r = s.query(cql);
    if (r.ok() || std::chrono::steady_clock::now() > until) return r;
    std::this_thread::sleep_for(50ms);
  }
}

TEST(CqlHostileFrames, PeersWithTooFewColumnsAreIgnoredWithAWarningAndTheSessionWorks) {
  captured_log log;
  fake_cassandra contact([](const frame& f) -> std::optional<reply> {
    if (f.op != 0x07 || query_text(f).find("FROM system.peers_v2") == std::string::npos)
      return std::nullopt;
    return reply{0x08, rows_body({{"native_address", type_inet()},
                                  {"data_center", type_varchar()},
                                  {"rack", type_varchar()}},
                                 {{inet4("127.0.0.1"), std::string("dc1"), std::string("r1")}})};
  });
  auto s = session::connect(session_config_for(contact));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  EXPECT_EQ((*s)->nodes().size(), 1u);  // the contact alone
  EXPECT_NE(log.text().find("need 4 columns, got 3"), std::string::npos) << log.text();
  auto r = query_until_ok(**s, "SELECT now() FROM system.local");
  EXPECT_TRUE(r.ok()) << r.err().describe();
}

TEST(CqlHostileFrames, PeerRowWithThreeByteInetIsSkippedWithAWarningAndTheSessionWorks) {
  captured_log log;
  fake_cassandra good;
  fake_cassandra contact(peers_with(good, {{std::string("\x7f\x00\x01", 3), std::string("dc1"),
                                            std::string("r1"), set_cell({"9"}), int_cell(9042)}}));
  auto s = session::connect(session_config_for(contact));
  ASSERT_TRUE(s.ok()) << s.err().describe();
  EXPECT_EQ((*s)->nodes().size(), 2u);
  EXPECT_NE(log.text().find("inet address of 3 bytes"), std::string::npos) << log.text();
  auto r = query_until_ok(**s, "SELECT now() FROM system.local");
  EXPECT_TRUE(r.ok()) << r.err().describe();
}

TEST(CqlHostileFrames, MalformedRowsCloseOneConnectionAndTheSessionGoesOn) {
  fake_cassandra node(answering_hostile_with({0x08, no_metadata_rows(0x7FFFFFFF)}));
  auto config = session_config_for(node);
  config.connections_per_node = 2;
  auto s = session::connect(config);
  ASSERT_TRUE(s.ok()) << s.err().describe();
  auto bad = (*s)->query("hostile");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.err().message.find("bad column count"), std::string::npos) << bad.err().message;
  auto r = query_until_ok(**s, "SELECT now() FROM system.local");
  EXPECT_TRUE(r.ok()) << r.err().describe();
}

// ------------------------------------------------------------------ parse_response

result<response> parse(opcode op, const std::string& body) {
  frame_header h;
  h.version = 0x84;
  h.op = op;
  return parse_response(h, body);
}

TEST(CqlHostileParse, EventWithNoAddressAtAllIsAnError) {
  auto r = parse(opcode::event, topology_event(""));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("no [inet] address"), std::string::npos) << r.err().message;
}

TEST(CqlHostileParse, EventWithZeroLengthInetIsAnError) {
  auto r = parse(opcode::event, status_event(std::string(1, '\0') + be32(9042)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("of 0 bytes"), std::string::npos) << r.err().message;
}

TEST(CqlHostileParse, EventWithInetButNoPortIsAnError) {
  auto r = parse(opcode::event, status_event(std::string(1, '\x04') + "\x7f\x00\x00\x01"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("truncated [inet]"), std::string::npos) << r.err().message;
}

TEST(CqlHostileParse, EventWithSixteenByteInetIsReadAsIpv6) {
  auto r = parse(opcode::event, status_event(std::string(1, '\x10') + std::string(15, '\0') +
                                             "\x01" + be32(9042)));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(r->event.address, "0:0:0:0:0:0:0:1");
  EXPECT_EQ(r->event.port, 9042);
}

TEST(CqlHostileParse, NoMetadataRowsWithNegativeColumnCountIsAnError) {
  auto r = parse(opcode::result, no_metadata_rows(-1));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("bad column count -1"), std::string::npos) << r.err().message;
}

TEST(CqlHostileParse, GlobalSpecColumnCountBeyondTheBodyIsAnError) {
  auto body = be32(2) + be32(0x0001) + be32(60000) + str("ks") + str("tbl") + str("v") + type_int();
  auto r = parse(opcode::result, body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("column count 60000"), std::string::npos) << r.err().message;
}

TEST(CqlHostileParse, ManyRowsOfNoColumnsIsAnError) {
  auto r = parse(opcode::result, be32(2) + be32(0x0004) + be32(0) + be32(0x7FFFFFFF));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("no columns"), std::string::npos) << r.err().message;
}

TEST(CqlHostileParse, PreparedWithAbsurdBindColumnCountIsAnError) {
  auto body = be32(4) + short_bytes("id") + be32(0x0001) + be32(0x7FFFFFFF) + be32(0);
  auto r = parse(opcode::result, body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("column count"), std::string::npos) << r.err().message;
}

TEST(CqlHostileLz4, ClaimAboveTheMaximumExpansionIsRefused) {
  auto r = lz4_decompress_body(be32(1 << 20) + std::string(8, '\0'));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("from 8 compressed"), std::string::npos) << r.err().message;
}

TEST(CqlHostileLz4, HighlyCompressibleBodyWithinTheRatioStillDecodes) {
  std::string plain(1 << 20, 'a');
  auto r = lz4_decompress_body(lz4_compress_body(plain));
  ASSERT_TRUE(r.ok()) << r.err().describe();
  EXPECT_EQ(*r, plain);
}

// Found by cql_frame_fuzz: a timestamp cell near INT64_MIN overflowed (signed) in the
// floor division of its rendering.
TEST(CqlHostileCells, TimestampCellsAtTheInt64ExtremesRenderWithoutOverflow) {
  column_type timestamp{type_id::timestamp, {}};
  auto oldest = cell_text(timestamp, std::string("\x80\x00\x00\x00\x00\x02\x00\x01", 8));
  EXPECT_NE(oldest.find("T"), std::string::npos) << oldest;
  auto newest = cell_text(timestamp, std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8));
  EXPECT_NE(newest.find("T"), std::string::npos) << newest;
  EXPECT_EQ(cell_text(timestamp, std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8)),
            "1969-12-31T23:59:59.999Z");
}

// ------------------------------------------------------------------ system.peers rows

rows_result node_rows(std::vector<row> rows) {
  rows_result r;
  auto column = [](std::string name, type_id id, std::vector<column_type> params = {}) {
    return column_spec{"system", "peers_v2", std::move(name), column_type{id, std::move(params)}};
  };
  r.columns = {column("native_address", type_id::inet), column("data_center", type_id::varchar),
               column("rack", type_id::varchar),
               column("tokens", type_id::set, {column_type{type_id::varchar, {}}}),
               column("native_port", type_id::int_)};
  r.rows = std::move(rows);
  return r;
}

TEST(CqlHostilePeers, BadRowsAreSkippedWithTheirReasonAndGoodRowsKept) {
  auto good = row{inet4("10.0.0.2"), std::string("dc1"), std::string("r1"), set_cell({"42"}),
                  int_cell(9042)};
  auto rows = node_rows({
      row{},                                                                   // no cells
      row{inet4("10.0.0.3")},                                                  // too few
      row{std::nullopt, std::string("dc1"), std::string("r1"), std::nullopt},  // null address
      row{std::string(16, '\1').substr(0, 7), std::string("dc1"), std::string("r1"),
          std::nullopt},  // 7-byte inet
      row{inet4("10.0.0.4"), std::string("dc1"), std::string("r1"), std::string("\x00\x00", 2)},
      row{inet4("10.0.0.5"), std::string("dc1"), std::string("r1"), set_cell({"x"})},
      row{inet4("10.0.0.6"), std::string("dc1"), std::string("r1"), set_cell({"1"}),
          std::string("\x01\x02", 2)},  // 2-byte port
      row{inet4("10.0.0.7"), std::string("dc1"), std::string("r1"), set_cell({"1"}), int_cell(-5)},
      good,
  });
  std::vector<std::string> skipped;
  auto nodes = nodes_from_rows(rows, &skipped);
  ASSERT_TRUE(nodes.ok()) << nodes.err().describe();
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].address, "10.0.0.2");
  EXPECT_EQ((*nodes)[0].port, 9042);
  ASSERT_EQ(skipped.size(), 8u);
  EXPECT_NE(skipped[0].find("0 cells"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("1 cells"), std::string::npos) << skipped[1];
  EXPECT_NE(skipped[2].find("null address"), std::string::npos) << skipped[2];
  EXPECT_NE(skipped[3].find("7 bytes"), std::string::npos) << skipped[3];
  EXPECT_NE(skipped[4].find("bad tokens"), std::string::npos) << skipped[4];
  EXPECT_NE(skipped[5].find("bad tokens"), std::string::npos) << skipped[5];
  EXPECT_NE(skipped[6].find("port cell of 2 bytes"), std::string::npos) << skipped[6];
  EXPECT_NE(skipped[7].find("port -5"), std::string::npos) << skipped[7];
}

}  // namespace
}  // namespace sluice::cql
