// Selecting dead letters by rule id: exact ids, prefixes ending in '.', and '*'.
#include "pipeline/dlq.h"

#include <gtest/gtest.h>

namespace sluice::pipeline {
namespace {

dead_letter_record with_rules(std::string rules) {
  dead_letter_record r;
  r.rules = std::move(rules);
  return r;
}

TEST(DeadLetterRule, ExactIdAmongSeveralMatches) {
  EXPECT_TRUE(with_rules("email.format,dob.range").has_rule("dob.range"));
  EXPECT_TRUE(with_rules("email.format,dob.range").has_rule("email.format"));
}

TEST(DeadLetterRule, PartialIdWithoutDotDoesNotMatch) {
  EXPECT_FALSE(with_rules("email.format").has_rule("email"));
  EXPECT_FALSE(with_rules("email.format").has_rule("email.form"));
}

TEST(DeadLetterRule, PrefixEndingInDotMatchesTheFamily) {
  EXPECT_TRUE(with_rules("decode.magic").has_rule("decode."));
  EXPECT_FALSE(with_rules("email.format").has_rule("decode."));
}

TEST(DeadLetterRule, StarMatchesEverythingAndEmptyRulesMatchNothingElse) {
  EXPECT_TRUE(with_rules("").has_rule("*"));
  EXPECT_FALSE(with_rules("").has_rule("email.format"));
}

}  // namespace
}  // namespace sluice::pipeline
