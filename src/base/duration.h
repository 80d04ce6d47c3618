// Durations as operators write them on a command line: a whole number and a unit, "30s",
// "15m", "12h", "7d" (e.g. `sluice dlq purge --older-than 7d`).
#pragma once

#include <chrono>
#include <string_view>

#include "base/result.h"

namespace sluice {

/// Parses "<digits><unit>" with unit s, m, h or d (up to 100 years). Errors quote the
/// text and say what is expected; the caller adds the flag's name.
result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace sluice
