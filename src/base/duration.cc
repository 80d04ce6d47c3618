// Parsing "<n><unit>" durations (see duration.h).
#include "base/duration.h"

#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace sluice {

result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(errc::invalid_argument,
                      "'{}' is not a duration: {} (a whole number and s, m, h or d: 30s, 15m, "
                      "12h, 7d)",
                      text, why);
  };
  if (text.size() < 2) return bad("too short");
  std::int64_t unit_seconds = 0;
  switch (text.back()) {
    case 's':
      unit_seconds = 1;
      break;
    case 'm':
      unit_seconds = 60;
      break;
    case 'h':
      unit_seconds = 3600;
      break;
    case 'd':
      unit_seconds = 86400;
      break;
    default:
      return bad("no unit");
  }
  auto digits = text.substr(0, text.size() - 1);
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.front() == '-' ||
      digits.front() == '+')
    return bad("not a whole number");
  constexpr std::int64_t max_seconds = std::int64_t{100} * 366 * 86400;
  if (n > max_seconds / unit_seconds) return bad("longer than 100 years");
  return std::chrono::milliseconds(n * unit_seconds * 1000);
}

}  // namespace sluice
