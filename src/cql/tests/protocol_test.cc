// Tests of the pure CQL codec: frame headers, primitives, and malformed input that
// must give an error, never a crash or an over-read.
#include <gtest/gtest.h>

#include <random>

#include "cql/protocol.h"
#include "cql/values.h"

namespace sluice::cql {
namespace {

TEST(CqlFrame, QueryFrameHasV4HeaderAndPatchedLength) {
  std::string out;
  write_query(out, 7, "SELECT 1", {});
  ASSERT_GE(out.size(), header_size);
  auto h = parse_header(out);
  ASSERT_TRUE(h.ok()) << h.err().describe();
  EXPECT_EQ(h->version, 4);
  EXPECT_EQ(h->stream, 7);
  EXPECT_EQ(h->op, opcode::query);
  EXPECT_EQ(h->length, out.size() - header_size);
}

TEST(CqlFrame, TruncatedHeaderIsAnError) {
  EXPECT_FALSE(parse_header(std::string("\x84\x00\x00", 3)).ok());
}

TEST(CqlFrame, UnknownOpcodeIsAnError) {
  std::string h("\x84\x00\x00\x01\x42\x00\x00\x00\x00", 9);
  auto parsed = parse_header(h);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.err().message.find("opcode"), std::string::npos);
}

TEST(CqlFrame, AbsurdBodyLengthIsAnError) {
  std::string h("\x84\x00\x00\x01\x08\x7f\xff\xff\xff", 9);
  EXPECT_FALSE(parse_header(h).ok());
}

TEST(CqlFrame, ErrorResponseCarriesCodeAndMessage) {
  std::string body;
  writer w{body};
  w.i32(0x2200);
  w.string("unconfigured table nope");
  frame_header h;
  h.op = opcode::error;
  auto r = parse_response(h, body);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->code, 0x2200);
  EXPECT_EQ(r->error->message, "unconfigured table nope");
  EXPECT_EQ(error_name(0x2200), "invalid query");
}

TEST(CqlFrame, NullIsLengthMinusOneAndUnsetIsMinusTwo) {
  std::string body;
  writer w{body};
  w.bytes(std::nullopt);
  w.bytes(unset_value());
  w.bytes(std::string("ab"));
  EXPECT_EQ(body, std::string("\xff\xff\xff\xff\xff\xff\xff\xfe\x00\x00\x00\x02"
                              "ab",
                              14));
}

TEST(CqlFrame, RowsResultParsesColumnsAndCells) {
  std::string body;
  writer w{body};
  w.i32(2);     // rows
  w.i32(0x01);  // global table spec
  w.i32(2);     // columns
  w.string("ks");
  w.string("t");
  w.string("id");
  w.i16(0x0009);  // int
  w.string("name");
  w.i16(0x000D);  // varchar
  w.i32(1);       // one row
  w.bytes(int_value(42));
  w.bytes(std::nullopt);
  frame_header h;
  h.op = opcode::result;
  auto r = parse_response(h, body);
  ASSERT_TRUE(r.ok()) << r.err().describe();
  ASSERT_EQ(r->rows.columns.size(), 2u);
  EXPECT_EQ(r->rows.columns[1].name, "name");
  ASSERT_EQ(r->rows.rows.size(), 1u);
  EXPECT_EQ(read_int(*r->rows.rows[0][0]), 42);
  EXPECT_FALSE(r->rows.rows[0][1].has_value());
}

TEST(CqlFrame, RandomAndTruncatedBodiesNeverCrash) {
  std::mt19937 rng(7);
  frame_header h;
  h.op = opcode::result;
  for (int i = 0; i < 20000; ++i) {
    std::string body(rng() % 64, '\0');
    for (auto& c : body) c = static_cast<char>(rng());
    (void)parse_response(h, body);
  }
  std::string good;
  writer w{good};
  w.i32(2);
  w.i32(0x01);
  w.i32(1);
  w.string("ks");
  w.string("t");
  w.string("c");
  w.i16(0x0020);
  w.i16(0x000D);
  w.i32(1);
  w.bytes(std::string("abc"));
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(parse_response(h, good.substr(0, cut)).ok()) << cut;
  }
}

TEST(CqlValues, UuidRoundTripsAndGarbageIsRejected) {
  auto v = uuid_value("7f1d2c3a-1b2c-4d5e-8f90-0123456789ab");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(uuid_text(**v), "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab");
  EXPECT_FALSE(uuid_value("7f1d2c3a1b2c4d5e8f900123456789ab").ok());
  EXPECT_FALSE(uuid_value("7f1d2c3a-1b2c-4d5e-8f90-0123456789zz").ok());
}

TEST(CqlValues, DatesAndTimestampsRenderAsIso8601) {
  column_type date{type_id::date, {}};
  column_type ts{type_id::timestamp, {}};
  EXPECT_EQ(cell_text(date, *date_value(-25567)), "1900-01-01");
  EXPECT_EQ(cell_text(date, *date_value(11016)), "2000-02-29");
  EXPECT_EQ(cell_text(ts, *timestamp_value(1433161845123)), "2015-06-01T12:30:45.123Z");
}

TEST(CqlValues, DatesAreCentredOnTwoToThe31) {
  EXPECT_EQ(read_date_days(*date_value(0)), 0);
  EXPECT_EQ(read_date_days(*date_value(-25567)), -25567);
  EXPECT_EQ(static_cast<unsigned char>((*date_value(0))[0]), 0x80);
}

}  // namespace
}  // namespace sluice::cql

namespace sluice::cql {
namespace {

TEST(QuoteIdentifier, InnerDoubleQuotesAreDoubledAndTheNameIsQuoted) {
  EXPECT_EQ(quote_identifier("sluice"), "\"sluice\"");
  EXPECT_EQ(quote_identifier("my \"ks\""), "\"my \"\"ks\"\"\"");
  EXPECT_EQ(quote_identifier("x\"; DROP KEYSPACE y; --"), "\"x\"\"; DROP KEYSPACE y; --\"");
}

}  // namespace
}  // namespace sluice::cql
