// Unit tests for the registry state machine applied to log records directly: ids and
// versions, tombstones, config records, records written by Confluent's registry, and
// malformed records (refused without throwing, the state unchanged, replay going on).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registry/state.h"
#include "registry/tests/hostile_schemas.h"

namespace sluice::registry {
namespace {

schema_entry entry(const std::string& subject, int version, int id, const std::string& schema) {
  return {subject, version, id, schema, false, ""};
}

TEST(RegistryState, AppliedVersionsAreOrderedAndNextIdFollowsTheHighest) {
  state st;
  ASSERT_TRUE(st.apply(make_schema_record(entry("s", 2, 7, R"("int")"))));
  ASSERT_TRUE(st.apply(make_schema_record(entry("s", 1, 3, R"("string")"))));
  auto live = st.live_versions("s");
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].version, 1);
  EXPECT_EQ(live[1].version, 2);
  EXPECT_EQ(st.next_id(), 8);
  EXPECT_EQ(st.next_version("s"), 3);
  EXPECT_EQ(st.find_version("s", -1)->id, 7);
}

TEST(RegistryState, SameSchemaTextWithOtherKeyOrderHasTheSameIdentity) {
  state st;
  ASSERT_TRUE(st.apply(
      make_schema_record(entry("s", 1, 1, R"({"type":"enum","name":"E","symbols":["A"]})"))));
  EXPECT_EQ(st.id_of(identity_of(R"({"name":"E", "symbols":["A"], "type":"enum"})")), 1);
  EXPECT_FALSE(st.id_of(identity_of(R"({"type":"enum","name":"E","symbols":["B"]})")));
}

TEST(RegistryState, SoftDeleteHidesVersionButKeepsNumbering) {
  state st;
  auto e = entry("s", 1, 1, R"("int")");
  ASSERT_TRUE(st.apply(make_schema_record(e)));
  e.deleted = true;
  ASSERT_TRUE(st.apply(make_schema_record(e)));
  EXPECT_TRUE(st.live_versions("s").empty());
  EXPECT_TRUE(st.subjects(false).empty());
  EXPECT_EQ(st.subjects(true), std::vector<std::string>{"s"});
  EXPECT_EQ(st.next_version("s"), 2);
  EXPECT_NE(st.schema_by_id(1), nullptr);
}

TEST(RegistryState, TombstoneRemovesVersion) {
  state st;
  auto rec = make_schema_record(entry("s", 1, 1, R"("int")"));
  ASSERT_TRUE(st.apply(rec));
  rec.value.reset();
  ASSERT_TRUE(st.apply(rec));
  EXPECT_EQ(st.history("s"), nullptr);
}

TEST(RegistryState, ConfigRecordsSetAndTombstonesClearLevels) {
  state st;
  EXPECT_EQ(st.effective_level("s"), compatibility::backward);
  ASSERT_TRUE(st.apply(make_config_record(std::nullopt, compatibility::full)));
  ASSERT_TRUE(st.apply(make_config_record("s", compatibility::none)));
  EXPECT_EQ(st.effective_level("s"), compatibility::none);
  EXPECT_EQ(st.effective_level("t"), compatibility::full);
  auto clear = make_config_record("s", compatibility::none);
  clear.value.reset();
  ASSERT_TRUE(st.apply(clear));
  EXPECT_EQ(st.effective_level("s"), compatibility::full);
}

TEST(RegistryState, ConfluentRecordShapesAreUnderstood) {
  state st;
  // As Confluent's registry writes them to _schemas.
  ASSERT_TRUE(st.apply({R"({"keytype":"NOOP","magic":0})", std::nullopt}));
  ASSERT_TRUE(st.apply({R"({"keytype":"SCHEMA","subject":"x-value","version":1,"magic":1})",
                        R"({"subject":"x-value","version":1,"id":21,"schemaType":"AVRO",)"
                        R"("schema":"\"string\"","deleted":false})"}));
  ASSERT_TRUE(st.apply(
      {R"({"keytype":"CONFIG","subject":null,"magic":0})", R"({"compatibilityLevel":"FORWARD"})"}));
  EXPECT_EQ(st.find_version("x-value", 1)->id, 21);
  EXPECT_EQ(st.global_level(), compatibility::forward);
  EXPECT_EQ(st.next_id(), 22);
}

TEST(RegistryState, InvalidRecordIsRefusedAndChangesNothing) {
  state st;
  auto r = st.apply({R"({"keytype":"SCHEMA","subject":"s","version":1,"magic":1})",
                     R"({"subject":"s","version":1,"schema":"\"int\""})"});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("s version 1"), std::string::npos) << r.err().message;
  EXPECT_EQ(st.history("s"), nullptr);
  EXPECT_EQ(st.next_id(), 1);
  EXPECT_FALSE(
      st.apply({R"({"keytype":"CONFIG","subject":null})", R"({"compatibilityLevel":"X"})"}));
  EXPECT_EQ(st.global_level(), compatibility::backward);
}

// A malformed record and a fragment its refusal must contain.
struct malformed {
  log_record record;
  std::string why;
};

log_record schema_key(const std::string& key_fields, const std::string& value) {
  return {"{\"keytype\":\"SCHEMA\"," + key_fields + "}", value};
}

std::vector<malformed> malformed_records() {
  const std::string s1 = R"("subject":"s","version":1)";
  const std::string good_value = R"({"id":9,"schema":"\"int\""})";
  return {
      {{"not json", good_value}, "not valid JSON"},
      {{"[1,2]", good_value}, "expected a JSON object"},
      {{R"("SCHEMA")", good_value}, "expected a JSON object"},
      {{R"({"keytype":5})", good_value}, "\"keytype\" is number"},
      {{R"({"keytype":"SCHEMA","subject":7,"version":1})", good_value}, "\"subject\" is number"},
      {schema_key(R"("version":1)", good_value), "without a subject"},
      {schema_key(R"("subject":"s","version":"1")", good_value), "\"version\" is string"},
      {schema_key(R"("subject":"s","version":4294967297)", good_value), "outside"},
      {schema_key(R"("subject":"s","version":18446744073709551615)", good_value), "outside"},
      {schema_key(R"("subject":"s","version":-3)", good_value), "outside"},
      {schema_key(R"("subject":"s","version":0)", good_value), "outside"},
      {schema_key(R"("subject":"s","version":1.5)", good_value), "expected an integer"},
      {schema_key(R"("subject":"s","version":1,"magic":"one")", good_value), "\"magic\""},
      {schema_key(s1, "{oops"), "not valid JSON"},
      {schema_key(s1, "[]"), "expected a JSON object"},
      {schema_key(s1, R"({"id":3000000000,"schema":"\"int\""})"), "outside"},
      {schema_key(s1, R"({"id":2147483647,"schema":"\"int\""})"), "outside"},
      {schema_key(s1, R"({"id":-1,"schema":"\"int\""})"), "outside"},
      {schema_key(s1, R"({"id":2.0,"schema":"\"int\""})"), "expected an integer"},
      {schema_key(s1, R"({"id":"7","schema":"\"int\""})"), "expected an integer"},
      {schema_key(s1, R"({"schema":"\"int\""})"), "\"id\" is missing"},
      {schema_key(s1, R"({"id":9,"schema":5})"), "\"schema\" is number"},
      {schema_key(s1, R"({"id":1e400,"schema":"\"int\""})"), "number overflow"},
      {{R"({"keytype":"SCHEMA","subject":"s","version":1e400})", good_value}, "number overflow"},
      {schema_key(s1, R"({"id":9})"), "\"schema\" is missing"},
      {schema_key(s1, R"({"id":9,"schema":"\"int\"","deleted":"yes"})"), "\"deleted\""},
      {schema_key(s1, R"({"id":9,"schema":"\"int\"","subject":1})"), "\"subject\""},
      {schema_key(s1, R"({"id":9,"schema":"\"int\"","references":{}})"), "\"references\""},
      {schema_key(s1, testing::brackets(300'000)), "limit"},
      {{testing::brackets(300'000), good_value}, "limit"},
      {{R"({"keytype":"CONFIG","subject":null})", "[]"}, "compatibilityLevel"},
      {{R"({"keytype":"CONFIG","subject":null})", R"({"compatibilityLevel":3})"},
       "compatibilityLevel"},
      {{R"({"keytype":"CONFIG","subject":4})", R"({"compatibilityLevel":"FULL"})"},
       "\"subject\" is number"},
      {{R"({"keytype":"CONFIG"})", "{"}, "not valid JSON"},
  };
}

TEST(RegistryStateReplay, MalformedRecordsInterleavedWithGoodOnesAreSkippedAndEveryGoodOneApplied) {
  std::vector<log_record> good{
      make_schema_record(entry("s", 1, 1, R"("int")")),
      make_schema_record(entry("s", 2, 2, R"("long")")),
      make_schema_record(entry("t", 1, 3, R"("string")")),
      make_config_record(std::nullopt, compatibility::full),
      make_config_record("t", compatibility::none),
      make_schema_record(entry("t", 2, 1, R"("int")")),
  };
  auto bad = malformed_records();
  state st;
  size_t applied = 0;
  for (size_t i = 0; i < bad.size(); ++i) {
    auto r = st.apply(bad[i].record);
    ASSERT_FALSE(r) << "malformed record " << i << " was accepted: " << bad[i].record.key;
    EXPECT_EQ(r.err().code, errc::parse);
    EXPECT_NE(r.err().message.find(bad[i].why), std::string::npos)
        << "record " << i << ": " << r.err().message;
    EXPECT_LT(r.err().message.size(), 1000u) << "record " << i << " quoted too much";
    if (i % 5 == 0 && applied < good.size()) {
      ASSERT_TRUE(st.apply(good[applied++]));
    }
  }
  while (applied < good.size()) ASSERT_TRUE(st.apply(good[applied++]));
  EXPECT_EQ(st.live_versions("s").size(), 2u);
  EXPECT_EQ(st.live_versions("t").size(), 2u);
  EXPECT_EQ(st.subjects(false), (std::vector<std::string>{"s", "t"}));
  EXPECT_EQ(st.next_id(), 4);
  EXPECT_EQ(st.next_version("s"), 3);
  EXPECT_EQ(st.global_level(), compatibility::full);
  EXPECT_EQ(st.effective_level("t"), compatibility::none);
}

TEST(RegistryStateReplay, RefusedSchemaRecordLeavesNoEmptySubjectBehind) {
  state st;
  ASSERT_FALSE(st.apply(schema_key(R"("subject":"ghost","version":1)", R"({"id":-4})")));
  EXPECT_EQ(st.history("ghost"), nullptr);
  EXPECT_TRUE(st.subjects(true).empty());
  EXPECT_EQ(st.next_id(), 1);
}

TEST(RegistryStateReplay, StoredSchemaTextNestedPastTheJsonLimitIsKeptWithoutCrashing) {
  state st;
  auto deep = testing::brackets(300'000);
  ASSERT_TRUE(st.apply(make_schema_record(entry("s", 1, 1, deep))));
  ASSERT_NE(st.schema_by_id(1), nullptr);
  EXPECT_EQ(st.schema_by_id(1)->size(), deep.size());
  EXPECT_EQ(st.find_version("s", 1)->identity, "");
}

}  // namespace
}  // namespace sluice::registry
