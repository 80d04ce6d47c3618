// Decode, validate and convert one record (see route.h).
#include "pipeline/route.h"
#include "base/hex.h"

#include <openssl/sha.h>

#include "model/user.h"
#include "pipeline/user_row.h"

namespace sluice::pipeline {

record_view view_of(const kafka::message& m) {
  return {m.topic().str(), m.partition().value(), m.offset().value(), m.timestamp_ms(),
          m.has_value() ? std::optional<std::string_view>(m.value()) : std::nullopt};
}

std::chrono::sys_seconds validation_clock(const record_view& m, std::chrono::sys_seconds fallback) {
  if (m.timestamp_ms < 0) return fallback;
  // Floor, not truncation toward zero: the clock never runs ahead of the record.
  return std::chrono::floor<std::chrono::seconds>(
      std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(m.timestamp_ms)));
}

routed route_record(const record_view& m, value_decoder& decoder, const rules::rule_set& rules,
                    std::chrono::sys_seconds now, std::vector<std::string>& violated,
                    const privacy::pseudonymiser* pseudonyms) {
  violated.clear();
  auto d = decoder.decode(m.value);
  if (d.unavailable) return retry_later{std::move(*d.unavailable)};
  if (d.failure) {
    violated.push_back(d.failure->rule);
    return dead_letter{d.failure->rule, "", d.failure->reason, d.schema_id};
  }
  auto verdict = rules.validate(d.record, now);
  if (!verdict.valid()) {
    dead_letter why{verdict.rule_ids(), "", "", d.schema_id};
    for (const auto& v : verdict.violations) {
      violated.emplace_back(v.rule);
      if (!why.fields.empty()) why.fields += ",";
      why.fields += model::name_of(v.field);
      if (!why.reason.empty()) why.reason += "; ";
      why.reason += fmt::format("{}: {}", model::name_of(v.field), v.reason);
    }
    return why;
  }
  std::optional<std::string_view> key_id;
  if (pseudonyms != nullptr) {
    pseudonyms->apply(d.record);
    key_id = pseudonyms->key_id();
  }
  auto row = user_row(d.record, {m.topic, m.partition, m.offset, m.timestamp_ms}, d.schema_id,
                      rules.version(), key_id);
  if (!row) {
    violated.emplace_back("type.convert");
    return dead_letter{"type.convert", "", row.err().message, d.schema_id};
  }
  return std::move(*row);
}

std::vector<kafka::header> dead_letter_headers(const record_view& m, const dead_letter& why,
                                               int contract_version) {
  std::vector<kafka::header> headers = {
      {"sluice.rule", why.rules},
      {"sluice.field", why.fields},
      {"sluice.reason", why.reason},
      {"sluice.source.topic", m.topic},
      {"sluice.source.partition", std::to_string(m.partition)},
      {"sluice.source.offset", std::to_string(m.offset)},
      {"sluice.contract.version", std::to_string(contract_version)},
  };
  if (why.schema_id) headers.push_back({"sluice.schema.id", std::to_string(*why.schema_id)});
  return headers;
}

namespace {

// What a record costs a batch beyond its key, value and header bytes: the record's own
// varints and attributes, each header's lengths, and the batch header (61 bytes), with room.
constexpr std::size_t record_overhead = 256;
constexpr std::size_t header_overhead = 16;

std::size_t letter_bytes(std::string_view key, std::string_view value,
                         const std::vector<kafka::header>& headers) {
  std::size_t n = record_overhead + key.size() + value.size();
  for (const auto& h : headers) n += header_overhead + h.name.size() + h.value.size();
  return n;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return lower_hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

}  // namespace

std::optional<int> schema_id_of(std::string_view value) {
  if (value.size() < 5 || value[0] != '\0') return std::nullopt;
  std::uint32_t id = 0;
  for (std::size_t i = 1; i <= 4; ++i) id = (id << 8) | static_cast<unsigned char>(value[i]);
  return static_cast<int>(id);
}

bool fit_dead_letter(std::string_view key, std::string& value, std::vector<kafka::header>& headers,
                     std::size_t max_bytes) {
  if (letter_bytes(key, value, headers) <= max_bytes) return false;
  headers.push_back({"sluice.truncated", "true"});
  headers.push_back({"sluice.original.bytes", std::to_string(value.size())});
  headers.push_back({"sluice.original.sha256", sha256_hex(value)});
  auto fixed = letter_bytes(key, "", headers);
  value.resize(fixed < max_bytes ? std::min(value.size(), max_bytes - fixed) : 0);
  return true;
}

}  // namespace sluice::pipeline
