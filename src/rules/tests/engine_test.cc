// Tests of the rules engine's loader (errors that name file, field and rule) and of
// its semantics beyond the case files.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "base/error.h"
#include "rules/rules.h"

namespace sluice::rules {
namespace {

std::chrono::sys_seconds june_2026() {
  return std::chrono::sys_seconds(
      std::chrono::seconds(*parse_timestamp_ms("2026-06-01T00:00:00Z") / 1000));
}

/// A record's Kafka timestamp as validate receives it: floored to whole seconds.
std::chrono::sys_seconds kafka_timestamp(std::int64_t ms) {
  return std::chrono::floor<std::chrono::seconds>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(ms)));
}

rule_set contract_rules() {
  return rule_set::load(std::string(SLUICE_SOURCE_DIR) + "/contract/rules.yaml");
}

bool has_rule(const verdict& v, std::string_view rule) {
  return std::any_of(v.violations.begin(), v.violations.end(),
                     [rule](const violation& x) { return x.rule == rule; });
}

// first_name's checks as contract/rules.yaml orders them (with a max_length of 5).
rule_set name_rules() {
  return rule_set::parse(
      "contract: c\nversion: 1\nfields:\n"
      "  first_name:\n"
      "    - {rule: first_name.required, check: required}\n"
      "    - {rule: first_name.control, check: no_control}\n"
      "    - {rule: first_name.max_length, check: max_length, max: 5}\n",
      "inline");
}

// id's format and identity checks as contract/rules.yaml orders them.
rule_set id_rules() {
  return rule_set::parse(
      "contract: c\nversion: 1\nfields:\n"
      "  id:\n"
      "    - {rule: id.uuid, check: uuid}\n"
      "    - {rule: id.nil, check: uuid_identity}\n",
      "inline");
}

std::string verdict_of(const rule_set& rules, model::field f, std::string value) {
  model::user_record record;
  // A loop, not record.set(f, ...): with a run-time field, GCC 12 -O2 reports a false
  // -Wmaybe-uninitialized in std::optional's assignment, and -Werror makes it fatal.
  for (std::size_t i = 0; i < model::field_count; ++i) {
    if (i == static_cast<std::size_t>(f)) record.values[i] = std::move(value);
  }
  return rules.validate(record, june_2026()).rule_ids();
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
  EXPECT_EQ(rules.version(), 2);
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

TEST(RulesLoader, contract_keeps_every_existing_rule_id_in_order) {
  // The ids of version 1 before the hygiene rules: dead letters already carry them.
  const std::vector<std::string> existing = {"id.required",
                                             "id.uuid",
                                             "first_name.required",
                                             "first_name.max_length",
                                             "last_name.required",
                                             "last_name.max_length",
                                             "email.required",
                                             "email.max_length",
                                             "email.format",
                                             "phone.required",
                                             "phone.format",
                                             "gender.required",
                                             "gender.enum",
                                             "dob.required",
                                             "dob.format",
                                             "dob.range",
                                             "address.required",
                                             "address.max_length",
                                             "postcode.required",
                                             "postcode.format",
                                             "username.required",
                                             "username.format",
                                             "registered_date.required",
                                             "registered_date.format",
                                             "registered_date.not_future",
                                             "picture.required",
                                             "picture.max_length",
                                             "picture.url"};
  auto ids = contract_rules().rule_ids();
  std::vector<std::string> kept;
  std::copy_if(ids.begin(), ids.end(), std::back_inserter(kept),
               [](const std::string& id) { return !id.ends_with(".control") && id != "id.nil"; });
  EXPECT_EQ(kept, existing);
  EXPECT_EQ(ids.size(), existing.size() + model::field_count + 1);  // + control each, + id.nil
}

TEST(RulesLoader, contract_puts_control_after_required_and_nil_after_uuid) {
  auto ids = contract_rules().rule_ids();
  auto at = [&ids](const std::string& id) {
    return static_cast<std::size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
  };
  for (std::size_t i = 0; i < model::field_count; ++i) {
    std::string field(model::field_names[i]);
    ASSERT_LT(at(field + ".control"), ids.size()) << field;
    EXPECT_EQ(at(field + ".control"), at(field + ".required") + 1) << field;
  }
  EXPECT_EQ(at("id.nil"), at("id.uuid") + 1);
}

TEST(NoControlCheck, control_char_in_value_fails_with_its_rule) {
  auto rules = name_rules();
  EXPECT_EQ(verdict_of(rules, model::field::first_name, "Zo\të"), "first_name.control");
  EXPECT_EQ(verdict_of(rules, model::field::first_name, std::string("Zo\0ë", 5)),
            "first_name.control");
  EXPECT_EQ(verdict_of(rules, model::field::first_name, "Zoë\x7f"), "first_name.control");
  EXPECT_EQ(verdict_of(rules, model::field::first_name, "Zoë"), "");
}

TEST(NoControlCheck, control_char_in_overlong_value_reports_control_only) {
  model::user_record record;
  record.set(model::field::first_name, "Zoë\nAnna-Lena");
  auto rules = name_rules();  // verdicts point into their rule_set: keep it alive
  auto v = rules.validate(record, june_2026());
  ASSERT_EQ(v.violations.size(), 1u);
  EXPECT_EQ(v.violations[0].rule, "first_name.control");
  EXPECT_EQ(v.violations[0].field, model::field::first_name);
  EXPECT_NE(v.violations[0].reason.find("control character"), std::string_view::npos);
}

TEST(NoControlCheck, whitespace_only_value_fails_required_first) {
  auto rules = name_rules();
  EXPECT_EQ(verdict_of(rules, model::field::first_name, "\t"), "first_name.required");
  EXPECT_EQ(verdict_of(rules, model::field::first_name, "\r\n"), "first_name.required");
  // NUL and ESC are not white space: the value is present, and has a control character.
  EXPECT_EQ(verdict_of(rules, model::field::first_name, std::string(1, '\0')),
            "first_name.control");
  EXPECT_EQ(verdict_of(rules, model::field::first_name, "\x1b"), "first_name.control");
}

TEST(NoControlCheck, absent_optional_field_skipped) {
  auto rules = rule_set::parse(
      "contract: c\nversion: 1\nfields:\n  address:\n    - {rule: address.control, check: "
      "no_control}\n",
      "inline");
  EXPECT_TRUE(rules.validate(model::user_record{}, june_2026()).valid());
}

TEST(UuidIdentityCheck, nil_or_max_uuid_fails_with_its_rule) {
  auto rules = id_rules();
  for (const char* id :
       {"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"}) {
    model::user_record record;
    record.set(model::field::id, id);
    auto v = rules.validate(record, june_2026());
    ASSERT_EQ(v.rule_ids(), "id.nil") << id;
    EXPECT_EQ(v.violations[0].field, model::field::id);
    EXPECT_NE(v.violations[0].reason.find("nil or max"), std::string_view::npos);
  }
}

TEST(UuidIdentityCheck, near_nil_uuid_passes) {
  auto rules = id_rules();
  EXPECT_EQ(verdict_of(rules, model::field::id, "00000000-0000-0000-0000-000000000001"), "");
  EXPECT_EQ(verdict_of(rules, model::field::id, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFE"), "");
}

TEST(UuidIdentityCheck, malformed_nil_fails_uuid_first) {
  EXPECT_EQ(verdict_of(id_rules(), model::field::id, "00000000000000000000000000000000"),
            "id.uuid");
}

TEST(UuidIdentityCheck, non_uuid_value_alone_passes) {
  // Format is the `uuid` check's job: uuid_identity only rejects the two identities.
  auto rules = rule_set::parse(
      "contract: c\nversion: 1\nfields:\n  id:\n    - {rule: id.nil, check: uuid_identity}\n",
      "inline");
  EXPECT_EQ(verdict_of(rules, model::field::id, "not a uuid"), "");
  EXPECT_EQ(verdict_of(rules, model::field::id, "00000000-0000-0000-0000-000000000000"), "id.nil");
}

TEST(RecordClock, today_is_the_utc_date_of_the_record_timestamp) {
  auto rules = contract_rules();
  model::user_record record;
  record.set(model::field::dob, "2026-06-01");
  // 2026-05-31T23:59:59.999Z: still the 31st in UTC, so a birth on the 1st is in the future.
  const std::int64_t midnight_ms = *parse_timestamp_ms("2026-06-01T00:00:00Z");
  EXPECT_TRUE(has_rule(rules.validate(record, kafka_timestamp(midnight_ms - 1)), "dob.range"));
  EXPECT_FALSE(has_rule(rules.validate(record, kafka_timestamp(midnight_ms)), "dob.range"));
}

TEST(RecordClock, now_is_the_record_timestamp_floored_to_the_second) {
  auto rules = contract_rules();
  model::user_record record;
  const std::int64_t ts_ms = *parse_timestamp_ms("2026-06-01T00:00:00.700Z");
  record.set(model::field::registered_date, "2026-06-01T00:00:00Z");
  EXPECT_FALSE(
      has_rule(rules.validate(record, kafka_timestamp(ts_ms)), "registered_date.not_future"));
  // Within the same second but after the floored `now`: in the future, as documented.
  record.set(model::field::registered_date, "2026-06-01T00:00:00.500Z");
  EXPECT_TRUE(
      has_rule(rules.validate(record, kafka_timestamp(ts_ms)), "registered_date.not_future"));
}

TEST(RecordClock, old_record_timestamp_judges_a_later_registration_future) {
  // No wall clock: a record stamped in 2005 cannot have registered in 2015, whenever
  // it is judged (the wall clock is well past 2015).
  auto rules = contract_rules();
  model::user_record record;
  record.set(model::field::registered_date, "2015-06-01T12:30:45.123Z");
  auto stamped_2005 = kafka_timestamp(*parse_timestamp_ms("2005-01-01T00:00:00Z"));
  EXPECT_TRUE(has_rule(rules.validate(record, stamped_2005), "registered_date.not_future"));
  EXPECT_EQ(rules.validate(record, stamped_2005).rule_ids(),
            rules.validate(record, stamped_2005).rule_ids());
}

TEST(RecordClock, pre_epoch_timestamp_gives_the_previous_utc_day) {
  auto rules = contract_rules();
  model::user_record record;
  auto last_second_of_1969 = kafka_timestamp(-1000);
  record.set(model::field::dob, "1969-12-31");
  EXPECT_FALSE(has_rule(rules.validate(record, last_second_of_1969), "dob.range"));
  record.set(model::field::dob, "1970-01-01");
  EXPECT_TRUE(has_rule(rules.validate(record, last_second_of_1969), "dob.range"));
}

}  // namespace
}  // namespace sluice::rules
