// Encoding and bounds-checked decoding of CQL native protocol v4 frames.
#include "cql/protocol.h"

#include <cstring>
#include <tuple>

#include <fmt/format.h>

#include "cql/types.h"

namespace sluice::cql {
namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

constexpr std::uint8_t flag_values = 0x01, flag_page_size = 0x04, flag_paging_state = 0x08;
constexpr std::int32_t rows_global_spec = 0x01, rows_has_more = 0x02, rows_no_metadata = 0x04;

void write_params(writer& w, consistency level, std::span<const bound_value> values,
                  std::int32_t page_size, const std::optional<std::string>& paging_state) {
  w.i16(static_cast<std::int16_t>(level));
  std::uint8_t flags = 0;
  if (!values.empty()) flags |= flag_values;
  if (page_size > 0) flags |= flag_page_size;
  if (paging_state) flags |= flag_paging_state;
  w.u8(flags);
  if (!values.empty()) {
    w.i16(static_cast<std::int16_t>(values.size()));
    for (const auto& v : values) w.bytes(v);
  }
  if (page_size > 0) w.i32(page_size);
  if (paging_state) w.bytes(*paging_state);
}

result<column_type> read_type(reader& r, int depth) {
  if (depth > 16) return make_error(errc::protocol, "CQL type nested too deeply");
  column_type t;
  t.id = static_cast<type_id>(r.u16());
  switch (t.id) {
    case type_id::custom: {
      // Types protocol v4 has no id for (duration, vector, ...) come as a class name.
      auto name = r.string();
      if (!r.ok()) break;
      auto parsed = parse_type_class(name);
      if (!parsed) return parsed.err();
      t = std::move(*parsed);
      break;
    }
    case type_id::list:
    case type_id::set: {
      auto inner = read_type(r, depth + 1);
      if (!inner) return inner;
      t.params.push_back(*inner);
      break;
    }
    case type_id::map:
      for (int i = 0; i < 2; ++i) {
        auto inner = read_type(r, depth + 1);
        if (!inner) return inner;
        t.params.push_back(*inner);
      }
      break;
    case type_id::udt: {
      t.udt_keyspace = r.string();
      t.udt_name = r.string();
      int n = r.u16();
      // Each field takes at least a [string] and an option id: 4 bytes.
      if (r.ok() && static_cast<std::size_t>(n) * 4 > r.remaining())
        return make_error(errc::protocol, "UDT {}.{} claims {} fields, more than the frame holds",
                          t.udt_keyspace, t.udt_name, n);
      for (int i = 0; i < n && r.ok(); ++i) {
        t.field_names.emplace_back(r.string());
        auto inner = read_type(r, depth + 1);
        if (!inner) return inner;
        t.params.push_back(*inner);
      }
      break;
    }
    case type_id::tuple: {
      int n = r.u16();
      if (r.ok() && static_cast<std::size_t>(n) * 2 > r.remaining())
        return make_error(errc::protocol, "tuple claims {} elements, more than the frame holds", n);
      for (int i = 0; i < n && r.ok(); ++i) {
        auto inner = read_type(r, depth + 1);
        if (!inner) return inner;
        t.params.push_back(*inner);
      }
      break;
    }
    case type_id::vector:  // synthetic (parsed from a custom class), never a wire id
      return make_error(errc::protocol, "unknown CQL type id 0x{:04x}", static_cast<int>(t.id));
    default:
      break;
  }
  if (!r.ok()) return make_error(errc::protocol, "truncated CQL type");
  return t;
}

result<std::vector<column_spec>> read_columns(reader& r, std::int32_t flags, std::int32_t count) {
  std::vector<column_spec> cols;
  std::string ks, table;
  if (flags & rows_global_spec) {
    ks = r.string();
    table = r.string();
  }
  if (count < 0 || count > 65535) return make_error(errc::protocol, "bad column count {}", count);
  // Each column spec is at least a [string] name and an [option] id (plus keyspace and
  // table [string]s without a global table spec).
  const std::size_t min_column = (flags & rows_global_spec) ? 4 : 8;
  if (static_cast<std::size_t>(count) > r.remaining() / min_column) {
    return make_error(errc::protocol,
                      "column count {} is more than the {} metadata bytes left can hold", count,
                      r.remaining());
  }
  cols.reserve(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count && r.ok(); ++i) {
    column_spec c;
    if (flags & rows_global_spec) {
      c.keyspace = ks;
      c.table = table;
    } else {
      c.keyspace = r.string();
      c.table = r.string();
    }
    c.name = r.string();
    auto t = read_type(r, 0);
    if (!t) return t.err();
    c.type = *t;
    cols.push_back(std::move(c));
  }
  if (!r.ok()) return make_error(errc::protocol, "truncated column metadata");
  return cols;
}

result<void> read_rows(reader& r, rows_result& out) {
  auto flags = r.i32();
  auto count = r.i32();
  if (flags & rows_has_more) {
    auto state = r.bytes();
    if (state) out.paging_state = std::string(*state);
  }
  if (!(flags & rows_no_metadata)) {
    auto cols = read_columns(r, flags, count);
    if (!cols) return cols.err();
    out.columns = std::move(*cols);
  }
  if (count < 0 || count > 65535)
    return make_error(errc::protocol, "rows result with a bad column count {}", count);
  auto rows = r.i32();
  if (!r.ok()) return make_error(errc::protocol, "truncated rows result");
  if (rows < 0) return make_error(errc::protocol, "rows result with a negative row count {}", rows);
  if (rows > 0 && count == 0)
    return make_error(errc::protocol, "rows result with {} rows but no columns", rows);
  // Every cell is at least its 4-byte [bytes] length: bound the counts by what is left
  // before reserving anything.
  if (rows > 0 &&
      static_cast<std::size_t>(rows) > r.remaining() / (4 * static_cast<std::size_t>(count))) {
    return make_error(errc::protocol,
                      "rows result claims {} rows of {} columns but only {} bytes follow (a cell "
                      "is at least 4 bytes)",
                      rows, count, r.remaining());
  }
  out.rows.reserve(static_cast<std::size_t>(rows));
  for (std::int32_t i = 0; i < rows && r.ok(); ++i) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<std::size_t>(count));
    for (std::int32_t c = 0; c < count && r.ok(); ++c) {
      auto cell = r.bytes();
      row.emplace_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
    }
    out.rows.push_back(std::move(row));
  }
  if (!r.ok()) return make_error(errc::protocol, "truncated rows result");
  return ok();
}

/// [inet]: a length-prefixed address (4 or 16 bytes) and an [int] port.
result<std::pair<std::string, int>> read_inet(reader& r, std::string_view event_type) {
  auto size = r.u8();
  if (!r.ok()) return make_error(errc::protocol, "{} EVENT has no [inet] address", event_type);
  if (size != 4 && size != 16) {
    return make_error(errc::protocol,
                      "{} EVENT has an [inet] address of {} bytes (an address is 4 or 16)",
                      event_type, size);
  }
  auto bytes = r.raw(size);
  auto port = r.i32();
  if (!r.ok()) {
    return make_error(errc::protocol, "{} EVENT has a truncated [inet] address ({} bytes left)",
                      event_type, r.remaining());
  }
  std::string text;
  if (size == 4) {
    text = fmt::format("{}.{}.{}.{}", static_cast<std::uint8_t>(bytes[0]),
                       static_cast<std::uint8_t>(bytes[1]), static_cast<std::uint8_t>(bytes[2]),
                       static_cast<std::uint8_t>(bytes[3]));
  } else {
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
      text += fmt::format(
          "{}{:x}", i ? ":" : "",
          (static_cast<std::uint8_t>(bytes[i]) << 8) | static_cast<std::uint8_t>(bytes[i + 1]));
    }
  }
  return std::pair<std::string, int>{text, port};
}

result<server_event> parse_event(reader& r) {
  server_event e;
  e.type = std::string(r.string());
  e.change = std::string(r.string());
  if (e.type == "SCHEMA_CHANGE") {
    e.target = std::string(r.string());
    e.keyspace = std::string(r.string());
    if (e.target != "KEYSPACE") e.name = std::string(r.string());
  } else {
    auto inet = read_inet(r, e.type);
    if (!inet) return inet.err();
    std::tie(e.address, e.port) = *inet;
  }
  if (!r.ok()) return make_error(errc::protocol, "truncated {} EVENT body", e.type);
  return e;
}

}  // namespace

void writer::i16(std::int16_t v) {
  put_be(out, static_cast<std::uint16_t>(v), 2);
}
void writer::i32(std::int32_t v) {
  put_be(out, static_cast<std::uint32_t>(v), 4);
}
void writer::string(std::string_view s) {
  i16(static_cast<std::int16_t>(s.size()));
  out.append(s);
}
void writer::long_string(std::string_view s) {
  i32(static_cast<std::int32_t>(s.size()));
  out.append(s);
}
void writer::short_bytes(std::string_view s) {
  string(s);
}
void writer::bytes(const bound_value& v) {
  if (!v) {
    i32(v.unset ? -2 : -1);
    return;
  }
  i32(static_cast<std::int32_t>(v->size()));
  out.append(*v);
}
void writer::string_map(const std::vector<std::pair<std::string, std::string>>& m) {
  i16(static_cast<std::int16_t>(m.size()));
  for (const auto& [k, v] : m) {
    string(k);
    string(v);
  }
}

bool reader::need(std::size_t n) {
  if (!ok_ || remaining() < n) ok_ = false;
  return ok_;
}
std::uint8_t reader::u8() {
  return need(1) ? static_cast<std::uint8_t>(data_[pos_++]) : 0;
}
std::int16_t reader::i16() {
  if (!need(2)) return 0;
  auto v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(data_[pos_]) << 8) |
                                      static_cast<std::uint8_t>(data_[pos_ + 1]));
  pos_ += 2;
  return static_cast<std::int16_t>(v);
}
std::int32_t reader::i32() {
  if (!need(4)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(data_[pos_ + i]);
  pos_ += 4;
  return static_cast<std::int32_t>(v);
}
std::int64_t reader::i64() {
  if (!need(8)) return 0;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(data_[pos_ + i]);
  pos_ += 8;
  return static_cast<std::int64_t>(v);
}
std::string_view reader::raw(std::size_t n) {
  if (!need(n)) return {};
  auto out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}
std::string_view reader::string() {
  auto n = u16();
  return raw(n);
}
std::string_view reader::long_string() {
  auto n = i32();
  if (n < 0) ok_ = false;
  return ok_ ? raw(static_cast<std::size_t>(n)) : std::string_view{};
}
std::string_view reader::short_bytes() {
  return string();
}
std::optional<std::string_view> reader::bytes() {
  auto n = i32();
  if (!ok_ || n < 0) return std::nullopt;
  return raw(static_cast<std::size_t>(n));
}

void begin_frame(std::string& out, std::int16_t stream, opcode op) {
  out.push_back(static_cast<char>(protocol_version));
  out.push_back(0);
  put_be(out, static_cast<std::uint16_t>(stream), 2);
  out.push_back(static_cast<char>(op));
  put_be(out, 0, 4);
}

void finish_frame(std::string& out, std::size_t frame_start) {
  auto length = static_cast<std::uint32_t>(out.size() - frame_start - header_size);
  for (int i = 0; i < 4; ++i) {
    out[frame_start + 5 + static_cast<std::size_t>(i)] =
        static_cast<char>((length >> (8 * (3 - i))) & 0xFF);
  }
}

result<frame_header> parse_header(std::string_view bytes) {
  reader r(bytes);
  frame_header h;
  h.version = r.u8();
  h.flags = r.u8();
  h.stream = r.i16();
  auto op = r.u8();
  h.length = static_cast<std::uint32_t>(r.i32());
  if (!r.ok()) return make_error(errc::protocol, "truncated frame header ({} bytes)", bytes.size());
  if ((h.version & 0x7F) < 3 || (h.version & 0x7F) > 5) {
    return make_error(errc::protocol, "unsupported protocol version byte 0x{:02x}", h.version);
  }
  if (op > static_cast<std::uint8_t>(opcode::auth_success) || op == 0x04) {
    return make_error(errc::protocol, "unknown opcode 0x{:02x}", op);
  }
  if (h.length > max_body_size) {
    auto e = make_error(errc::protocol, "frame body of {} bytes exceeds the {} byte limit",
                        h.length, max_body_size);
    e.detail = frame_too_large;
    return e;
  }
  h.op = static_cast<opcode>(op);
  return h;
}

void write_startup(std::string& out, std::int16_t stream, std::string_view compression) {
  auto start = out.size();
  begin_frame(out, stream, opcode::startup);
  std::vector<std::pair<std::string, std::string>> options = {{"CQL_VERSION", "3.0.0"},
                                                              {"DRIVER_NAME", "sluice"}};
  if (!compression.empty()) options.emplace_back("COMPRESSION", std::string(compression));
  writer{out}.string_map(options);
  finish_frame(out, start);
}

void write_options(std::string& out, std::int16_t stream) {
  auto start = out.size();
  begin_frame(out, stream, opcode::options);
  finish_frame(out, start);
}

void write_plain_auth_response(std::string& out, std::int16_t stream, std::string_view user,
                               std::string_view password) {
  auto start = out.size();
  begin_frame(out, stream, opcode::auth_response);
  std::string token;
  token.push_back('\0');
  token.append(user);
  token.push_back('\0');
  token.append(password);
  writer{out}.bytes(token);
  finish_frame(out, start);
}

void write_register(std::string& out, std::int16_t stream, const std::vector<std::string>& events) {
  auto start = out.size();
  begin_frame(out, stream, opcode::register_events);
  writer w{out};
  w.i16(static_cast<std::int16_t>(events.size()));
  for (const auto& e : events) w.string(e);
  finish_frame(out, start);
}

void write_query(std::string& out, std::int16_t stream, std::string_view cql,
                 const query_params& p) {
  auto start = out.size();
  begin_frame(out, stream, opcode::query);
  writer w{out};
  w.long_string(cql);
  write_params(w, p.level, p.values, p.page_size, p.paging_state);
  finish_frame(out, start);
}

void write_prepare(std::string& out, std::int16_t stream, std::string_view cql) {
  auto start = out.size();
  begin_frame(out, stream, opcode::prepare);
  writer{out}.long_string(cql);
  finish_frame(out, start);
}

void write_execute(std::string& out, std::int16_t stream, std::string_view prepared_id,
                   consistency level, std::span<const bound_value> values, std::int32_t page_size,
                   const std::optional<std::string>& paging_state) {
  auto start = out.size();
  begin_frame(out, stream, opcode::execute);
  writer w{out};
  w.short_bytes(prepared_id);
  write_params(w, level, values, page_size, paging_state);
  finish_frame(out, start);
}

void write_batch(std::string& out, std::int16_t stream, batch_kind kind,
                 std::string_view prepared_id,
                 const std::vector<std::vector<bound_value>>& statements, consistency level) {
  auto start = out.size();
  begin_frame(out, stream, opcode::batch);
  writer w{out};
  w.u8(static_cast<std::uint8_t>(kind));
  w.i16(static_cast<std::int16_t>(statements.size()));
  for (const auto& values : statements) {
    w.u8(1);  // kind 1: a prepared statement id follows
    w.short_bytes(prepared_id);
    w.i16(static_cast<std::int16_t>(values.size()));
    for (const auto& v : values) w.bytes(v);
  }
  w.i16(static_cast<std::int16_t>(level));
  w.u8(0);  // flags: no serial consistency, no default timestamp
  finish_frame(out, start);
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

namespace {

/// The fields after the message of the errors the retry policy looks at. Lenient: a
/// server that leaves them out still gives a usable error (has_details stays false).
void read_error_details(reader& body, server_error& e) {
  reader r = body;
  server_error d;
  d.level = r.u16();
  switch (e.code) {
    case 0x1000:  // <cl><required><alive>
      d.block_for = r.i32();
      d.received = r.i32();
      break;
    case 0x1100:  // <cl><received><blockfor><writeType>
      d.received = r.i32();
      d.block_for = r.i32();
      d.write_type = std::string(r.string());
      break;
    case 0x1200:  // <cl><received><blockfor><data_present>
      d.received = r.i32();
      d.block_for = r.i32();
      d.data_present = r.u8() != 0;
      break;
    case 0x1300:  // <cl><received><blockfor><numfailures><data_present>
      d.received = r.i32();
      d.block_for = r.i32();
      r.i32();
      d.data_present = r.u8() != 0;
      break;
    case 0x1500:  // <cl><received><blockfor><numfailures><writeType>
      d.received = r.i32();
      d.block_for = r.i32();
      r.i32();
      d.write_type = std::string(r.string());
      break;
    default:
      return;
  }
  if (!r.ok()) return;
  e.has_details = true;
  e.level = d.level;
  e.received = d.received;
  e.block_for = d.block_for;
  e.data_present = d.data_present;
  e.write_type = std::move(d.write_type);
}

}  // namespace

result<response> parse_response(const frame_header& header, std::string_view body) {
  reader r(body);
  response res;
  res.op = header.op;
  // Optional prefixes announced by header flags: tracing id, warnings, custom payload.
  if (header.flags & 0x02) r.raw(16);
  if (header.flags & 0x08) {
    auto count = r.u16();
    for (int i = 0; i < count && r.ok(); ++i) res.warnings.emplace_back(r.string());
  }
  if (header.flags & 0x04) {
    auto count = r.u16();
    for (int i = 0; i < count && r.ok(); ++i) {
      r.string();
      r.bytes();
    }
  }
  if (header.flags & 0x01)
    return make_error(errc::protocol, "compressed frame but no compression was negotiated");
  if (header.op == opcode::error) {
    server_error e;
    e.code = r.i32();
    e.message = std::string(r.string());
    if (e.code == error_unprepared) e.unprepared_id = std::string(r.short_bytes());
    if (!r.ok()) return make_error(errc::protocol, "truncated ERROR body");
    read_error_details(r, e);
    res.error = std::move(e);
    return res;
  }
  if (header.op == opcode::authenticate) {
    res.authenticator = std::string(r.string());
    if (!r.ok()) return make_error(errc::protocol, "truncated AUTHENTICATE body");
    return res;
  }
  if (header.op == opcode::supported) {
    auto count = r.u16();
    for (int i = 0; i < count && r.ok(); ++i) {
      auto& entry = res.supported.emplace_back(std::string(r.string()), std::vector<std::string>{});
      auto n = r.u16();
      for (int j = 0; j < n && r.ok(); ++j) entry.second.emplace_back(r.string());
    }
    if (!r.ok()) return make_error(errc::protocol, "truncated SUPPORTED body");
    return res;
  }
  if (header.op == opcode::event) {
    auto event = parse_event(r);
    if (!event) return event.err();
    res.event = std::move(*event);
    return res;
  }
  if (header.op != opcode::result) return res;
  res.result_kind = r.i32();
  switch (res.result_kind) {
    case 1:
    case 3:
    case 5:
      break;
    case 2: {
      auto rows = read_rows(r, res.rows);
      if (!rows) return rows.err();
      break;
    }
    case 4: {
      res.prepared.id = std::string(r.short_bytes());
      auto flags = r.i32();
      auto count = r.i32();
      if ((header.version & 0x7F) >= 4) {  // v3 has no partition key indexes
        auto pk_count = r.i32();
        for (std::int32_t i = 0; i < pk_count && r.ok() && i < 65536; ++i)
          res.prepared.partition_key_indexes.push_back(r.i16());
      }
      auto cols = read_columns(r, flags, count);
      if (!cols) return cols.err();
      res.prepared.bind_columns = std::move(*cols);
      rows_result meta;
      auto result_flags = r.i32();
      auto result_count = r.i32();
      if (!(result_flags & rows_no_metadata)) {
        if (result_flags & rows_has_more) r.bytes();
        auto rcols = read_columns(r, result_flags, result_count);
        if (!rcols) return rcols.err();
        res.prepared.result_columns = std::move(*rcols);
      }
      break;
    }
    default:
      return make_error(errc::protocol, "unknown RESULT kind {}", res.result_kind);
  }
  if (!r.ok()) return make_error(errc::protocol, "truncated RESULT body");
  return res;
}

server_error_kind error_kind(std::int32_t code) {
  switch (code) {
    case 0x0000:
      return server_error_kind::server;
    case 0x000A:
      return server_error_kind::protocol;
    case 0x0100:
      return server_error_kind::authentication;
    case 0x1000:
      return server_error_kind::unavailable;
    case 0x1001:
      return server_error_kind::overloaded;
    case 0x1002:
      return server_error_kind::bootstrapping;
    case 0x1003:
      return server_error_kind::truncate;
    case 0x1100:
      return server_error_kind::write_timeout;
    case 0x1200:
      return server_error_kind::read_timeout;
    case 0x1300:
      return server_error_kind::read_failure;
    case 0x1400:
      return server_error_kind::function_failure;
    case 0x1500:
      return server_error_kind::write_failure;
    case 0x2000:
      return server_error_kind::syntax;
    case 0x2100:
      return server_error_kind::unauthorized;
    case 0x2200:
      return server_error_kind::invalid;
    case 0x2300:
      return server_error_kind::config;
    case 0x2400:
      return server_error_kind::already_exists;
    case 0x2500:
      return server_error_kind::unprepared;
    default:
      return server_error_kind::unknown;
  }
}

std::string_view error_name(std::int32_t code) {
  switch (code) {
    case 0x0000:
      return "server error";
    case 0x000A:
      return "protocol error";
    case 0x0100:
      return "authentication error";
    case 0x1000:
      return "unavailable";
    case 0x1001:
      return "overloaded";
    case 0x1002:
      return "is bootstrapping";
    case 0x1003:
      return "truncate error";
    case 0x1100:
      return "write timeout";
    case 0x1200:
      return "read timeout";
    case 0x1300:
      return "read failure";
    case 0x1400:
      return "function failure";
    case 0x1500:
      return "write failure";
    case 0x2000:
      return "syntax error";
    case 0x2100:
      return "unauthorized";
    case 0x2200:
      return "invalid query";
    case 0x2300:
      return "config error";
    case 0x2400:
      return "already exists";
    case 0x2500:
      return "unprepared";
    default:
      return "error";
  }
}

}  // namespace sluice::cql
