// Tests of date, timestamp and UTF-8 helpers used for validation and column typing.
#include <gtest/gtest.h>

#include "rules/rules.h"

namespace sluice::rules {
namespace {

TEST(TextChecks, DatesConvertToDaysSinceEpoch) {
  EXPECT_EQ(*parse_date_days("1970-01-01"), 0);
  EXPECT_EQ(*parse_date_days("1970-01-02"), 1);
  EXPECT_EQ(*parse_date_days("1969-12-31"), -1);
  EXPECT_EQ(*parse_date_days("2000-03-01"), 11017);
  EXPECT_EQ(*parse_date_days("1900-01-01"), -25567);
}

TEST(TextChecks, ImpossibleOrMalformedDatesAreErrors) {
  for (const char* bad : {"2023-02-29", "2023-04-31", "2023-00-10", "2023-1-1", "20230101",
                          "2023-01-01 ", "abcd-ef-gh", ""}) {
    EXPECT_FALSE(parse_date_days(bad).ok()) << bad;
  }
}

TEST(TextChecks, TimestampsConvertToMillisecondsWithFraction) {
  EXPECT_EQ(*parse_timestamp_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_timestamp_ms("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(*parse_timestamp_ms("2015-06-01T12:30:45.123Z"), 1433161845123);
  EXPECT_EQ(*parse_timestamp_ms("2015-06-01T12:30:45.123999Z"), 1433161845123);
}

TEST(TextChecks, MalformedTimestampsAreErrors) {
  for (const char* bad : {"2015-06-01T12:30:45", "2015-06-01 12:30:45Z", "2015-06-01T12:60:00Z",
                          "2015-06-01T12:30:45.Z", "2015-06-01T12:30:45.1234567890Z",
                          "2015-06-01T12:30:45+01:00", "2015-06-01"}) {
    EXPECT_FALSE(parse_timestamp_ms(bad).ok()) << bad;
  }
}

TEST(TextChecks, CodePointsCountCharactersNotBytes) {
  EXPECT_EQ(code_points("abc"), 3u);
  EXPECT_EQ(code_points("Zoë"), 3u);
  EXPECT_EQ(code_points("山田"), 2u);
  EXPECT_EQ(code_points("😀"), 1u);
}

TEST(TextChecks, MalformedUtf8IsDetected) {
  EXPECT_TRUE(valid_utf8("Zoë 山田 😀"));
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("abc\xc3"));           // truncated sequence
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace sluice::rules
