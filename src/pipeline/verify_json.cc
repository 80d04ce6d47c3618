// The verify report as JSON, shared by `sluice verify --output json` and the console.
#include "pipeline/verify.h"

namespace sluice::pipeline {
namespace {

nlohmann::json records_json(const std::vector<unaccounted_record>& records) {
  auto out = nlohmann::json::array();
  for (const auto& r : records)
    out.push_back({{"partition", r.partition}, {"offset", r.offset}, {"id", r.id}});
  return out;
}

}  // namespace

nlohmann::json verify_report_json(const verify_report& r, const verify_settings& settings) {
  auto snapshot = nlohmann::json::object();
  for (const auto& [p, span] : r.snapshot)
    snapshot[std::to_string(p)] = {{"begin", span.begin}, {"end", span.end}};
  auto removed = nlohmann::json::array();
  for (const auto& gap : r.letters_removed_without_receipt)
    removed.push_back(
        {{"partition", gap.partition}, {"first_offset", gap.from}, {"last_offset", gap.to - 1}});
  return {{"topic", settings.source_topic},
          {"manifest", settings.manifest_path},
          {"snapshot", snapshot},
          {"produced", r.produced},
          {"stored", r.stored},
          {"superseded", r.superseded},
          {"dead_lettered", r.dead_lettered},
          {"purged", r.purged},
          {"purge_receipts", r.purge_receipts},
          {"dead_letters_removed_without_receipt", removed},
          {"missing", r.missing},
          {"missing_records", records_json(r.missing_records)},
          {"in_both", r.in_both},
          {"in_both_records", records_json(r.in_both_records)},
          {"unexpected_rows", r.unexpected_rows},
          {"unexpected_row_examples", records_json(r.unexpected_row_examples)},
          {"unexpected_dead_letters", r.unexpected_letters},
          {"not_yet_processed", r.not_yet_processed},
          {"duplicate_dead_letters", r.duplicate_dead_letters},
          {"dead_by_rule", r.dead_by_rule},
          {"ok", r.ok()}};
}

}  // namespace sluice::pipeline
