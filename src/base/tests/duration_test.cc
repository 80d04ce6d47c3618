// parse_duration: the units, and the values refused with a reason.
#include "base/duration.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(Duration, EachUnit) {
  EXPECT_EQ(*parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(*parse_duration("15m"), milliseconds(15 * 60'000));
  EXPECT_EQ(*parse_duration("12h"), milliseconds(12 * 3'600'000));
  EXPECT_EQ(*parse_duration("7d"), milliseconds(7 * 86'400'000LL));
  EXPECT_EQ(*parse_duration("0s"), milliseconds(0));
}

TEST(Duration, RefusedValuesQuoteTheText) {
  for (const char* text :
       {"", "7", "d", "7x", "-7d", "+7d", "7.5h", "1 d", "7dd", "99999999999d"}) {
    auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.err().code, errc::invalid_argument);
    EXPECT_NE(parsed.err().message.find(fmt::format("'{}'", text)), std::string::npos)
        << parsed.err().message;
  }
}

}  // namespace
}  // namespace sluice
