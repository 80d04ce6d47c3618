// Text helpers for untrusted HTTP input: strict UTF-8 validation (what nlohmann::json
// accepts when dumping), escaping for log lines so a request cannot forge or garble
// them, and bounded label values for the request method in metrics.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::web {

/// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past
/// U+10FFFF), i.e. when nlohmann::json can dump it without throwing.
bool valid_utf8(std::string_view text);

/// `text` made safe for one log line: control characters (C0, DEL, C1, U+2028/2029, bidi
/// overrides) and bytes that are not UTF-8 become `\n`, `\xNN` or `\u{NNNN}`, a backslash
/// becomes `\\`; longer than `max_bytes` input is cut and ends in "...(N bytes)".
std::string escape_for_log(std::string_view text, std::size_t max_bytes = 1024);

/// The method as a metric label: the standard methods (GET, HEAD, POST, PUT, DELETE,
/// PATCH, OPTIONS, CONNECT, TRACE) as they are, any other token "other", so clients
/// cannot create one time series per invented method.
std::string_view method_label(std::string_view method);

}  // namespace sluice::web
