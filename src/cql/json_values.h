// Bound values from JSON, typed by a prepared statement's bind columns: lets tools (and
// `sluice cql --values`) run parameterised statements without a C++ value per type.
//   text/ascii/varchar, uuid/timeuuid, inet  <- string
//   int, bigint, double                      <- number;  boolean <- true/false
//   date <- "YYYY-MM-DD";  timestamp <- "YYYY-MM-DDTHH:MM:SS[.mmm]Z" or epoch millis
//   blob <- "0x..." hex;   list/set <- array;  map <- object (text keys) or [[k, v], ...]
//   varint, decimal <- number or string (strings keep every digit: "1234...890", "1E+40")
//   float <- number, "NaN", "Infinity";  smallint, tinyint <- number (range-checked)
//   time <- "HH:MM:SS[.fffffffff]" or nanos;  duration <- "1h30m" or "PT1H30M"
//   tuple <- array;  UDT <- object (missing fields null);  vector<T, N> <- array of N
//   any type <- null
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cql/protocol.h"

namespace sluice::cql {

/// One JSON value as a cell of `type`; the error names the expected form.
result<bound_value> json_to_value(const column_type& type, const nlohmann::json& value);

/// A JSON array with one value per bind column, or an object by marker name where a
/// marker left out is unset (protocol v4: its column is not written); errors name the
/// column.
result<std::vector<bound_value>> json_to_values(const std::vector<column_spec>& columns,
                                                const nlohmann::json& values);

}  // namespace sluice::cql
