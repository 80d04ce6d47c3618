// Decode, validate and convert one record (see route.h).
#include "pipeline/route.h"

#include "model/user.h"
#include "pipeline/user_row.h"

namespace sluice::pipeline {

record_view view_of(const kafka::message& m) {
  return {m.topic().str(), m.partition().value(), m.offset().value(), m.timestamp_ms(),
          m.has_value() ? std::optional<std::string_view>(m.value()) : std::nullopt};
}

routed route_record(const record_view& m, value_decoder& decoder, const rules::rule_set& rules,
                    std::chrono::sys_seconds now, std::vector<std::string>& violated) {
  violated.clear();
  auto d = decoder.decode(m.value);
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
  auto row = user_row(d.record, {m.topic, m.partition, m.offset, m.timestamp_ms}, d.schema_id,
                      rules.version());
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

}  // namespace sluice::pipeline
