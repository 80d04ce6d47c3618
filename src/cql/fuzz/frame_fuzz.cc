// libFuzzer target for everything the CQL client reads off the wire: the input is a
// server frame (9-byte header, then the body). It goes through parse_header and
// parse_response as the connection would (inflating LZ4 bodies first), its body is parsed
// as every opcode a server sends, inflated as an LZ4 body, and read as a cell of several
// column types (read_collection, cell_text). Rows a parse yields are rendered with their
// own column types. Any crash, sanitizer report, leak or huge allocation is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cql/compression.h"
#include "cql/protocol.h"
#include "cql/values.h"

namespace {

using namespace sluice::cql;

column_type of(type_id id, std::vector<column_type> params = {}) {
  column_type t;
  t.id = id;
  t.params = std::move(params);
  return t;
}

/// Column types whose cell readers the raw body is fed to.
const std::vector<column_type>& cell_types() {
  static const std::vector<column_type> types = {
      of(type_id::varchar),
      of(type_id::int_),
      of(type_id::bigint),
      of(type_id::boolean),
      of(type_id::double_),
      of(type_id::float_),
      of(type_id::uuid),
      of(type_id::inet),
      of(type_id::date),
      of(type_id::time),
      of(type_id::timestamp),
      of(type_id::smallint),
      of(type_id::tinyint),
      of(type_id::varint),
      of(type_id::decimal),
      of(type_id::duration),
      of(type_id::blob),
      of(type_id::list, {of(type_id::varchar)}),
      of(type_id::set, {of(type_id::int_)}),
      of(type_id::map, {of(type_id::varchar), of(type_id::bigint)}),
      of(type_id::list, {of(type_id::map, {of(type_id::int_), of(type_id::inet)})}),
      of(type_id::tuple, {of(type_id::int_), of(type_id::varchar)}),
      of(type_id::list, {}),  // a collection type missing its element type
  };
  return types;
}

/// Renders every cell of a parsed result with its column's type.
void render(const response& r) {
  const auto& rows = r.rows;
  for (const auto& row : rows.rows) {
    for (std::size_t c = 0; c < row.size() && c < rows.columns.size(); ++c)
      (void)cell_text(rows.columns[c].type, row[c]);
  }
}

constexpr opcode server_opcodes[] = {
    opcode::error,  opcode::ready, opcode::authenticate,   opcode::supported,
    opcode::result, opcode::event, opcode::auth_challenge, opcode::auth_success};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto body = input.substr(std::min(size, header_size));

  // As the connection reads it.
  auto header = parse_header(input.substr(0, std::min(size, header_size)));
  if (header && body.size() >= header->length) {
    auto framed = body.substr(0, header->length);
    frame_header h = *header;
    if (h.flags & 0x01) {
      auto plain = lz4_decompress_body(framed);
      if (plain) {
        h.flags = static_cast<std::uint8_t>(h.flags & ~0x01);
        auto r = parse_response(h, *plain);
        if (r) render(*r);
      }
    } else {
      auto r = parse_response(h, framed);
      if (r) render(*r);
    }
  }

  // The body as every response a server may send, in v4 and v3, with the header's
  // optional-prefix flags (tracing, custom payload, warnings).
  const std::uint8_t flags = size > 1 ? static_cast<std::uint8_t>(data[1] & 0x0E) : 0;
  for (std::uint8_t version : {std::uint8_t{0x84}, std::uint8_t{0x83}}) {
    for (auto op : server_opcodes) {
      frame_header h;
      h.version = version;
      h.flags = flags;
      h.op = op;
      auto r = parse_response(h, body);
      if (r) render(*r);
    }
  }

  // The body as an LZ4 body, and as a cell of each type.
  (void)lz4_decompress_body(body);
  (void)read_collection(body, 1);
  (void)read_collection(body, 2);
  const std::optional<std::string> cell{std::string(body)};
  for (const auto& type : cell_types()) (void)cell_text(type, cell);
  return 0;
}
