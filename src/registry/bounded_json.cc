// Depth-bounded JSON parsing (see bounded_json.h). The depth is measured by a scan of
// the brackets outside strings before nlohmann parses the text: exact for valid JSON
// (invalid JSON fails the parse anyway, and nlohmann's parser is iterative), a fraction
// of the parse's cost, and the deep document is never built. (A parser callback that
// refuses deep containers works too, but costs three plain parses.)
#include "registry/bounded_json.h"

#include <nlohmann/json.hpp>

namespace sluice::registry {
namespace {

// Whether containers in `text` nest deeper than `max_depth`, brackets inside strings
// (escapes included) not counting.
bool nests_deeper_than(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

std::string clipped(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  auto cut = limit;
  // Never inside a UTF-8 character: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

template <typename Json>
result<Json> parse_bounded_json(std::string_view text, std::string_view what, int max_depth) {
  if (nests_deeper_than(text, max_depth)) {
    auto refusal =
        make_error(errc::parse, "{} nests JSON deeper than {} levels (the limit)", what, max_depth);
    refusal.detail = json_too_deep;
    return refusal;
  }
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range (406)
    // for a number beyond double's range such as 1e400
    return make_error(errc::parse, "{} is not valid JSON: {}", what, clipped(e.what(), 240));
  }
}

template result<nlohmann::json> parse_bounded_json<nlohmann::json>(std::string_view,
                                                                   std::string_view, int);
template result<nlohmann::ordered_json> parse_bounded_json<nlohmann::ordered_json>(std::string_view,
                                                                                   std::string_view,
                                                                                   int);

}  // namespace sluice::registry
