// Aligned tables and JSON lines for the verbs' record output (see table.h).
#include "cli/table.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/user_query.h"

namespace sluice::cli {
namespace {

/// Length of the well-formed UTF-8 sequence at the start of `text` (0 if there is none)
/// and its code point.
std::size_t utf8_sequence(std::string_view text, char32_t& code_point) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  std::size_t length = lead < 0x80                    ? 1
                       : lead >= 0xC2 && lead <= 0xDF ? 2
                       : lead >= 0xE0 && lead <= 0xEF ? 3
                       : lead >= 0xF0 && lead <= 0xF4 ? 4
                                                      : 0;
  if (length == 0 || length > text.size()) return 0;
  code_point = length == 1 ? lead : lead & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  static constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
  bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (code_point < smallest[length] || surrogate || code_point > 0x10FFFF) return 0;
  return length;
}

bool terminal_acts_on(char32_t c) {
  bool control = c < 0x20 || (c >= 0x7F && c <= 0x9F);
  bool bidi_override = (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
  return control || bidi_override;
}

/// Characters a terminal shows, for column widths (cells are terminal_safe already).
std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80 ? 1 : 0;
  return width;
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    char32_t c = 0;
    std::size_t length = utf8_sequence(text, c);
    if (length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[0]));
      text.remove_prefix(1);
      continue;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x80 && terminal_acts_on(c)) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    } else if (terminal_acts_on(c)) {
      out += fmt::format("\\u{{{:04x}}}", static_cast<unsigned>(c));
    } else {
      out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  return out;
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  auto safe_row = [](const std::vector<std::string>& cells) {
    std::vector<std::string> safe;
    for (const auto& cell : cells) safe.push_back(terminal_safe(cell));
    return safe;
  };
  std::vector<std::vector<std::string>> lines{safe_row(header)};
  for (const auto& row : rows) lines.push_back(safe_row(row));
  std::vector<std::size_t> width(header.size());
  for (const auto& line : lines) {
    for (std::size_t c = 0; c < line.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], display_width(line[c]));
  }
  auto print_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < width.size(); ++c) {
      if (c) line += "  ";
      const std::string& cell = c < cells.size() ? cells[c] : std::string();
      line += cell;
      if (c + 1 < width.size()) line.append(width[c] - display_width(cell), ' ');
    }
    fmt::print("{}\n", line);
  };
  print_line(lines.front());
  std::vector<std::string> rule;
  for (auto w : width) rule.emplace_back(w, '-');
  print_line(rule);
  for (std::size_t r = 1; r < lines.size(); ++r) print_line(lines[r]);
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
