// Tests of the rules engine's loader (errors that name file, field and rule) and of
// its semantics beyond the case files.
#include <gtest/gtest.h>

#include "base/error.h"
#include "rules/rules.h"

namespace sluice::rules {
namespace {

std::chrono::sys_seconds june_2026() {
  return std::chrono::sys_seconds(
      std::chrono::seconds(*parse_timestamp_ms("2026-06-01T00:00:00Z") / 1000));
}

std::string load_error(const std::string& yaml) {
  try {
    rule_set::parse(yaml, "test.yaml");
  } catch (const fatal_error& e) {
    return e.what();
  }
  return "";
}

TEST(RulesLoader, UnknownCheckNamesFileFieldAndRule) {
  auto message = load_error(
      "contract: c\nversion: 1\nfields:\n  email:\n    - {rule: email.odd, check: psychic}\n");
  EXPECT_NE(message.find("test.yaml"), std::string::npos) << message;
  EXPECT_NE(message.find("'email'"), std::string::npos) << message;
  EXPECT_NE(message.find("email.odd"), std::string::npos) << message;
  EXPECT_NE(message.find("psychic"), std::string::npos) << message;
}

TEST(RulesLoader, BadRegexIsReportedWithThePattern) {
  auto message = load_error(
      "contract: c\nversion: 1\nfields:\n  phone:\n    - {rule: phone.format, check: regex, "
      "pattern: '([0-9'}\n");
  EXPECT_NE(message.find("bad regex"), std::string::npos) << message;
  EXPECT_NE(message.find("phone.format"), std::string::npos) << message;
}

TEST(RulesLoader, UnknownFieldIsRejected) {
  auto message = load_error(
      "contract: c\nversion: 1\nfields:\n  shoe_size:\n    - {rule: x, check: required}\n");
  EXPECT_NE(message.find("shoe_size"), std::string::npos) << message;
}

TEST(RulesLoader, MissingRangeBoundIsRejected) {
  auto message = load_error(
      "contract: c\nversion: 1\nfields:\n  dob:\n    - {rule: dob.range, check: date_range, min: "
      "'1900-01-01'}\n");
  EXPECT_NE(message.find("missing key 'max'"), std::string::npos) << message;
}

TEST(RulesLoader, ContractFileLoadsWithItsVersionAndEveryRule) {
  auto rules = rule_set::load(std::string(SLUICE_SOURCE_DIR) + "/contract/rules.yaml");
  EXPECT_EQ(rules.contract(), "sluice.v1.User");
  EXPECT_EQ(rules.version(), 1);
  auto ids = rules.rule_ids();
  EXPECT_NE(std::find(ids.begin(), ids.end(), "registered_date.not_future"), ids.end());
  EXPECT_GE(ids.size(), 25u);
}

TEST(RulesEngine, AbsentOptionalFieldSkipsItsChecks) {
  auto rules = rule_set::parse(
      "contract: c\nversion: 1\nfields:\n  email:\n    - {rule: email.format, check: email}\n",
      "inline");
  model::user_record record;
  EXPECT_TRUE(rules.validate(record, june_2026()).valid());
  record.set(model::field::email, "nope");
  auto verdict = rules.validate(record, june_2026());
  ASSERT_EQ(verdict.violations.size(), 1u);
  EXPECT_EQ(verdict.rule_ids(), "email.format");
  EXPECT_EQ(verdict.violations[0].field, model::field::email);
}

TEST(RulesEngine, TodayMovesWithTheClock) {
  auto rules = rule_set::load(std::string(SLUICE_SOURCE_DIR) + "/contract/rules.yaml");
  model::user_record record;
  record.set(model::field::dob, "2026-06-02");
  auto before = rules.validate(record, june_2026());
  auto after = rules.validate(record, june_2026() + std::chrono::hours(24));
  auto has_dob_range = [](const verdict& v) {
    return std::any_of(v.violations.begin(), v.violations.end(),
                       [](const violation& x) { return x.rule == "dob.range"; });
  };
  EXPECT_TRUE(has_dob_range(before));
  EXPECT_FALSE(has_dob_range(after));
}

}  // namespace
}  // namespace sluice::rules
