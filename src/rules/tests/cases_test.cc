// Runs every rule case file in contract/cases/ through the rules engine: the verdict
// (valid, or the exact rule ids) must be the one the file expects. The case file's `now`
// stands for the record's Kafka timestamp, which the processor passes to validate.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <set>

#include "rules/rules.h"

namespace sluice::rules {
namespace {

namespace fs = std::filesystem;

std::chrono::sys_seconds parse_now(const std::string& text) {
  auto ms = parse_timestamp_ms(text);
  EXPECT_TRUE(ms.ok()) << text;
  return std::chrono::sys_seconds(std::chrono::seconds(ms.ok() ? *ms / 1000 : 0));
}

TEST(RuleCases, EveryCaseFileGetsTheExpectedVerdicts) {
  auto rules = rule_set::load(fs::path(SLUICE_SOURCE_DIR) / "contract/rules.yaml");
  int files = 0, cases = 0;
  std::set<std::string> rules_broken, file_names;
  for (const auto& entry : fs::directory_iterator(fs::path(SLUICE_SOURCE_DIR) / "contract/cases")) {
    if (entry.path().filename() == "README.md") continue;
    // Anything else must be a case file: a stray `.yml` would otherwise be skipped.
    ASSERT_EQ(entry.path().extension().string(), ".yaml") << entry.path() << " is not run";
    ++files;
    file_names.insert(entry.path().filename().string());
    auto doc = YAML::LoadFile(entry.path().string());
    auto now = parse_now(doc["now"].as<std::string>());
    model::user_record base;
    for (const auto& kv : doc["base"]) {
      base.set(*model::field_by_name(kv.first.as<std::string>()), kv.second.as<std::string>());
    }
    for (const auto& c : doc["cases"]) {
      ++cases;
      auto name = c["name"].as<std::string>();
      auto record = base;
      for (const auto& kv : c["set"]) {
        auto f = model::field_by_name(kv.first.as<std::string>());
        ASSERT_TRUE(f.has_value()) << name << ": unknown field " << kv.first.as<std::string>();
        if (kv.second.IsNull()) {
          record.clear(*f);
        } else {
          record.set(*f, kv.second.as<std::string>());
        }
      }
      std::vector<std::string> expected;
      if (c["expect"].IsSequence()) {
        for (const auto& r : c["expect"]) expected.push_back(r.as<std::string>());
      } else {
        ASSERT_EQ(c["expect"].as<std::string>(), "valid") << name;
      }
      auto verdict = rules.validate(record, now);
      std::vector<std::string> got;
      for (const auto& v : verdict.violations) {
        got.emplace_back(v.rule);
        rules_broken.insert(std::string(v.rule));
      }
      EXPECT_EQ(got, expected) << entry.path().filename() << ": " << name;
    }
  }
  EXPECT_GE(files, 3);
  for (const char* name : {"identity.yaml", "dates_and_places.yaml", "text_hygiene.yaml"}) {
    EXPECT_TRUE(file_names.count(name)) << name << " was not run";
  }
  EXPECT_GE(cases, 120);
  for (const auto& id : rules.rule_ids()) {
    EXPECT_TRUE(rules_broken.count(id)) << "no case breaks rule " << id;
  }
}

}  // namespace
}  // namespace sluice::rules
