// Unit tests for hex text: every byte value encodes to two lowercase digits, and digits of
// either case decode while anything else is -1.
#include <gtest/gtest.h>

#include <string>

#include "base/hex.h"

namespace sluice {
namespace {

TEST(Hex, EveryByteBecomesTwoLowercaseDigits) {
  EXPECT_EQ(lower_hex(std::string("\x00\x1b\x7f\x80\xff", 5)), "001b7f80ff");
  EXPECT_EQ(lower_hex(""), "");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  auto hex = lower_hex(all);
  ASSERT_EQ(hex.size(), 512u);
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(hex_digit_value(hex[2 * b]) * 16 + hex_digit_value(hex[2 * b + 1]), b);
  }
}

TEST(Hex, DigitsOfEitherCaseDecodeAndOthersAreMinusOne) {
  EXPECT_EQ(hex_digit_value('0'), 0);
  EXPECT_EQ(hex_digit_value('a'), 10);
  EXPECT_EQ(hex_digit_value('F'), 15);
  for (char c : {'g', 'G', ' ', '%', '\0', '/', ':', '@', '`'}) EXPECT_EQ(hex_digit_value(c), -1);
}

}  // namespace
}  // namespace sluice
