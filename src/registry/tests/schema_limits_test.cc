// Unit tests for hostile schemas: nesting past the limits (refused, naming the limit,
// without overflowing the stack) and compatibility checks that a naive walk would take
// exponential time or unbounded stack over (answered or refused as too costly, quickly).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "registry/bounded_json.h"
#include "registry/schema.h"
#include "registry/tests/hostile_schemas.h"

namespace sluice::registry {
namespace {

using namespace sluice::registry::testing;
using json = nlohmann::ordered_json;

void expect_refused_naming(const std::string& text, int limit) {
  auto s = avro_schema::parse(text);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().code, errc::parse);
  EXPECT_NE(s.err().message.find(std::to_string(limit)), std::string::npos) << s.err().message;
  EXPECT_NE(s.err().message.find("limit"), std::string::npos) << s.err().message;
}

TEST(SchemaNestingLimit, ParseRejectsArraysNestedOnePastTheTypeLimitNamingTheLimit) {
  expect_refused_naming(nested_arrays(max_type_nesting + 1), max_type_nesting);
}

TEST(SchemaNestingLimit, ParseAcceptsArraysNestedExactlyToTheTypeLimit) {
  parse_ok(nested_arrays(max_type_nesting));
}

TEST(SchemaNestingLimit, ParseRejectsNullableRecordsNestedPastTheTypeLimit) {
  // Each level is a union and a record: 40 levels are 80 levels of types.
  expect_refused_naming(nested_nullable_records(40), max_type_nesting);
  parse_ok(nested_nullable_records(20));
}

TEST(SchemaNestingLimit, ParseRejectsBrackets300000DeepWithoutOverflowingTheStack) {
  expect_refused_naming(brackets(300'000), max_json_nesting);
}

TEST(SchemaNestingLimit, ParseRejectsArrayTypes300000DeepWithoutOverflowingTheStack) {
  expect_refused_naming(nested_arrays(300'000), max_json_nesting);
}

TEST(SchemaNestingLimit, ParseRejectsAFieldDefaultNestedPastTheJsonLimit) {
  auto text = R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":)" +
              brackets(300'000) + "}]}";
  expect_refused_naming(text, max_json_nesting);
}

TEST(SchemaNestingLimit, BracketsInsideStringsDoNotCountTowardsTheJsonLimit) {
  // A doc string full of brackets, an escaped quote and an escaped backslash before the
  // closing quote: none of it opens a container.
  json doc = {{"type", "record"},
              {"name", "R"},
              {"doc", std::string(10'000, '[') + "\"{{{\\"},
              {"fields", json::array({{{"name", "a"}, {"type", "int"}}})}};
  auto s = avro_schema::parse(doc.dump());
  ASSERT_TRUE(s) << s.err().message;
  EXPECT_NE(identity_of(doc.dump()), "");
}

TEST(ClippedText, CutNeverFallsInsideAUtf8Character) {
  EXPECT_EQ(clipped("abc", 3), "abc");
  EXPECT_EQ(clipped("abcd", 3), "abc...");
  EXPECT_EQ(clipped("a\xc3\xa9"
                    "b",
                    2),
            "a...");  // 2 bytes would split the é
  EXPECT_EQ(clipped("\xe2\x82\xac\xe2\x82\xac", 4), "\xe2\x82\xac...");  // one euro sign
}

TEST(SchemaNestingLimit, IdentityOfATextNestedPastTheJsonLimitIsEmpty) {
  EXPECT_EQ(identity_of(brackets(300'000)), "");
  EXPECT_EQ(identity_of(brackets(10)), brackets(10));
}

TEST(CompatibilityCost, LookalikeUnionsReferencedByNameResolveWithinASecond) {
  // 40 levels of unions of two look-alike records: 2^40 walks without memoisation.
  auto [reader_text, writer_text] = lookalike_union_pair(40);
  auto reader = parse_ok(reader_text);
  auto writer = parse_ok(writer_text);
  auto start = std::chrono::steady_clock::now();
  auto found = compatibility_problems(compatibility::full, reader, {{1, &writer}});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2));
  if (found) {
    EXPECT_TRUE(found->empty()) << fmt::format("{}", fmt::join(*found, "\n"));
  } else {
    EXPECT_NE(found.err().message.find("too costly"), std::string::npos) << found.err().message;
  }
}

TEST(CompatibilityCost, LookalikeUnionsWithAnIncompatibleLeafAreFoundIncompatible) {
  auto [reader_text, writer_text] = lookalike_union_pair(40, "string");
  auto reader = parse_ok(reader_text);
  auto writer = parse_ok(writer_text);
  auto found = resolution_problems(reader, writer);
  ASSERT_TRUE(found) << found.err().message;
  ASSERT_FALSE(found->empty());
  EXPECT_NE((*found)[0].find("/f"), std::string::npos) << (*found)[0];
}

TEST(CompatibilityCost, CheckPastTheStepBudgetFailsSayingItIsTooCostly) {
  auto [reader_text, writer_text] = lookalike_union_pair(10);
  auto reader = parse_ok(reader_text);
  auto writer = parse_ok(writer_text);
  auto found = compatibility_problems(compatibility::backward, reader, {{3, &writer}}, 50);
  ASSERT_FALSE(found);
  EXPECT_EQ(found.err().code, errc::invalid_argument);
  EXPECT_NE(found.err().message.find("too costly"), std::string::npos) << found.err().message;
  EXPECT_NE(found.err().message.find("50 steps"), std::string::npos) << found.err().message;
  EXPECT_NE(found.err().message.find("version 3"), std::string::npos) << found.err().message;
}

TEST(CompatibilityCost, ChainOfNamedTypesDeeperThanTheResolutionLimitIsTooCostly) {
  // Named types nest only 3 levels in the text but 1,000 through references.
  auto [reader_text, writer_text] = named_chain_pair(1'000);
  auto reader = parse_ok(reader_text);
  auto writer = parse_ok(writer_text);
  auto found = resolution_problems(reader, writer);
  ASSERT_FALSE(found);
  EXPECT_NE(found.err().message.find("too costly"), std::string::npos) << found.err().message;
  EXPECT_NE(found.err().message.find(std::to_string(max_resolution_depth)), std::string::npos)
      << found.err().message;
}

TEST(CompatibilityCost, ChainOfNamedTypesWithinTheResolutionLimitResolves) {
  auto [reader_text, writer_text] = named_chain_pair(100);
  auto reader = parse_ok(reader_text);
  auto writer = parse_ok(writer_text);
  auto found = resolution_problems(reader, writer);
  ASSERT_TRUE(found) << found.err().message;
  EXPECT_TRUE(found->empty());
}

TEST(CompatibilityCost, VerdictThatLeanedOnAFailedRecursiveAssumptionIsNotReused) {
  // Reading w.N as a.N fails (x), but only after a.N's "next" was found readable on the
  // assumption that a.N reads w.N. b.N reads x, yet its "next" holds an a.N: it must not
  // reuse that provisional verdict.
  const std::string reader = R"([
    {"type":"record","name":"N","namespace":"a","fields":[
      {"name":"next","type":["null","a.N"]},{"name":"x","type":"int"}]},
    {"type":"record","name":"N","namespace":"b","fields":[
      {"name":"next","type":["null","a.N"]},{"name":"x","type":"string"}]}])";
  const std::string writer = R"({"type":"record","name":"N","namespace":"w","fields":[
      {"name":"next","type":["null","w.N"]},{"name":"x","type":"string"}]})";
  auto found = resolution_problems(parse_ok(reader), parse_ok(writer));
  ASSERT_TRUE(found) << found.err().message;
  EXPECT_FALSE(found->empty());
}

TEST(CompatibilityCost, ProblemsListedAreCappedWithALastEntrySayingSo) {
  json old_schema = {{"type", "record"}, {"name", "R"}, {"fields", json::array()}};
  json new_schema = old_schema;
  for (int i = 0; i < 200; ++i) {
    new_schema["fields"].push_back({{"name", fmt::format("f{}", i)}, {"type", "int"}});
  }
  auto found = resolution_problems(parse_ok(new_schema.dump()), parse_ok(old_schema.dump()));
  ASSERT_TRUE(found) << found.err().message;
  ASSERT_EQ(found->size(), max_reported_problems + 1);
  EXPECT_NE(found->back().find("not listed"), std::string::npos) << found->back();
}

// Found by schema_fuzz (leak-b3675441...): the second schema of the input defines w.R2
// inside w.R2. avro-c refuses a named type defined twice but leaks the half-built
// record, so the registry must refuse it before avro-c sees it.
TEST(FuzzRegression, NamedTypeDefinedTwiceIsRefusedBeforeAvroCParsesIt) {
  const std::string fuzzed =
      R"({"type":"record","name":"Top","fields":[{"name":"f","type":{"type":"record","name":"R2",)"
      R"("fields":[{"name":"f","type":{"type":"record","name":"R2","fields":[{"name":"f","type":)"
      R"({"type":"record","name":"R3","fields":[{"name":"f","type":{"type":"record","name":"R4",)"
      R"("fields":[{"name":"x","type":"int"}],"namespace":"w"}}],"namespace":"w"}}],)"
      R"("namespace":"w"}}],"namespace":"w"}}]})";
  for (const auto& [text, name] : std::vector<std::pair<std::string, std::string>>{
           {fuzzed, "w.R2"},
           {R"(["null",{"type":"enum","name":"E","symbols":["X"]},)"
            R"({"type":"enum","name":"E","symbols":["Y"]}])",
            "E"},
           {R"([{"type":"fixed","name":"n.F","size":2},)"
            R"({"type":"fixed","name":"F","namespace":"n","size":3}])",
            "n.F"}}) {
    auto s = avro_schema::parse(text);
    ASSERT_FALSE(s) << text;
    EXPECT_EQ(s.err().code, errc::parse);
    EXPECT_NE(s.err().message.find("named type " + name + " is defined twice"), std::string::npos)
        << s.err().message;
  }
  // The same simple name in two namespaces is two types.
  parse_ok(R"([{"type":"fixed","name":"a.F","size":2},{"type":"fixed","name":"b.F","size":3}])");
}

// Found by schema_fuzz (crash-47582484...): nlohmann throws out_of_range (406), not
// parse_error, for a number beyond double's range, and only parse_error was caught: the
// exception escaped the request (std::terminate in the fuzzer, the whole server live).
TEST(FuzzRegression, NumberBeyondDoubleRangeIsInvalidJsonNotAnEscapingException) {
  const std::string fuzzed =
      R"({"type":"record","name":"Top","fields":[{"name":"defs","type":["null",4444e440444444444444444]}]})";
  auto s = avro_schema::parse(fuzzed);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.err().code, errc::parse);
  EXPECT_NE(s.err().message.find("number overflow"), std::string::npos) << s.err().message;
  EXPECT_EQ(identity_of(R"({"a":1e400})"), "");
}

}  // namespace
}  // namespace sluice::registry
