// The CQL native protocol v4 as pure code, no sockets: frame headers, the primitive
// types of the spec ([int], [short], [string], [long string], [bytes], [string map]),
// request bodies (STARTUP, QUERY, PREPARE, EXECUTE) and the parsing of responses
// (READY, ERROR, RESULT of kind void, rows, set_keyspace, prepared, schema_change).
// Every read is bounds-checked: a truncated or malformed frame is an error, never a
// crash or an over-read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace sluice::cql {

inline constexpr std::uint8_t protocol_version = 4;
inline constexpr std::size_t header_size = 9;
inline constexpr std::uint32_t max_body_size = 256u << 20;

enum class opcode : std::uint8_t {
  error = 0x00,
  startup = 0x01,
  ready = 0x02,
  authenticate = 0x03,
  options = 0x05,
  supported = 0x06,
  query = 0x07,
  result = 0x08,
  prepare = 0x09,
  execute = 0x0A,
  register_events = 0x0B,
  event = 0x0C,
  batch = 0x0D,
  auth_challenge = 0x0E,
  auth_response = 0x0F,
  auth_success = 0x10,
};

enum class consistency : std::uint16_t {
  any = 0,
  one = 1,
  two = 2,
  three = 3,
  quorum = 4,
  all = 5,
  local_quorum = 6,
  each_quorum = 7,
  serial = 8,
  local_serial = 9,
  local_one = 10
};

struct frame_header {
  std::uint8_t version = 0;  // response frames have 0x80 set
  std::uint8_t flags = 0;
  std::int16_t stream = 0;
  opcode op = opcode::error;
  std::uint32_t length = 0;
};

/// A CQL identifier in double quotes with inner double quotes doubled: safe to splice
/// into a statement whatever the name holds.
std::string quote_identifier(std::string_view name);

/// Appends a request header; the length is patched by finish_frame().
void begin_frame(std::string& out, std::int16_t stream, opcode op);
void finish_frame(std::string& out, std::size_t frame_start);
/// A header whose length passes max_body_size is an error with error::detail
/// frame_too_large (its other fields are sound: the caller may skip the body).
result<frame_header> parse_header(std::string_view bytes);
inline constexpr int frame_too_large = 1;

/// A value bound to a statement: raw serialized bytes, null (empty), or unset (protocol
/// v4: the column is left as it is, no tombstone written; see unset_value()).
struct bound_value : std::optional<std::string> {
  using std::optional<std::string>::optional;
  bound_value(std::optional<std::string> v)  // NOLINT: implicit, as optional's own
      : std::optional<std::string>(std::move(v)) {}
  bool unset = false;
  friend bool operator==(const bound_value& a, const bound_value& b) {
    return a.unset == b.unset && static_cast<const std::optional<std::string>&>(a) ==
                                     static_cast<const std::optional<std::string>&>(b);
  }
};

/// The value that leaves its column untouched (a partial update without a read).
inline bound_value unset_value() {
  bound_value v;
  v.unset = true;
  return v;
}

/// Writers of the spec's primitive types.
struct writer {
  std::string& out;
  void u8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
  void i16(std::int16_t v);
  void i32(std::int32_t v);
  void string(std::string_view s);       // [string]
  void long_string(std::string_view s);  // [long string]
  void short_bytes(std::string_view s);  // [short bytes]
  void bytes(const bound_value& v);      // [bytes]; null = -1, unset = -2
  void string_map(const std::vector<std::pair<std::string, std::string>>& m);
};

/// A bounds-checked reader; after the first failure every read fails.
class reader {
 public:
  explicit reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::uint8_t u8();
  std::int16_t i16();
  std::uint16_t u16() { return static_cast<std::uint16_t>(i16()); }
  std::int32_t i32();
  std::int64_t i64();
  std::string_view string();
  std::string_view long_string();
  std::string_view short_bytes();
  std::optional<std::string_view> bytes();  // nullopt for null
  std::string_view raw(std::size_t n);

 private:
  bool need(std::size_t n);
  std::string_view data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

struct query_params {
  consistency level = consistency::local_quorum;
  std::vector<bound_value> values;
  std::int32_t page_size = 5000;  // <= 0: no paging
  std::optional<std::string> paging_state;
};

/// A user and password for Cassandra's PasswordAuthenticator (SASL PLAIN).
struct credentials {
  std::string username;
  std::string password;
};

/// STARTUP; `compression` is "" (none) or "lz4".
void write_startup(std::string& out, std::int16_t stream, std::string_view compression = "");
void write_options(std::string& out, std::int16_t stream);
/// AUTH_RESPONSE carrying a SASL PLAIN token (PasswordAuthenticator).
void write_plain_auth_response(std::string& out, std::int16_t stream, std::string_view user,
                               std::string_view password);
/// REGISTER for server events ("TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE").
void write_register(std::string& out, std::int16_t stream, const std::vector<std::string>& events);
void write_query(std::string& out, std::int16_t stream, std::string_view cql,
                 const query_params& p);
void write_prepare(std::string& out, std::int16_t stream, std::string_view cql);
/// BATCH types (spec section 4.1.7).
enum class batch_kind : std::uint8_t { logged = 0, unlogged = 1, counter = 2 };
/// A BATCH of one prepared statement executed once per value list.
void write_batch(std::string& out, std::int16_t stream, batch_kind kind,
                 std::string_view prepared_id,
                 const std::vector<std::vector<bound_value>>& statements, consistency level);
/// EXECUTE of a prepared statement with its values; page_size <= 0: unpaged (writes),
/// otherwise pages of that many rows, continuing from paging_state.
void write_execute(std::string& out, std::int16_t stream, std::string_view prepared_id,
                   consistency level, std::span<const bound_value> values,
                   std::int32_t page_size = 0,
                   const std::optional<std::string>& paging_state = std::nullopt);

/// CQL type ids of the spec (option ids).
enum class type_id : std::uint16_t {
  custom = 0x0000,
  ascii = 0x0001,
  bigint = 0x0002,
  blob = 0x0003,
  boolean = 0x0004,
  counter = 0x0005,
  decimal = 0x0006,
  double_ = 0x0007,
  float_ = 0x0008,
  int_ = 0x0009,
  timestamp = 0x000B,
  uuid = 0x000C,
  varchar = 0x000D,
  varint = 0x000E,
  timeuuid = 0x000F,
  inet = 0x0010,
  date = 0x0011,
  time = 0x0012,
  smallint = 0x0013,
  tinyint = 0x0014,
  duration = 0x0015,
  list = 0x0020,
  map = 0x0021,
  set = 0x0022,
  udt = 0x0030,
  tuple = 0x0031,
  /// Synthetic, never on the wire: Cassandra 5 sends vector<T, N> as the custom class
  /// "org.apache.cassandra.db.marshal.VectorType(T,N)", which the type parser maps here.
  vector = 0xFF01,
};

struct column_type {
  type_id id = type_id::custom;
  /// Element type(s) of list/set/map/tuple/vector; the field types of a UDT.
  std::vector<column_type> params;
  std::vector<std::string> field_names;  // UDT: one per params entry, in declared order
  std::string udt_keyspace, udt_name;    // UDT
  std::string custom_class;              // custom: a class name sluice does not know
  int dimension = 0;                     // vector: the number of elements
};

struct column_spec {
  std::string keyspace, table, name;
  column_type type;
};

/// The server's ERROR response: its code (per the spec) and message.
struct server_error {
  std::int32_t code = 0;
  std::string message;
  std::string unprepared_id;  // for code 0x2500
  // The details of unavailable (0x1000: required -> block_for, alive -> received), write
  // timeout/failure (0x1100, 0x1500) and read timeout/failure (0x1200, 0x1300); the retry
  // policy decides with them. `has_details` is false when the body did not carry them.
  bool has_details = false;
  std::uint16_t level = 0;  // the consistency the request asked for
  std::int32_t received = 0, block_for = 0;
  bool data_present = false;  // read timeout/failure: the replica asked for data answered
  std::string write_type;     // SIMPLE, BATCH, UNLOGGED_BATCH, COUNTER, BATCH_LOG, CAS, VIEW, CDC
};

struct rows_result {
  std::vector<column_spec> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // raw cell bytes
  std::optional<std::string> paging_state;
};

struct prepared_result {
  std::string id;
  std::vector<int> partition_key_indexes;  // bind markers forming the partition key
  std::vector<column_spec> bind_columns;
  std::vector<column_spec> result_columns;
};

/// A server push (EVENT, stream -1): its type and the details the spec gives for it.
struct server_event {
  std::string type;            // TOPOLOGY_CHANGE, STATUS_CHANGE or SCHEMA_CHANGE
  std::string change;          // NEW_NODE/REMOVED_NODE, UP/DOWN, CREATED/UPDATED/DROPPED
  std::string target;          // schema: KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
  std::string keyspace, name;  // schema: the keyspace and (for non-keyspace targets) name
  std::string address;         // topology/status: the node's address
  int port = 0;
};

/// A parsed response body.
struct response {
  opcode op = opcode::error;
  std::int32_t result_kind = 0;  // 1 void, 2 rows, 3 set_keyspace, 4 prepared, 5 schema_change
  std::optional<server_error> error;
  std::vector<std::string> warnings;  // server warnings (header flag 0x08)
  rows_result rows;
  prepared_result prepared;
  server_event event;         // for opcode::event
  std::string authenticator;  // for opcode::authenticate
  std::vector<std::pair<std::string, std::vector<std::string>>> supported;  // SUPPORTED
};

result<response> parse_response(const frame_header& header, std::string_view body);

/// The server's error codes (spec section 9) a caller may act on.
enum class server_error_kind {
  server,
  protocol,
  authentication,
  unavailable,
  overloaded,
  bootstrapping,
  truncate,
  write_timeout,
  read_timeout,
  read_failure,
  function_failure,
  write_failure,
  syntax,
  unauthorized,
  invalid,
  config,
  already_exists,
  unprepared,
  unknown,
};
server_error_kind error_kind(std::int32_t code);

/// "Invalid query", "Unprepared", ... for an error code.
std::string_view error_name(std::int32_t code);
inline constexpr std::int32_t error_unprepared = 0x2500;

}  // namespace sluice::cql
