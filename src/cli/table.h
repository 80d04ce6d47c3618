// Output helpers shared by the verbs that print records: aligned text tables and CQL
// rows as a table or as JSON lines.
#pragma once

#include <string>
#include <vector>

#include "cql/cql.h"

namespace sluice::cli {

/// Prints a header row, the rows with columns padded to their widest cell, and
/// "(N rows)". Cells pass through terminal_safe (callers shorten long ones).
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);

/// CQL rows as an aligned table ("table") or one JSON object per row ("json").
void print_rows(const cql::rows_result& rows, const std::string& output);

/// `text` with everything a terminal would act on escaped, so stored data cannot move the
/// cursor, recolour or forge lines: C0/C1 controls and DEL as \n, \r, \t or \xHH (\u{HHHH}
/// for C1), bidirectional overrides as \u{HHHH}, bytes that are not UTF-8 as \xHH.
std::string terminal_safe(std::string_view text);

/// `text` cut to `width` characters with "..." and control bytes shown as '.', for
/// table cells.
std::string shorten(std::string_view text, std::size_t width);

}  // namespace sluice::cli
