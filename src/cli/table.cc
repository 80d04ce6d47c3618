// Aligned tables and JSON lines for the verbs' record output (see table.h).
#include "cli/table.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/user_query.h"

namespace sluice::cli {

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < width.size(); ++c) {
      if (c) line += "  ";
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      line += cell;
      if (c + 1 < width.size()) line.append(width[c] - cell.size(), ' ');
    }
    fmt::print("{}\n", line);
  };
  print_line(header);
  std::vector<std::string> rule;
  for (auto w : width) rule.emplace_back(w, '-');
  print_line(rule);
  for (const auto& row : rows) print_line(row);
  fmt::print("({} rows)\n", rows.size());
}

void print_rows(const cql::rows_result& rows, const std::string& output) {
  if (rows.columns.empty()) return;
  if (output == "json") {
    for (const auto& line : pipeline::rows_json(rows)) {
      fmt::print("{}\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return;
  }
  std::vector<std::string> header;
  for (const auto& column : rows.columns) header.push_back(column.name);
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows.rows) {
    auto& line = cells.emplace_back();
    for (std::size_t c = 0; c < rows.columns.size(); ++c)
      line.push_back(cql::cell_text(rows.columns[c].type, row[c]));
  }
  print_table(header, cells);
}

std::string shorten(std::string_view text, std::size_t width) {
  std::string out;
  for (char c : text.substr(0, std::min(text.size(), width))) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '.' : c);
  }
  if (text.size() > width) out += "...";
  return out;
}

}  // namespace sluice::cli
