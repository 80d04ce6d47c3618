// Tests of the JSON form of user_record: round trip, escaping, nulls, bad input.
#include <gtest/gtest.h>

#include "model/json.h"

namespace sluice::model {
namespace {

user_record sample() {
  user_record r;
  r.set(field::id, "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab");
  r.set(field::first_name, "Zoë \"Zo\" O'Brien\n");
  r.set(field::email, "zoe@example.com");
  return r;
}

TEST(ModelJson, RecordWithEscapesAndNullsRoundTripsUnchanged) {
  std::string text;
  append_json(sample(), text);
  auto parsed = parse_json(text);
  ASSERT_TRUE(parsed.ok()) << parsed.err().describe();
  EXPECT_EQ(*parsed, sample());
  EXPECT_NE(text.find("\"last_name\":null"), std::string::npos);
}

TEST(ModelJson, NonStringFieldIsAnErrorNamingTheField) {
  auto parsed = parse_json(R"({"id": 42})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.err().message.find("'id'"), std::string::npos);
}

TEST(ModelJson, GarbageIsAParseErrorNotACrash) {
  for (std::string_view bad : {"", "{", "[1,2]", "{\"id\":\"x\"} trailing", "\xff\xfe"}) {
    auto parsed = parse_json(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
  }
}

}  // namespace
}  // namespace sluice::model
