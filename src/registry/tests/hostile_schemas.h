// Schema texts for the registry's hostile-input tests: nesting far past the limits, and
// pairs whose compatibility check a naive walk would take exponential time or unbounded
// stack over; the contract schema, and parse_ok for schemas a test expects valid. Header-only,
// shared by the schema and service tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "registry/schema.h"

namespace sluice::registry::testing {

/// contract/user.avsc, the schema every test variation starts from.
inline std::string contract_schema() {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/contract/user.avsc");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Parses a schema a test expects to be valid (a failure names the parser's reason).
inline avro_schema parse_ok(const std::string& text) {
  auto s = avro_schema::parse(text);
  EXPECT_TRUE(s) << s.err().message;
  return std::move(*s);
}

/// `levels` nested brackets around "int": [[[..."int"...]]].
inline std::string brackets(int levels) {
  return std::string(static_cast<size_t>(levels), '[') + R"("int")" +
         std::string(static_cast<size_t>(levels), ']');
}

/// An array of arrays ... of int, `levels` array types deep.
inline std::string nested_arrays(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) out += R"({"type":"array","items":)";
  out += R"("int")";
  out += std::string(static_cast<size_t>(levels), '}');
  return out;
}

/// Records whose only field is a nullable record, `levels` records deep.
inline std::string nested_nullable_records(int levels) {
  std::string out;
  for (int i = 0; i < levels; ++i) {
    out +=
        fmt::format(R"({{"type":"record","name":"R{}","fields":[{{"name":"f","type":["null",)", i);
  }
  out += R"("int")";
  for (int i = 0; i < levels; ++i) out += "]}]}";
  return out;
}

/// A (reader, writer) pair a naive check walks 2^levels times. The writer is a chain of
/// records R1 -> R2 -> ... whose last has x: int. The reader reads each level through a
/// union of two look-alikes a.Rk and b.Rk, both defined once and then referenced by name;
/// a.Rk also wants a field z the writer lacks, so it fails, but only after its whole
/// subtree was walked. `leaf_type` is the reader's type for x (int: compatible).
inline std::pair<std::string, std::string> lookalike_union_pair(
    int levels, std::string_view leaf_type = "int") {
  std::string defs;
  for (int k = levels; k >= 1; --k) {
    std::string next = k == levels
                           ? fmt::format(R"({{"name":"x","type":"{}"}})", leaf_type)
                           : fmt::format(R"({{"name":"f","type":["a.R{0}","b.R{0}"]}})", k + 1);
    defs += fmt::format(
        R"({{"type":"record","name":"R{0}","namespace":"a","fields":[{1},{{"name":"z","type":"int"}}]}},)"
        R"({{"type":"record","name":"R{0}","namespace":"b","fields":[{1}]}},)",
        k, next);
  }
  auto reader =
      fmt::format(R"({{"type":"record","name":"Top","fields":[{{"name":"defs","type":["null",{}],)"
                  R"("default":null}},{{"name":"f","type":["a.R1","b.R1"]}}]}})",
                  defs.substr(0, defs.size() - 1));
  std::string writer_type = R"({"type":"record","name":"R)" + std::to_string(levels) +
                            R"(","namespace":"w","fields":[{"name":"x","type":"int"}]})";
  for (int k = levels - 1; k >= 1; --k) {
    writer_type = fmt::format(
        R"({{"type":"record","name":"R{}","namespace":"w","fields":[{{"name":"f","type":{}}}]}})",
        k, writer_type);
  }
  auto writer = fmt::format(
      R"({{"type":"record","name":"Top","fields":[{{"name":"f","type":{}}}]}})", writer_type);
  return {reader, writer};
}

/// A (reader, writer) pair whose records A0 <- A1 <- ... <- A{length-1} each hold the
/// previous one by name: defined side by side (3 levels of nesting) but `length` levels
/// deep to resolve, from the field v that holds the last one.
inline std::pair<std::string, std::string> named_chain_pair(int length) {
  std::string defs = R"({"type":"record","name":"A0","fields":[{"name":"x","type":"int"}]})";
  for (int i = 1; i < length; ++i) {
    defs += fmt::format(
        R"(,{{"type":"record","name":"A{}","fields":[{{"name":"x","type":"A{}"}}]}})", i, i - 1);
  }
  auto make = [&](std::string_view holder) {
    return fmt::format(
        R"({{"type":"record","name":"Top","fields":[{{"name":"{}","type":["null",{}],)"
        R"("default":null}},{{"name":"v","type":"A{}"}}]}})",
        holder, defs, length - 1);
  };
  // The reader's holder field is missing from the writer (it has a default), so the
  // first pair resolved is the last link of the chain.
  return {make("d"), make("e")};
}

}  // namespace sluice::registry::testing
