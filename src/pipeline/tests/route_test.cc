// Routing of single records: a valid user becomes its row, every injected defect becomes
// a dead letter naming the rule it breaks, undecodable bytes a decode.* dead letter, and
// the dead-letter headers point back at the source record.
#include <gtest/gtest.h>

#include "gen/generator.h"
#include "model/json.h"
#include "pipeline/route.h"

namespace sluice::pipeline {
namespace {

class Route : public ::testing::Test {
 protected:
  rules::rule_set rules_ =
      rules::rule_set::load(std::string(SLUICE_SOURCE_DIR) + "/contract/rules.yaml");
  value_decoder decoder_{[](int, std::string& error) -> std::optional<std::string> {
                           error = "no registry in this test";
                           return std::nullopt;
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

}  // namespace
}  // namespace sluice::pipeline
