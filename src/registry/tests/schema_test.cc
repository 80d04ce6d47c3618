// Unit tests for Avro schema parsing and compatibility decisions, on real schemas
// (contract/user.avsc and variations of it) parsed by avro-c.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "registry/schema.h"
#include "registry/tests/hostile_schemas.h"

namespace sluice::registry {
namespace {

using testing::contract_schema;

using json = nlohmann::ordered_json;
using testing::parse_ok;

// The contract schema with an edit applied to its JSON.
template <typename Edit>
std::string edited(Edit edit) {
  auto doc = json::parse(contract_schema());
  edit(doc);
  return doc.dump();
}

std::vector<std::string> backward(const std::string& old_text, const std::string& new_text) {
  auto old_schema = parse_ok(old_text);
  auto new_schema = parse_ok(new_text);
  auto found = compatibility_problems(compatibility::backward, new_schema, {{1, &old_schema}});
  EXPECT_TRUE(found) << found.err().message;
  return found ? *found : std::vector<std::string>{};
}

// The problems of a check expected to finish within the budget.
std::vector<std::string> problems_of(result<std::vector<std::string>> found) {
  EXPECT_TRUE(found) << found.err().message;
  return found ? *found : std::vector<std::string>{};
}

TEST(AvroSchema, ContractSchemaParsesAndNormalisesWhitespace) {
  auto a = parse_ok(contract_schema());
  auto b = parse_ok(json::parse(contract_schema()).dump(4));
  EXPECT_EQ(a.normalized(), b.normalized());
  EXPECT_EQ(a.normalized().find('\n'), std::string::npos);
  // Key order is kept: "type" first, as the author wrote it.
  EXPECT_EQ(a.normalized().rfind(R"({"type":"record")", 0), 0u) << a.normalized();
}

TEST(AvroSchema, UnknownTypeIsInvalidWithAvroMessage) {
  auto s =
      avro_schema::parse(R"({"type":"record","name":"U","fields":[{"name":"a","type":"strin"}]})");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().code, errc::parse);
  EXPECT_NE(s.err().message.find("strin"), std::string::npos) << s.err().message;
}

TEST(AvroSchema, NotJsonIsInvalid) {
  auto s = avro_schema::parse("{not json");
  ASSERT_FALSE(s);
  EXPECT_NE(s.err().message.find("not valid JSON"), std::string::npos);
}

TEST(AvroSchema, PrimitiveSchemaParses) {
  EXPECT_TRUE(avro_schema::parse(R"("string")"));
}

TEST(Compatibility, NewOptionalFieldWithDefaultIsBackwardCompatible) {
  auto v2 = edited([](json& d) {
    d["fields"].push_back(
        {{"name", "nickname"}, {"type", {"null", "string"}}, {"default", nullptr}});
  });
  EXPECT_TRUE(backward(contract_schema(), v2).empty());
}

TEST(Compatibility, NewRequiredFieldWithoutDefaultIsNotBackwardCompatible) {
  auto v2 = edited([](json& d) { d["fields"].push_back({{"name", "age"}, {"type", "int"}}); });
  auto problems = backward(contract_schema(), v2);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("'age'"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("no default"), std::string::npos) << problems[0];
}

TEST(Compatibility, ChangingStringFieldToIntIsIncompatible) {
  auto v2 = edited([](json& d) { d["fields"][3]["type"] = json::array({"null", "int"}); });
  auto problems = backward(contract_schema(), v2);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("/email"), std::string::npos) << problems[0];
}

TEST(Compatibility, RemovingAFieldIsBackwardButNotForwardCompatibleWithoutDefault) {
  const std::string v1 =
      R"({"type":"record","name":"U","fields":[{"name":"a","type":"string"},{"name":"b","type":"string"}]})";
  const std::string v2 = R"({"type":"record","name":"U","fields":[{"name":"a","type":"string"}]})";
  EXPECT_TRUE(backward(v1, v2).empty());
  auto old_schema = parse_ok(v1);
  auto new_schema = parse_ok(v2);
  EXPECT_FALSE(
      problems_of(compatibility_problems(compatibility::forward, new_schema, {{1, &old_schema}}))
          .empty());
  EXPECT_FALSE(
      problems_of(compatibility_problems(compatibility::full, new_schema, {{1, &old_schema}}))
          .empty());
  EXPECT_TRUE(
      problems_of(compatibility_problems(compatibility::none, new_schema, {{1, &old_schema}}))
          .empty());
}

TEST(Compatibility, IntPromotesToLongButNotBack) {
  EXPECT_TRUE(backward(R"("int")", R"("long")").empty());
  EXPECT_FALSE(backward(R"("long")", R"("int")").empty());
}

TEST(Compatibility, NarrowingAUnionToItsNonNullBranchIsIncompatible) {
  // Old data may hold null, which a plain string reader cannot take.
  auto v2 = edited([](json& d) {
    d["fields"][0]["type"] = "string";
    d["fields"][0].erase("default");
  });
  auto problems = backward(contract_schema(), v2);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find("/id"), std::string::npos) << problems[0];
}

TEST(Compatibility, EnumLosingASymbolIsIncompatibleUnlessReaderHasDefault) {
  const std::string ab = R"({"type":"enum","name":"G","symbols":["A","B"]})";
  const std::string a = R"({"type":"enum","name":"G","symbols":["A"]})";
  const std::string a_default = R"({"type":"enum","name":"G","symbols":["A"],"default":"A"})";
  EXPECT_FALSE(backward(ab, a).empty());
  EXPECT_TRUE(backward(ab, a_default).empty());
  EXPECT_TRUE(backward(a, ab).empty());
}

TEST(Compatibility, RenamedRecordIsIncompatible) {
  auto v2 = edited([](json& d) { d["name"] = "Person"; });
  EXPECT_FALSE(backward(contract_schema(), v2).empty());
}

TEST(Compatibility, NestedRecordFieldDefaultsAreHonoured) {
  const std::string v1 =
      R"({"type":"record","name":"O","namespace":"n","fields":[{"name":"in","type":{"type":"record","name":"I","fields":[]}}]})";
  const std::string v2_ok =
      R"({"type":"record","name":"O","namespace":"n","fields":[{"name":"in","type":{"type":"record","name":"I","fields":[{"name":"x","type":"int","default":0}]}}]})";
  const std::string v2_bad =
      R"({"type":"record","name":"O","namespace":"n","fields":[{"name":"in","type":{"type":"record","name":"I","fields":[{"name":"x","type":"int"}]}}]})";
  EXPECT_TRUE(backward(v1, v2_ok).empty());
  auto problems = backward(v1, v2_bad);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("/in/x"), std::string::npos) << problems[0];
}

TEST(Compatibility, RecursiveSchemasResolveWithoutLooping) {
  const std::string list =
      R"({"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]})";
  EXPECT_TRUE(backward(list, list).empty());
}

TEST(Compatibility, TransitiveChecksEveryVersionNotJustTheLatest) {
  auto v1 = parse_ok(R"({"type":"record","name":"U","fields":[{"name":"a","type":"string"}]})");
  auto v2 = parse_ok(R"({"type":"record","name":"U","fields":[]})");
  // v3 brings "a" back as an int with a default: it reads v2's data (no "a" there) but
  // not v1's, where "a" is a string.
  auto v3 =
      parse_ok(R"({"type":"record","name":"U","fields":[{"name":"a","type":"int","default":0}]})");
  std::vector<existing_version> history{{1, &v1}, {2, &v2}};
  EXPECT_TRUE(problems_of(compatibility_problems(compatibility::backward, v3, history)).empty());
  auto problems =
      problems_of(compatibility_problems(compatibility::backward_transitive, v3, history));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("version 1"), std::string::npos) << problems[0];
}

TEST(CompatibilityLevel, NamesRoundTrip) {
  for (auto name : {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
                    "FULL", "FULL_TRANSITIVE"}) {
    auto level = parse_compatibility(name);
    ASSERT_TRUE(level) << name;
    EXPECT_EQ(to_string(*level), name);
  }
  EXPECT_FALSE(parse_compatibility("backward"));
}

}  // namespace
}  // namespace sluice::registry
