// Pure text checks shared by the rules engine and the processor's column typing:
// calendar dates, ISO 8601 UTC timestamps, UTF-8 well-formedness and length, control
// characters and the nil / max UUIDs.
#include <array>

#include "rules/rules.h"

namespace sluice::rules {
namespace {

bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    char c = text[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = value;
  return true;
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap(year) ? 29 : days[month - 1];
}

// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

result<std::int64_t> parse_date_part(std::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() < 10 || !digits(text, 0, 4, year) || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day)) {
    return make_error(errc::parse, "'{}' is not a YYYY-MM-DD date", text);
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
    return make_error(errc::parse, "'{}' is not a calendar day", text.substr(0, 10));
  }
  return days_from_civil(year, month, day);
}

}  // namespace

result<std::int32_t> parse_date_days(std::string_view text) {
  if (text.size() != 10) return make_error(errc::parse, "'{}' is not a YYYY-MM-DD date", text);
  auto days = parse_date_part(text);
  if (!days) return days.err();
  return static_cast<std::int32_t>(*days);
}

result<std::int64_t> parse_timestamp_ms(std::string_view text) {
  auto days = parse_date_part(text);
  int hour = 0, minute = 0, second = 0;
  if (!days || text.size() < 20 || text[10] != 'T' || !digits(text, 11, 2, hour) ||
      text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second) || text.back() != 'Z') {
    return make_error(errc::parse, "'{}' is not a YYYY-MM-DDTHH:MM:SS[.fff]Z timestamp", text);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return make_error(errc::parse, "'{}' has an impossible time of day", text);
  }
  std::int64_t millis = 0;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    std::size_t first = ++pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == first || pos - first > 9) {
      return make_error(errc::parse, "'{}' has a malformed fraction of a second", text);
    }
  }
  if (pos != text.size() - 1) {
    return make_error(errc::parse, "'{}' is not a YYYY-MM-DDTHH:MM:SS[.fff]Z timestamp", text);
  }
  return ((*days * 24 + hour) * 60 + minute) * 60'000LL + second * 1000LL + millis;
}

std::size_t code_points(std::string_view utf8) {
  std::size_t count = 0;
  for (unsigned char c : utf8) count += (c & 0xC0) != 0x80;
  return count;
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::array<std::uint32_t, 4> minimum = {0, 0x80, 0x800, 0x10000};
    if (cp < minimum[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
    i += extra + 1;
  }
  return true;
}

bool has_control_char(std::string_view utf8) {
  for (char ch : utf8) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return false;
}

bool is_nil_or_max_uuid(std::string_view text) {
  auto all_digits = [text](bool (*is_digit)(char)) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < 36; ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? text[i] != '-' : !is_digit(text[i])) return false;
    }
    return true;
  };
  return all_digits([](char c) { return c == '0'; }) ||
         all_digits([](char c) { return c == 'f' || c == 'F'; });
}

}  // namespace sluice::rules
