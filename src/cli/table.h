// Output helpers shared by the verbs that print records: aligned text tables and CQL
// rows as a table or as JSON lines.
#pragma once

#include <string>
#include <vector>

#include "cql/cql.h"

namespace sluice::cli {

/// Prints a header row, the rows with columns padded to their widest cell, and
/// "(N rows)". Cells are printed as given (callers shorten long ones).
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

/// CQL rows as an aligned table ("table") or one JSON object per row ("json").
void print_rows(const cql::rows_result& rows, const std::string& output);

/// `text` cut to `width` characters with "..." and control bytes shown as '.', for
/// table cells.
std::string shorten(std::string_view text, std::size_t width);

}  // namespace sluice::cli
