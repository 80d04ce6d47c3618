// JSON form of a user_record: one flat object with the twelve schema fields, a missing
// field written as null. This is `sluice gen`'s default output (JSON lines) and the
// plain-JSON message format the processor accepts beside Avro.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "model/user.h"

namespace sluice::model {

/// Appends `text` as a JSON string literal (quoted and escaped) to `out`.
void append_json_string(std::string_view text, std::string& out);

/// Appends the record as one JSON object (no trailing newline) to `out`.
void append_json(const user_record& record, std::string& out);

/// Parses a flat JSON object into a record. Unknown keys are ignored; a field that is
/// not a string or null is an error naming the field.
result<user_record> parse_json(std::string_view text);

}  // namespace sluice::model
