// Routing of single records: a valid user becomes its row, every injected defect becomes
// a dead letter naming the rule it breaks, undecodable bytes a decode.* dead letter, and
// the dead-letter headers point back at the source record.
#include <gtest/gtest.h>

#include "gen/generator.h"
#include "model/json.h"
#include "pipeline/route.h"
#include "pipeline/user_row.h"

namespace sluice::pipeline {
namespace {

class Route : public ::testing::Test {
 protected:
  rules::rule_set rules_ =
      rules::rule_set::load(std::string(SLUICE_SOURCE_DIR) + "/contract/rules.yaml");
  value_decoder decoder_{[](int) -> schema_answer {
                           return {std::nullopt, true, "no registry in this test"};
                         },
                         1 << 20};
  std::chrono::sys_seconds now_ =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<std::string> violated_;

  routed route_json(const model::user_record& record, std::string& json) {
    json.clear();
    model::append_json(record, json);
    record_view view{"users.raw", 3, 42, 1700000000000, json};
    return route_record(view, decoder_, rules_, now_, violated_);
  }
};

TEST_F(Route, ValidUserBecomesItsRowWithNoViolations) {
  gen::generator generator({.seed = 9});
  std::string json;
  auto routed = route_json(generator.make_record(1).record, json);
  ASSERT_TRUE(std::holds_alternative<std::vector<cql::bound_value>>(routed))
      << std::get<dead_letter>(routed).reason;
  EXPECT_FALSE(std::get<std::vector<cql::bound_value>>(routed).empty());
  EXPECT_TRUE(violated_.empty());
}

TEST_F(Route, EveryInjectedDefectIsADeadLetterNamingItsRule) {
  gen::generator generator({.seed = 9});
  for (auto kind : gen::all_bad_kinds()) {
    auto record = generator.make_record(2).record;
    gen::inject(kind, record);
    std::string json;
    auto routed = route_json(record, json);
    ASSERT_TRUE(std::holds_alternative<dead_letter>(routed)) << gen::name_of(kind);
    const auto& why = std::get<dead_letter>(routed);
    EXPECT_NE(why.rules.find(gen::rule_of(kind)), std::string::npos)
        << gen::name_of(kind) << " gave " << why.rules;
    EXPECT_FALSE(why.reason.empty());
  }
}

TEST_F(Route, TimeRulesJudgeAtTheRecordTimestampNotTheWallClock) {
  gen::generator generator({.seed = 9});
  auto record = generator.make_record(1).record;
  // Registered one second after the record was produced: in the future for the record,
  // in the past for the wall clock of any later run.
  record.set(model::field::registered_date, "2023-11-14T22:13:21Z");
  std::string json;
  model::append_json(record, json);
  record_view view{"users.raw", 3, 42, 1700000000000, json};  // 2023-11-14T22:13:20Z
  EXPECT_EQ(validation_clock(view, now_).time_since_epoch().count(), 1700000000);
  auto at_record_time =
      route_record(view, decoder_, rules_, validation_clock(view, now_), violated_);
  ASSERT_TRUE(std::holds_alternative<dead_letter>(at_record_time));
  EXPECT_EQ(std::get<dead_letter>(at_record_time).rules, "registered_date.not_future");
  view.timestamp_ms = 1700000001999;  // the same second as the registration: not future
  EXPECT_TRUE(std::holds_alternative<std::vector<cql::bound_value>>(
      route_record(view, decoder_, rules_, validation_clock(view, now_), violated_)));
  view.timestamp_ms = -1;  // no timestamp: the fallback clock
  EXPECT_EQ(validation_clock(view, now_), now_);
}

TEST_F(Route, RegistryOutageIsRetryLaterNotADeadLetter) {
  value_decoder flaky(
      [](int) -> schema_answer {
        return {std::nullopt, false, "timed out"};
      },
      1 << 20);
  std::string avro(
      "\0\0\0\0\x05"
      "abc",
      8);
  record_view view{"users.raw", 0, 1, 1700000000000, avro};
  auto routed = route_record(view, flaky, rules_, now_, violated_);
  ASSERT_TRUE(std::holds_alternative<retry_later>(routed));
  EXPECT_NE(std::get<retry_later>(routed).reason.find("timed out"), std::string::npos);
  EXPECT_TRUE(violated_.empty());
}

TEST_F(Route, UndecodableBytesAndNullValuesAreDecodeDeadLetters) {
  record_view garbage{"users.raw", 0, 7, -1, std::string_view("\x01\x02\xff", 3)};
  auto routed = route_record(garbage, decoder_, rules_, now_, violated_);
  ASSERT_TRUE(std::holds_alternative<dead_letter>(routed));
  EXPECT_EQ(std::get<dead_letter>(routed).rules.rfind("decode.", 0), 0u);
  record_view null_value{"users.raw", 0, 8, -1, std::nullopt};
  routed = route_record(null_value, decoder_, rules_, now_, violated_);
  ASSERT_TRUE(std::holds_alternative<dead_letter>(routed));
  EXPECT_EQ(std::get<dead_letter>(routed).rules, "decode.empty");
  ASSERT_EQ(violated_.size(), 1u);
  EXPECT_EQ(violated_[0], "decode.empty");
}

TEST_F(Route, DeadLetterHeadersNameTheRuleAndTheSourceRecord) {
  record_view source{"users.raw", 5, 1234, -1, std::string_view("{")};
  dead_letter why{"dob.range", "dob", "dob: in the future", 17};
  auto headers = dead_letter_headers(source, why, 3);
  auto value_of = [&](const std::string& name) {
    for (const auto& h : headers) {
      if (h.name == name) return h.value;
    }
    return std::string("<missing>");
  };
  EXPECT_EQ(value_of("sluice.rule"), "dob.range");
  EXPECT_EQ(value_of("sluice.source.topic"), "users.raw");
  EXPECT_EQ(value_of("sluice.source.partition"), "5");
  EXPECT_EQ(value_of("sluice.source.offset"), "1234");
  EXPECT_EQ(value_of("sluice.schema.id"), "17");
  EXPECT_EQ(value_of("sluice.contract.version"), "3");
}

TEST(WriteTimestamp, LaterOffsetWinsWithinOneMillisecondAcrossAMultipleOfAThousand) {
  const std::int64_t ms = 1700000000123;
  EXPECT_LT(write_timestamp_us(ms, 999), write_timestamp_us(ms, 1000));
  EXPECT_LT(write_timestamp_us(ms, 1000), write_timestamp_us(ms, 1001));
  // A later millisecond wins over any earlier offset of the same block of a million.
  EXPECT_LT(write_timestamp_us(ms, 999'998), write_timestamp_us(ms + 1000, 999'999));
  EXPECT_EQ(write_timestamp_us(ms, 42), ms * 1000 + 42);
  EXPECT_EQ(write_timestamp_us(-1, 7), 7);  // no timestamp
}

}  // namespace
}  // namespace sluice::pipeline

namespace sluice::pipeline {
namespace {

TEST_F(Route, PseudonymsReplaceChosenFieldsOfValidRowsOnlyAfterTheRulesJudgedTheRawValues) {
  auto pseudonyms =
      privacy::pseudonymiser::create({model::field::email}, "route-test-pseudonym-key", "k1");
  ASSERT_TRUE(pseudonyms) << pseudonyms.err().message;
  gen::generator generator({.seed = 9});
  auto record = generator.make_record(1).record;
  auto raw_email = *record.get(model::field::email);
  std::string json;
  model::append_json(record, json);
  record_view view{"users.raw", 3, 42, 1700000000000, json};
  auto routed = route_record(view, decoder_, rules_, now_, violated_, &*pseudonyms);
  ASSERT_TRUE(std::holds_alternative<std::vector<cql::bound_value>>(routed));
  const auto& row = std::get<std::vector<cql::bound_value>>(routed);
  EXPECT_EQ(row[3], cql::text_value(privacy::pseudonym("route-test-pseudonym-key", raw_email)));
  EXPECT_EQ(row[row.size() - 2], cql::text_value("k1"));  // pseudonym_key_id, before the time

  // (Had the pseudonym been judged, the email rule would have refused its hex.) A raw
  // email the rules refuse is still a dead letter.
  record.set(model::field::email, "not-an-email");
  model::append_json(record, json = "");
  view.value = json;
  routed = route_record(view, decoder_, rules_, now_, violated_, &*pseudonyms);
  ASSERT_TRUE(std::holds_alternative<dead_letter>(routed));
  EXPECT_EQ(std::get<dead_letter>(routed).fields, "email");
}

}  // namespace
}  // namespace sluice::pipeline
