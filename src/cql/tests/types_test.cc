// Tests of the codecs for varint, decimal, float, smallint, tinyint, time, duration,
// tuple, UDT and vector (types.h), the custom-type class parser, the column-type parsing
// of UDT/tuple/custom options, calendar validation of dates and timestamps, and binding
// all of these from JSON. Byte layouts are checked against the native protocol spec.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <nlohmann/json.hpp>

#include "cql/json_values.h"
#include "cql/protocol.h"
#include "cql/types.h"
#include "cql/values.h"

namespace sluice::cql {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list) out.push_back(static_cast<char>(b));
  return out;
}

column_type simple(type_id id) {
  column_type t;
  t.id = id;
  return t;
}

column_type with_params(type_id id, std::vector<column_type> params) {
  column_type t;
  t.id = id;
  t.params = std::move(params);
  return t;
}

column_type vector_of(type_id element, int n) {
  column_type t = with_params(type_id::vector, {simple(element)});
  t.dimension = n;
  return t;
}

column_type udt(std::vector<std::string> names, std::vector<column_type> types) {
  column_type t = with_params(type_id::udt, std::move(types));
  t.udt_keyspace = "ks";
  t.udt_name = "address";
  t.field_names = std::move(names);
  return t;
}

std::string varint_bytes(std::string_view text) {
  auto v = varint_value(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() && *v ? **v : std::string();
}

// ---- varint ----

TEST(CqlTypeVarint, VarintOf128HasALeadingZeroByte) {
  EXPECT_EQ(*varint_value(128), bytes({0x00, 0x80}));
  EXPECT_EQ(varint_bytes("128"), bytes({0x00, 0x80}));
}

TEST(CqlTypeVarint, VarintOfMinus129IsFF7F) {
  EXPECT_EQ(*varint_value(-129), bytes({0xFF, 0x7F}));
  EXPECT_EQ(varint_bytes("-129"), bytes({0xFF, 0x7F}));
}

TEST(CqlTypeVarint, VarintOfZeroIsOneZeroByte) {
  EXPECT_EQ(*varint_value(0), bytes({0x00}));
  EXPECT_EQ(varint_bytes("0"), bytes({0x00}));
  EXPECT_EQ(varint_bytes("-0"), bytes({0x00}));
}

TEST(CqlTypeVarint, VarintBoundariesUseTheMinimalTwosComplementWidth) {
  EXPECT_EQ(*varint_value(127), bytes({0x7F}));
  EXPECT_EQ(*varint_value(-128), bytes({0x80}));
  EXPECT_EQ(*varint_value(-1), bytes({0xFF}));
  EXPECT_EQ(*varint_value(255), bytes({0x00, 0xFF}));
  EXPECT_EQ(*varint_value(-256), bytes({0xFF, 0x00}));
  EXPECT_EQ(*varint_value(32767), bytes({0x7F, 0xFF}));
  EXPECT_EQ(*varint_value(-32768), bytes({0x80, 0x00}));
}

TEST(CqlTypeVarint, VarintOfTwoToThe64HasNineBytes) {
  EXPECT_EQ(varint_bytes("18446744073709551616"), bytes({0x01, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(varint_bytes("-18446744073709551616"), bytes({0xFF, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(CqlTypeVarint, TextAndInt64EncodingsAgreeAndRoundTrip) {
  std::mt19937_64 rng(11);
  std::vector<std::int64_t> values = {0,      1,         -1,        127,       128,
                                      -128,   -129,      255,       256,       65535,
                                      -65536, 1LL << 31, INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (int i = 0; i < 2000; ++i) values.push_back(static_cast<std::int64_t>(rng()) >> (rng() % 63));
  for (auto v : values) {
    auto text = std::to_string(v);
    ASSERT_EQ(varint_bytes(text), *varint_value(v)) << text;
    auto back = varint_text(*varint_value(v));
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, text);
  }
}

TEST(CqlTypeVarint, VarintOfTenToTheFortyRoundTripsExactlyBothSigns) {
  std::string big = "1" + std::string(40, '0');
  for (const auto& text : {big, "-" + big, std::string("123456789012345678901234567890"),
                           std::string("-340282366920938463463374607431768211456")}) {
    auto cell = varint_bytes(text);
    auto back = varint_text(cell);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, text);
    EXPECT_EQ(cell_text(simple(type_id::varint), cell), text);
  }
}

TEST(CqlTypeVarint, NonDigitTextIsAnErrorNamingTheText) {
  for (const char* text : {"", "-", "12a", "1.5", " 1", "0x10"}) {
    auto v = varint_value(std::string_view(text));
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_NE(v.err().message.find(fmt::format("'{}'", text)), std::string::npos);
  }
}

TEST(CqlTypeVarint, EmptyCellRendersAsMalformed) {
  EXPECT_FALSE(varint_text("").ok());
  EXPECT_EQ(cell_text(simple(type_id::varint), std::string()).rfind("<malformed varint", 0), 0u);
}

// ---- decimal ----

TEST(CqlTypeDecimal, MinusOneTwoThreePointFourFiveZeroZeroHasScaleFour) {
  auto v = decimal_value("-123.4500");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, bytes({0, 0, 0, 4}) + *varint_value(-1234500));
  EXPECT_EQ(cell_text(simple(type_id::decimal), *v), "-123.4500");
}

TEST(CqlTypeDecimal, OneEPlus40HasScaleMinus40AndUnscaledOne) {
  auto v = decimal_value("1E+40");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(**v, bytes({0xFF, 0xFF, 0xFF, 0xD8, 0x01}));
  EXPECT_EQ(*decimal_text(**v), "1E+40");
}

TEST(CqlTypeDecimal, TextFollowsJavaBigDecimalNotation) {
  std::pair<const char*, const char*> cases[] = {
      {"0", "0"},
      {"0.00", "0.00"},
      {"12", "12"},
      {"0.000001", "0.000001"},
      {"0.0000001", "1E-7"},
      {"12.5e3", "1.25E+4"},
      {"1.5e-3", "0.0015"},
      {"+7", "7"},
      {"-0.5", "-0.5"},
      {"123456789012345678901234567890.123", "123456789012345678901234567890.123"},
  };
  for (auto [in, out] : cases) {
    auto v = decimal_value(in);
    ASSERT_TRUE(v.ok()) << in;
    auto text = decimal_text(**v);
    ASSERT_TRUE(text.ok()) << in;
    EXPECT_EQ(*text, out) << in;
  }
}

TEST(CqlTypeDecimal, GarbageAndHugeExponentsAreErrors) {
  for (const char* text : {"", "1.2.3", "e5", "1e", "abc", "1e+", "--1", "1e99999999999"})
    EXPECT_FALSE(decimal_value(std::string_view(text)).ok()) << text;
}

TEST(CqlTypeDecimal, TruncatedCellIsMalformed) {
  EXPECT_FALSE(decimal_text(bytes({0, 0, 0})).ok());
  EXPECT_FALSE(decimal_text(bytes({0, 0, 0, 1})).ok());  // no unscaled value
  EXPECT_NE(cell_text(simple(type_id::decimal), bytes({0, 0})).find("<malformed decimal"),
            std::string::npos);
}

// ---- float, smallint, tinyint ----

TEST(CqlTypeFloat, FloatIsFourByteIeeeBigEndian) {
  EXPECT_EQ(*float_value(2.5f), bytes({0x40, 0x20, 0x00, 0x00}));
  EXPECT_EQ(*float_value(-1.0f), bytes({0xBF, 0x80, 0x00, 0x00}));
}

TEST(CqlTypeFloat, FloatTextIsShortestRoundTrip) {
  EXPECT_EQ(float_text(1.0f), "1.0");
  EXPECT_EQ(float_text(0.1f), "0.1");
  EXPECT_EQ(float_text(-2.5f), "-2.5");
  EXPECT_EQ(float_text(1e20f), "1e+20");
  EXPECT_EQ(float_text(std::numeric_limits<float>::quiet_NaN()), "NaN");
  EXPECT_EQ(float_text(-std::numeric_limits<float>::infinity()), "-Infinity");
  EXPECT_EQ(cell_text(simple(type_id::float_), *float_value(3.25f)), "3.25");
  EXPECT_EQ(cell_text(simple(type_id::float_), std::string("abc")).rfind("<malformed float", 0),
            0u);
}

TEST(CqlTypeSmallint, SmallintAndTinyintAreTwosComplementOfTheirWidth) {
  EXPECT_EQ(*smallint_value(-2), bytes({0xFF, 0xFE}));
  EXPECT_EQ(*tinyint_value(-1), bytes({0xFF}));
  EXPECT_EQ(cell_text(simple(type_id::smallint), *smallint_value(-32768)), "-32768");
  EXPECT_EQ(cell_text(simple(type_id::tinyint), *tinyint_value(127)), "127");
  EXPECT_EQ(cell_text(simple(type_id::tinyint), *tinyint_value(-128)), "-128");
  EXPECT_EQ(cell_text(simple(type_id::smallint), bytes({1})).rfind("<malformed smallint", 0), 0u);
}

// ---- time ----

TEST(CqlTypeTime, TimeTextParsesToNanosecondsSinceMidnight) {
  EXPECT_EQ(*time_nanos_from_text("00:00:00"), 0);
  EXPECT_EQ(*time_nanos_from_text("12:34:56.789"), 45296789000000);
  EXPECT_EQ(*time_nanos_from_text("23:59:59.999999999"), nanos_per_day - 1);
  EXPECT_EQ(**time_value(1), bytes({0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(cell_text(simple(type_id::time), *time_value(45296789000001)), "12:34:56.789000001");
}

TEST(CqlTypeTime, OutOfRangeTimesAreErrorsNamingTheValue) {
  for (const char* text : {"24:00:00", "23:60:00", "23:59:60", "1:00:00", "12:00:00.", "12:00",
                           "12:00:00.1234567890", "ab:cd:ef"}) {
    auto t = time_nanos_from_text(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.err().message.find(text), std::string::npos);
  }
  EXPECT_FALSE(time_value(-1).ok());
  EXPECT_FALSE(time_value(nanos_per_day).ok());
  EXPECT_EQ(cell_text(simple(type_id::time), *bigint_value(-5)).rfind("<malformed", 0), 0u);
}

// ---- vints and duration ----

TEST(CqlTypeDuration, SmallDurationIsThreeZigzagVintBytes) {
  EXPECT_EQ(*duration_value({1, 2, 3}), bytes({0x02, 0x04, 0x06}));
  EXPECT_EQ(*duration_value({-1, -2, -3}), bytes({0x01, 0x03, 0x05}));
  EXPECT_EQ(*duration_value({0, 0, 0}), bytes({0, 0, 0}));
}

TEST(CqlTypeDuration, VintLengthIsCountedByLeadingOneBits) {
  std::string out;
  write_unsigned_vint(out, 128);  // 2 bytes: 10xxxxxx xxxxxxxx
  EXPECT_EQ(out, bytes({0x80, 0x80}));
  out.clear();
  write_unsigned_vint(out, 127);
  EXPECT_EQ(out, bytes({0x7F}));
  out.clear();
  write_unsigned_vint(out, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(out, std::string(9, '\xFF'));
  // An hour of nanoseconds (zigzag 7.2e12, below 2^49): 7 bytes, prefix 1111110.
  auto hour = *duration_value({0, 0, 3600LL * 1000000000LL});
  ASSERT_EQ(hour.size(), 2u + 7u);
  EXPECT_EQ(static_cast<unsigned char>(hour[2]) & 0xFE, 0xFC);
}

TEST(CqlTypeDuration, UnsignedVintsRoundTripAtEveryWidth) {
  for (int bits = 0; bits <= 64; ++bits) {
    for (std::uint64_t v :
         {bits == 64 ? ~0ULL : (1ULL << bits) - 1, bits < 64 ? 1ULL << bits : 0}) {
      std::string out;
      write_unsigned_vint(out, v);
      std::string_view in = out;
      std::uint64_t back = 0;
      ASSERT_TRUE(read_unsigned_vint(in, back)) << v;
      EXPECT_EQ(back, v);
      EXPECT_TRUE(in.empty());
      std::string_view cut(out.data(), out.size() - 1);
      EXPECT_FALSE(read_unsigned_vint(cut, back)) << v;
    }
  }
}

TEST(CqlTypeDuration, CassandraUnitsParseIntoMonthsDaysAndNanoseconds) {
  auto d = duration_from_text("1y2mo3w4d5h6m7s8ms9us10ns");
  ASSERT_TRUE(d.ok()) << d.err().message;
  EXPECT_EQ(d->months, 14);
  EXPECT_EQ(d->days, 25);
  EXPECT_EQ(d->nanoseconds, ((5 * 60 + 6) * 60 + 7) * 1000000000LL + 8000000 + 9000 + 10);
  EXPECT_EQ(duration_text(*d), "1y2mo25d5h6m7s8ms9us10ns");
  EXPECT_EQ(*duration_from_text("2H30M"), (duration{0, 0, 9000LL * 1000000000LL}));
  EXPECT_EQ(*duration_from_text("3\xC2\xB5s"), (duration{0, 0, 3000}));
}

TEST(CqlTypeDuration, Iso8601ParsesAndRendersInCassandraStyle) {
  auto d = duration_from_text("P1Y2M3DT4H5M6S");
  ASSERT_TRUE(d.ok()) << d.err().message;
  EXPECT_EQ(*d, (duration{14, 3, (4 * 3600 + 5 * 60 + 6) * 1000000000LL}));
  EXPECT_EQ(duration_text(*d), "1y2mo3d4h5m6s");
  EXPECT_EQ(*duration_from_text("P2W"), (duration{0, 14, 0}));
  EXPECT_EQ(*duration_from_text("PT1M"), (duration{0, 0, 60000000000LL}));
  EXPECT_EQ(*duration_from_text("-P1D"), (duration{0, -1, 0}));
}

TEST(CqlTypeDuration, NegativeDurationRoundTripsThroughTheCell) {
  auto d = duration_from_text("-1mo10ms");
  ASSERT_TRUE(d.ok());
  auto cell = duration_value(*d);
  auto back = read_duration(*cell);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (duration{-1, 0, -10000000}));
  EXPECT_EQ(cell_text(simple(type_id::duration), cell), "-1mo10ms");
  EXPECT_EQ(cell_text(simple(type_id::duration), *duration_value({})), "0s");
}

TEST(CqlTypeDuration, BadDurationTextIsAnErrorNamingIt) {
  for (const char* text : {"", "-", "5x", "1h2d", "1y1y", "h", "P", "PT", "P1H", "PT1D", "P1W2D",
                           "99999999999y", "1.5h"}) {
    auto d = duration_from_text(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_NE(d.err().message.find(fmt::format("'{}'", text)), std::string::npos) << text;
  }
}

TEST(CqlTypeDuration, TruncatedOrOverlongCellIsAnError) {
  EXPECT_FALSE(read_duration(bytes({0x02, 0x04})).ok());
  EXPECT_FALSE(read_duration(bytes({0x02, 0x04, 0xC0})).ok());
  EXPECT_FALSE(read_duration(bytes({0x02, 0x04, 0x06, 0x00})).ok());
  EXPECT_EQ(cell_text(simple(type_id::duration), bytes({0xFF})).rfind("<malformed duration", 0),
            0u);
}

// ---- tuple and UDT ----

TEST(CqlTypeTuple, TupleElementsAreBytesWithNullAsMinusOne) {
  auto cell = tuple_value({int_value(1), std::nullopt});
  EXPECT_EQ(*cell, bytes({0, 0, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}));
  auto type = with_params(type_id::tuple, {simple(type_id::int_), simple(type_id::varchar)});
  EXPECT_EQ(cell_text(type, cell), "(1, null)");
  EXPECT_EQ(cell_text(type, tuple_value({int_value(7), text_value("a\"b")})), R"((7, "a\"b"))");
}

TEST(CqlTypeTuple, TruncatedOrOverfullTupleCellIsMalformed) {
  auto type = with_params(type_id::tuple, {simple(type_id::int_), simple(type_id::varchar)});
  auto good = *tuple_value({int_value(1), text_value("abc")});
  for (std::size_t cut = 1; cut < good.size(); ++cut) {
    if (cut == 8) continue;  // a whole first element: a shorter tuple, still valid
    EXPECT_EQ(cell_text(type, good.substr(0, cut)).rfind("<malformed tuple<int, text>", 0), 0u)
        << cut;
  }
  EXPECT_FALSE(read_tuple(*tuple_value({int_value(1), int_value(2), int_value(3)}), 2).ok());
  EXPECT_FALSE(read_tuple(bytes({0x7F, 0xFF, 0xFF, 0xFF, 1}), 1).ok());
}

TEST(CqlTypeUdt, UdtRendersFieldsAndMissingTrailingFieldsAsNull) {
  auto type = udt({"street", "zip"}, {simple(type_id::varchar), simple(type_id::int_)});
  EXPECT_EQ(cell_text(type, tuple_value({text_value("Main"), int_value(1234)})),
            R"({street: "Main", zip: 1234})");
  EXPECT_EQ(cell_text(type, tuple_value({text_value("Main")})), R"({street: "Main", zip: null})");
}

TEST(CqlTypeUdt, NestedUdtRendersInside) {
  auto inner = udt({"x"}, {simple(type_id::int_)});
  auto outer = udt({"p", "tags"}, {inner, with_params(type_id::list, {simple(type_id::varchar)})});
  auto cell = tuple_value({tuple_value({int_value(3)}), collection_value({text_value("a")})});
  EXPECT_EQ(cell_text(outer, cell), R"({p: {x: 3}, tags: ["a"]})");
}

// ---- vector ----

TEST(CqlTypeVector, FloatVectorIsConcatenatedWithoutLengths) {
  auto type = vector_of(type_id::float_, 3);
  auto cell = vector_value(type, {float_value(1.0f), float_value(2.5f), float_value(-1.0f)});
  ASSERT_TRUE(cell.ok());
  EXPECT_EQ(**cell, *float_value(1.0f) + *float_value(2.5f) + *float_value(-1.0f));
  EXPECT_EQ(cell_text(type, *cell), "[1.0, 2.5, -1.0]");
}

TEST(CqlTypeVector, VariableSizeElementsCarryUnsignedVintLengths) {
  auto type = vector_of(type_id::varchar, 2);
  auto cell = vector_value(type, {text_value("a"), text_value("bc")});
  ASSERT_TRUE(cell.ok());
  EXPECT_EQ(**cell, std::string("\x01"
                                "a"
                                "\x02"
                                "bc"));
  EXPECT_EQ(cell_text(type, *cell), R"(["a", "bc"])");
}

TEST(CqlTypeVector, WrongCountNullOrWrongSizedElementIsAnError) {
  auto type = vector_of(type_id::float_, 3);
  EXPECT_FALSE(vector_value(type, {float_value(1.0f)}).ok());
  EXPECT_FALSE(vector_value(type, {float_value(1.0f), std::nullopt, float_value(1.0f)}).ok());
  EXPECT_FALSE(vector_value(type, {float_value(1.0f), double_value(1.0), float_value(1.0f)}).ok());
  EXPECT_EQ(cell_text(type, std::string(11, '\0')).rfind("<malformed vector<float, 3>", 0), 0u);
  auto text_type = vector_of(type_id::varchar, 2);
  EXPECT_EQ(cell_text(text_type, std::string("\x01"
                                             "a"
                                             "\x05"
                                             "b"))
                .rfind("<malformed", 0),
            0u);
  EXPECT_EQ(cell_text(text_type, std::string("\x01"
                                             "a"
                                             "\x01"
                                             "bc"))
                .rfind("<malformed", 0),
            0u);
}

// ---- custom class names ----

TEST(CqlTypeClass, DurationClassIsTheDurationType) {
  auto t = parse_type_class("org.apache.cassandra.db.marshal.DurationType");
  ASSERT_TRUE(t.ok()) << t.err().message;
  EXPECT_EQ(t->id, type_id::duration);
}

TEST(CqlTypeClass, VectorClassCarriesElementTypeAndDimension) {
  for (const char* text :
       {"org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType,3)",
        "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType, 3)",
        "VectorType(FloatType,3)"}) {
    auto t = parse_type_class(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.err().message;
    EXPECT_EQ(t->id, type_id::vector);
    EXPECT_EQ(t->dimension, 3);
    ASSERT_EQ(t->params.size(), 1u);
    EXPECT_EQ(t->params[0].id, type_id::float_);
    EXPECT_EQ(type_name(*t), "vector<float, 3>");
  }
}

TEST(CqlTypeClass, NestedFrozenUdtAndCollectionsParse) {
  auto t = parse_type_class(
      "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FrozenType("
      "org.apache.cassandra.db.marshal.UserType(ks,61646472,"
      "6e756d:org.apache.cassandra.db.marshal.Int32Type,"
      "74616773:org.apache.cassandra.db.marshal.ListType(org.apache.cassandra.db.marshal."
      "UTF8Type))),2)");
  ASSERT_TRUE(t.ok()) << t.err().message;
  ASSERT_EQ(t->id, type_id::vector);
  const auto& u = t->params[0];
  EXPECT_EQ(u.id, type_id::udt);
  EXPECT_EQ(u.udt_keyspace, "ks");
  EXPECT_EQ(u.udt_name, "addr");
  EXPECT_EQ(u.field_names, (std::vector<std::string>{"num", "tags"}));
  EXPECT_EQ(type_name(u.params[1]), "list<text>");
}

TEST(CqlTypeClass, UnknownClassStaysCustomWithItsName) {
  auto t = parse_type_class("com.example.GeoType(a,(b))");
  ASSERT_TRUE(t.ok()) << t.err().message;
  EXPECT_EQ(t->id, type_id::custom);
  EXPECT_EQ(t->custom_class, "com.example.GeoType(a,(b))");
}

TEST(CqlTypeClass, MalformedClassTextIsAnError) {
  for (const char* text :
       {"", "(", "VectorType(FloatType", "VectorType(FloatType,0)", "VectorType(FloatType,x)",
        "VectorType(FloatType,3", "ListType", "Int32Type(x)", "MapType(Int32Type)",
        "UserType(ks,zz)", "UserType(ks,6162,6364)", "ListType(Int32Type)junk",
        "com.example.X(unbalanced"}) {
    EXPECT_FALSE(parse_type_class(text).ok()) << text;
  }
}

TEST(CqlTypeClass, DeepNestingIsAnErrorNotACrash) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += "ListType(";
  text += "Int32Type";
  text += std::string(10000, ')');
  auto t = parse_type_class(text);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.err().message.find("deep"), std::string::npos);
}

TEST(CqlTypeClass, RandomClassTextNeverCrashes) {
  std::mt19937 rng(3);
  const std::string alphabet = "(),: 0123abcListTypeVectorUserFloat.";
  for (int i = 0; i < 20000; ++i) {
    std::string text(rng() % 40, ' ');
    for (auto& c : text) c = alphabet[rng() % alphabet.size()];
    (void)parse_type_class(text);
  }
}

// ---- column-type options in a RESULT frame ----

result<column_type> parse_column(const std::function<void(writer&)>& option) {
  std::string body;
  writer w{body};
  w.i32(2);
  w.i32(0x01);
  w.i32(1);
  w.string("ks");
  w.string("t");
  w.string("c");
  option(w);
  w.i32(0);
  frame_header h;
  h.op = opcode::result;
  auto r = parse_response(h, body);
  if (!r) return r.err();
  return r->rows.columns.at(0).type;
}

TEST(CqlTypeOption, UdtOptionKeepsKeyspaceNameAndFields) {
  auto t = parse_column([](writer& w) {
    w.i16(0x0030);
    w.string("ks");
    w.string("address");
    w.i16(2);
    w.string("street");
    w.i16(0x000D);
    w.string("zip");
    w.i16(0x0009);
  });
  ASSERT_TRUE(t.ok()) << t.err().message;
  EXPECT_EQ(t->id, type_id::udt);
  EXPECT_EQ(t->udt_keyspace, "ks");
  EXPECT_EQ(t->udt_name, "address");
  EXPECT_EQ(t->field_names, (std::vector<std::string>{"street", "zip"}));
  ASSERT_EQ(t->params.size(), 2u);
  EXPECT_EQ(t->params[1].id, type_id::int_);
}

TEST(CqlTypeOption, TupleOptionHasItsElementTypes) {
  auto t = parse_column([](writer& w) {
    w.i16(0x0031);
    w.i16(2);
    w.i16(0x0009);
    w.i16(0x000D);
  });
  ASSERT_TRUE(t.ok()) << t.err().message;
  EXPECT_EQ(type_name(*t), "tuple<int, text>");
}

TEST(CqlTypeOption, CustomVectorAndDurationOptionsMapToTheirTypes) {
  auto v = parse_column([](writer& w) {
    w.i16(0x0000);
    w.string(
        "org.apache.cassandra.db.marshal.VectorType(org.apache.cassandra.db.marshal.FloatType,3)");
  });
  ASSERT_TRUE(v.ok()) << v.err().message;
  EXPECT_EQ(type_name(*v), "vector<float, 3>");
  auto d = parse_column([](writer& w) {
    w.i16(0x0020);  // list<duration>
    w.i16(0x0000);
    w.string("org.apache.cassandra.db.marshal.DurationType");
  });
  ASSERT_TRUE(d.ok()) << d.err().message;
  EXPECT_EQ(type_name(*d), "list<duration>");
}

TEST(CqlTypeOption, HostileCountsAndMalformedClassesAreErrors) {
  auto udt_claim = parse_column([](writer& w) {
    w.i16(0x0030);
    w.string("ks");
    w.string("u");
    w.i16(-1);  // 65535 fields
    w.string("a");
    w.i16(0x0009);
  });
  ASSERT_FALSE(udt_claim.ok());
  EXPECT_NE(udt_claim.err().message.find("65535"), std::string::npos);
  EXPECT_FALSE(parse_column([](writer& w) {
                 w.i16(0x0031);
                 w.i16(30000);
                 w.i16(0x0009);
               }).ok());
  EXPECT_FALSE(parse_column([](writer& w) {
                 w.i16(0x0000);
                 w.string("org.apache.cassandra.db.marshal.VectorType(");
               }).ok());
  EXPECT_FALSE(parse_column([](writer& w) {
                 w.i16(static_cast<std::int16_t>(type_id::vector));  // synthetic, not a wire id
               }).ok());
  EXPECT_FALSE(parse_column([](writer& w) {
                 for (int i = 0; i < 100; ++i) w.i16(0x0020);
                 w.i16(0x0009);
               }).ok());
}

TEST(CqlTypeOption, EveryTruncationOfAUdtOptionIsAnError) {
  std::string good;
  writer w{good};
  w.i32(2);
  w.i32(0x01);
  w.i32(1);
  w.string("ks");
  w.string("t");
  w.string("c");
  w.i16(0x0030);
  w.string("ks");
  w.string("u");
  w.i16(1);
  w.string("f");
  w.i16(0x0031);
  w.i16(1);
  w.i16(0x0000);
  w.string("org.apache.cassandra.db.marshal.DurationType");
  w.i32(0);
  frame_header h;
  h.op = opcode::result;
  ASSERT_TRUE(parse_response(h, good).ok());
  for (std::size_t cut = 0; cut < good.size(); ++cut)
    EXPECT_FALSE(parse_response(h, good.substr(0, cut)).ok()) << cut;
}

// ---- calendar validation ----

TEST(CqlTypeDate, ImpossibleCalendarDatesAreErrorsNamingTheValue) {
  for (const char* text : {"2023-02-30", "2023-02-29", "1900-02-29", "2023-13-01", "2023-04-31",
                           "2023-00-10", "2023-01-00"}) {
    auto d = date_days_from_text(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_NE(d.err().message.find(text), std::string::npos);
  }
}

TEST(CqlTypeDate, LeapDaysOfLeapYearsAreAccepted) {
  EXPECT_EQ(*date_days_from_text("2000-02-29"), 11016);
  EXPECT_TRUE(date_days_from_text("2024-02-29").ok());
  EXPECT_TRUE(date_days_from_text("2023-12-31").ok());
}

TEST(CqlTypeDate, TimestampsWithImpossibleDatesOrTimesAreErrors) {
  for (const char* text : {"2023-02-30T00:00:00Z", "2023-13-01T00:00:00Z", "2023-01-01T25:00:00Z",
                           "2023-01-01T10:60:00Z", "2023-02-29T12:00:00.000Z"}) {
    auto t = timestamp_ms_from_text(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.err().message.find(text), std::string::npos);
  }
  EXPECT_TRUE(timestamp_ms_from_text("2024-02-29T23:59:59.123Z").ok());
}

// ---- JSON binding ----

column_spec column(std::string name, column_type type) {
  column_spec c;
  c.name = std::move(name);
  c.type = std::move(type);
  return c;
}

result<std::vector<bound_value>> bind_json(const std::vector<column_spec>& columns,
                                           std::string_view json) {
  return json_to_values(columns, nlohmann::json::parse(json));
}

TEST(CqlTypeJson, ObjectBindsByMarkerNameAndLeavesTheOthersUnset) {
  std::vector<column_spec> cols = {column("name", simple(type_id::varchar)),
                                   column("born", simple(type_id::date)),
                                   column("id", simple(type_id::int_))};
  auto bound = bind_json(cols, R"({"id": 7, "name": null})");
  ASSERT_TRUE(bound.ok()) << bound.err().message;
  ASSERT_EQ(bound->size(), 3u);
  EXPECT_FALSE((*bound)[0].has_value());
  EXPECT_FALSE((*bound)[0].unset) << "an explicit null is a null, not unset";
  EXPECT_TRUE((*bound)[1].unset);
  EXPECT_EQ((*bound)[2], int_value(7));
  EXPECT_FALSE((*bound)[2].unset);

  auto unknown = bind_json(cols, R"({"id": 7, "nmae": "x"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.err().message,
            "\"nmae\" is not a bind marker of the statement (its markers: name, born, id)");
  auto wrong = bind_json(cols, R"({"id": "seven"})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.err().message.find("value 3 (column id)"), std::string::npos)
      << wrong.err().message;
}

TEST(CqlTypeJson, EveryNewTypeBindsFromJson) {
  std::vector<column_spec> cols = {
      column("v", simple(type_id::varint)),
      column("v2", simple(type_id::varint)),
      column("d", simple(type_id::decimal)),
      column("d2", simple(type_id::decimal)),
      column("f", simple(type_id::float_)),
      column("s", simple(type_id::smallint)),
      column("ti", simple(type_id::tinyint)),
      column("tm", simple(type_id::time)),
      column("du", simple(type_id::duration)),
      column("tu", with_params(type_id::tuple, {simple(type_id::int_), simple(type_id::varchar)})),
      column("u", udt({"street", "zip"}, {simple(type_id::varchar), simple(type_id::int_)})),
      column("vec", vector_of(type_id::float_, 3)),
  };
  auto v =
      bind_json(cols,
                R"(["123456789012345678901234567890", -129, "-123.4500", 0.25, 2.5, -32768, 127,
                    "12:34:56.789", "1h30m", [1, "a"], {"street": "Main"}, [1, 2.5, -1]])");
  ASSERT_TRUE(v.ok()) << v.err().message;
  EXPECT_EQ(cell_text(cols[0].type, (*v)[0]), "123456789012345678901234567890");
  EXPECT_EQ((*v)[1], varint_value(-129));
  EXPECT_EQ(cell_text(cols[2].type, (*v)[2]), "-123.4500");
  EXPECT_EQ(cell_text(cols[3].type, (*v)[3]), "0.25");
  EXPECT_EQ((*v)[4], float_value(2.5f));
  EXPECT_EQ((*v)[5], smallint_value(-32768));
  EXPECT_EQ((*v)[6], tinyint_value(127));
  EXPECT_EQ(cell_text(cols[7].type, (*v)[7]), "12:34:56.789000000");
  EXPECT_EQ(cell_text(cols[8].type, (*v)[8]), "1h30m");
  EXPECT_EQ(cell_text(cols[9].type, (*v)[9]), R"((1, "a"))");
  EXPECT_EQ(cell_text(cols[10].type, (*v)[10]), R"({street: "Main", zip: null})");
  EXPECT_EQ(cell_text(cols[11].type, (*v)[11]), "[1.0, 2.5, -1.0]");
}

void expect_bind_error(const column_spec& col, std::string_view json,
                       std::initializer_list<std::string_view> mentions) {
  auto v = bind_json({col}, json);
  ASSERT_FALSE(v.ok()) << json;
  EXPECT_NE(v.err().message.find("column " + col.name), std::string::npos) << v.err().message;
  for (auto m : mentions)
    EXPECT_NE(v.err().message.find(m), std::string::npos) << v.err().message << " lacks " << m;
}

TEST(CqlTypeJson, OutOfRangeSmallintAndTinyintNameColumnTypeAndValue) {
  expect_bind_error(column("small", simple(type_id::smallint)), "[40000]", {"smallint", "40000"});
  expect_bind_error(column("tiny", simple(type_id::tinyint)), "[-129]", {"tinyint", "-129"});
  expect_bind_error(column("tiny", simple(type_id::tinyint)), "[1.5]", {"tinyint", "1.5"});
}

TEST(CqlTypeJson, BadTextValuesNameColumnTypeAndValue) {
  expect_bind_error(column("v", simple(type_id::varint)), R"(["12x"])", {"varint", "12x"});
  expect_bind_error(column("v", simple(type_id::varint)), "[1e30]", {"varint", "string"});
  expect_bind_error(column("d", simple(type_id::decimal)), R"(["1.2.3"])", {"decimal", "1.2.3"});
  expect_bind_error(column("tm", simple(type_id::time)), R"(["25:00:00"])", {"time", "25:00:00"});
  expect_bind_error(column("du", simple(type_id::duration)), R"(["5 parsecs"])",
                    {"duration", "5 parsecs"});
  expect_bind_error(column("f", simple(type_id::float_)), "[1e300]", {"float", "1e+300"});
  expect_bind_error(column("day", simple(type_id::date)), R"(["2023-02-30"])",
                    {"date", "2023-02-30"});
}

TEST(CqlTypeJson, UnknownUdtFieldIsAnErrorNamingIt) {
  expect_bind_error(
      column("addr", udt({"street", "zip"}, {simple(type_id::varchar), simple(type_id::int_)})),
      R"([{"street": "Main", "city": "Oslo"}])", {"city", "ks.address"});
  expect_bind_error(
      column("addr", udt({"street", "zip"}, {simple(type_id::varchar), simple(type_id::int_)})),
      R"([{"zip": "x"}])", {"zip", "x"});
}

TEST(CqlTypeJson, TupleAndVectorNeedTheExactElementCount) {
  auto tuple_type = with_params(type_id::tuple, {simple(type_id::int_), simple(type_id::varchar)});
  expect_bind_error(column("tu", tuple_type), "[[1]]", {"tuple<int, text>", "[1]"});
  expect_bind_error(column("tu", tuple_type), R"([["x", "y"]])", {"element 1", "\"x\""});
  expect_bind_error(column("vec", vector_of(type_id::float_, 3)), "[[1, 2]]",
                    {"vector<float, 3>", "[1,2]"});
  expect_bind_error(column("vec", vector_of(type_id::float_, 3)), "[[1, null, 2]]",
                    {"element 2", "null"});
  expect_bind_error(column("vec", vector_of(type_id::float_, 3)), R"([[1, "a", 2]])",
                    {"element 2", "\"a\""});
}

}  // namespace
}  // namespace sluice::cql
