// Unit tests for the registry state machine applied to log records directly: ids and
// versions, tombstones, config records, and records written by Confluent's registry.
#include <gtest/gtest.h>

#include "registry/state.h"

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

}  // namespace
}  // namespace sluice::registry
