// Tests of date, timestamp and UTF-8 helpers used for validation and column typing, and
// of the control-character and nil/max UUID helpers behind no_control and uuid_identity.
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

TEST(HasControlChar, every_c0_code_point_or_del_anywhere_detected) {
  for (int c = 0; c < 0x20; ++c) {
    std::string text = "Zo" + std::string(1, static_cast<char>(c)) + "ë";
    EXPECT_TRUE(has_control_char(text)) << "U+" << std::hex << c;
    EXPECT_TRUE(has_control_char(std::string(1, static_cast<char>(c)))) << "U+" << std::hex << c;
  }
  EXPECT_TRUE(has_control_char("Zoë\x7f"));
  EXPECT_TRUE(has_control_char("\x1b[31mred"));
  EXPECT_TRUE(has_control_char(std::string_view("ab\0cd", 5)));  // NUL inside, not at the end
}

TEST(HasControlChar, printable_ascii_and_multibyte_text_not_detected) {
  for (int c = 0x20; c < 0x7f; ++c) {
    EXPECT_FALSE(has_control_char(std::string(1, static_cast<char>(c)))) << c;
  }
  EXPECT_FALSE(has_control_char(""));
  EXPECT_FALSE(has_control_char("Zoë 山田 😀"));
  // Outside the contract's range: C1 NEL, no-break space, line and paragraph separators.
  EXPECT_FALSE(has_control_char("a\u0085b\u00a0c\u2028d\u2029e"));
}

TEST(NilOrMaxUuid, nil_or_max_in_any_case_detected) {
  EXPECT_TRUE(is_nil_or_max_uuid("00000000-0000-0000-0000-000000000000"));
  EXPECT_TRUE(is_nil_or_max_uuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
  EXPECT_TRUE(is_nil_or_max_uuid("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"));
  EXPECT_TRUE(is_nil_or_max_uuid("fFfFffff-FFFF-ffff-FfFf-ffffffffffFF"));
}

TEST(NilOrMaxUuid, near_nil_mixed_or_malformed_text_not_detected) {
  for (const char* other :
       {"00000000-0000-0000-0000-000000000001",    // near-nil, a valid identity
        "10000000-0000-0000-0000-000000000000",    // near-nil at the other end
        "ffffffff-ffff-ffff-ffff-fffffffffffe",    // near-max
        "00000000-0000-0000-ffff-ffffffffffff",    // half nil, half max
        "0fffffff-ffff-ffff-ffff-ffffffffffff",    // first digit differs
        "7f1d2c3a-1b2c-4d5e-8f90-0123456789ab",    // an ordinary UUID
        "00000000000000000000000000000000",        // no dashes
        "000000000-000-0000-0000-000000000000",    // dash misplaced
        "00000000-0000-0000-0000-0000000000000",   // one digit too many
        "00000000-0000-0000-0000-00000000000",     // one digit short
        "{00000000-0000-0000-0000-000000000000}",  // braces
        "\x10\x10\x10\x10\x10\x10\x10\x10-0000-0000-0000-000000000000",  // '0' | 0x20 look-alike
        "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFG", "", "nil"}) {
    EXPECT_FALSE(is_nil_or_max_uuid(other)) << other;
  }
}

}  // namespace
}  // namespace sluice::rules
