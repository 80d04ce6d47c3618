// JSON parsing with a nesting bound enforced before anything is built, for every document the
// registry reads from outside (request bodies, schema texts, _schemas records).
// nlohmann's parser itself is iterative, but dump(), conversions between json types and
// every recursive walk are not: a document 300,000 levels deep must never get that far.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "base/result.h"

namespace sluice::registry {

/// error::detail of a refusal for depth (as opposed to text that is not JSON).
inline constexpr int json_too_deep = 1;

/// Parses `text` as JSON nested at most `max_depth` levels (containers inside
/// containers). Errors (errc::parse) name `what` and, for depth, the limit (with detail
/// json_too_deep); they quote at most a short prefix of the text. Instantiated for
/// nlohmann::json and nlohmann::ordered_json.
template <typename Json>
result<Json> parse_bounded_json(std::string_view text, std::string_view what, int max_depth);

/// `text` cut to at most `limit` bytes (never inside a UTF-8 character) with "..."
/// appended when longer: quoting untrusted input in a message without quoting a
/// megabyte of it.
std::string clipped(std::string_view text, std::size_t limit = 120);

}  // namespace sluice::registry
