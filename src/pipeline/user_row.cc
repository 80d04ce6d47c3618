// user_row: contract values to CQL cells (uuid, date, timestamp, text, int, bigint).
#include "pipeline/user_row.h"

#include <algorithm>

#include "rules/rules.h"

namespace sluice::pipeline {

using model::field;

const char* const upsert_user_cql =
    "INSERT INTO users (id, first_name, last_name, email, phone, gender, dob, address, "
    "postcode, username, registered_date, picture, contract_version, schema_id, source_topic, "
    "source_partition, source_offset, produced_at, pseudonym_key_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?";

std::int64_t write_timestamp_us(std::int64_t timestamp_ms, std::int64_t offset) {
  return std::max<std::int64_t>(timestamp_ms, 0) * 1000 + offset % 1'000'000;
}

result<std::vector<cql::bound_value>> user_row(const model::user_record& r,
                                               const record_origin& origin,
                                               std::optional<int> schema_id, int contract_version,
                                               std::optional<std::string_view> pseudonym_key_id) {
  auto id = cql::uuid_value(*r.get(field::id));
  if (!id) return id.err();
  auto dob = rules::parse_date_days(*r.get(field::dob));
  if (!dob) return dob.err();
  auto registered = rules::parse_timestamp_ms(*r.get(field::registered_date));
  if (!registered) return registered.err();
  auto text = [&r](field f) -> cql::bound_value {
    return r.get(f) ? cql::text_value(*r.get(f)) : std::nullopt;
  };
  return std::vector<cql::bound_value>{
      *id, text(field::first_name), text(field::last_name), text(field::email), text(field::phone),
      text(field::gender), cql::date_value(*dob), text(field::address), text(field::postcode),
      text(field::username), cql::timestamp_value(*registered), text(field::picture),
      cql::int_value(contract_version), schema_id ? cql::int_value(*schema_id) : std::nullopt,
      cql::text_value(origin.topic), cql::int_value(origin.partition),
      cql::bigint_value(origin.offset),
      origin.timestamp_ms >= 0 ? cql::timestamp_value(origin.timestamp_ms) : std::nullopt,
      // Empty, not null, when stored as received: a null would be a tombstone cell in every
      // row (scans count those against Cassandra's tombstone thresholds), and leaving the
      // column out would keep an earlier version's key id on a row now holding raw values.
      cql::text_value(pseudonym_key_id.value_or("")),
      cql::bigint_value(write_timestamp_us(origin.timestamp_ms, origin.offset))};
}

}  // namespace sluice::pipeline
