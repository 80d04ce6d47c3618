// `sluice dlq`: the dead-letter topic for operators.
//   sluice dlq counts                     dead letters by rule, field and source topic
//   sluice dlq show [--rule R] [--limit N] the records with their reasons
//   sluice dlq replay --rule R [--to T]   send them back to the raw topic
//   sluice dlq purge --older-than 7d      delete old letters, receipts first
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/error.h"
#include "base/hex.h"
#include "cli/secret_flags.h"
#include "cli/table.h"
#include "cli/verb.h"
#include "pipeline/dlq.h"
#include "pipeline/dlq_purge.h"
#include "rules/rules.h"

namespace sluice::cli {
namespace {

struct dlq_options {
  pipeline::dlq_settings settings;
  kafka_flags kafka;
  std::string output = "table";
  std::string rule;
  std::size_t limit = 20;
  bool include_resent = false;
  std::string target_topic = "users.raw";
  std::size_t replay_limit = 0;
  bool dry_run = false;
  std::string older_than;
};

int run_counts(const dlq_options& o) {
  auto counts = pipeline::count_dead_letters(o.settings);
  if (!counts) throw fatal_error(counts.err());
  const auto& c = *counts;
  if (o.output == "json") {
    nlohmann::json j = {{"records", c.records},
                        {"distinct", c.distinct},
                        {"by_rule", c.by_rule},
                        {"by_field", c.by_field},
                        {"by_source_topic", c.by_source_topic}};
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("{}: {} dead letters ({} re-sent copies counted once)\n", o.settings.dlq_topic,
             c.distinct, c.records - c.distinct);
  auto section = [](const char* title, const std::map<std::string, std::int64_t>& by) {
    std::vector<std::pair<std::string, std::int64_t>> sorted(by.begin(), by.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    fmt::print("by {}:\n", title);
    for (const auto& [name, n] : sorted) fmt::print("  {:<28} {:>10}\n", name, n);
  };
  section("rule", c.by_rule);
  section("field", c.by_field);
  section("source topic", c.by_source_topic);
  return 0;
}

nlohmann::json record_json(const pipeline::dead_letter_record& r) {
  nlohmann::json j = {
      {"partition", r.partition},
      {"offset", r.offset},
      {"timestamp_ms", r.timestamp_ms},
      {"rule", r.rules},
      {"field", r.fields},
      {"reason", r.reason},
      {"source",
       {{"topic", r.source_topic}, {"partition", r.source_partition}, {"offset", r.source_offset}}},
      {"schema_id", r.schema_id},
      {"contract_version", r.contract_version},
      {"resent_copy", !r.first_of_its_source}};
  j["key"] = r.key ? nlohmann::json(*r.key) : nlohmann::json();
  if (!r.value) {
    j["value"] = nullptr;
  } else if (rules::valid_utf8(*r.value)) {
    j["value"] = *r.value;
  } else {
    j["value_hex"] = lower_hex(*r.value);  // binary (Avro or garbage): shown byte for byte
  }
  return j;
}

int run_show(const dlq_options& o) {
  std::vector<pipeline::dead_letter_record> shown;
  auto scanned = pipeline::scan_dead_letters(o.settings, [&](const auto& r) {
    if (shown.size() >= o.limit) return;
    if (!o.include_resent && !r.first_of_its_source) return;
    if (!o.rule.empty() && !r.has_rule(o.rule)) return;
    shown.push_back(r);
  });
  if (!scanned) throw fatal_error(scanned.err());
  if (o.output == "json") {
    for (const auto& r : shown)
      fmt::print("{}\n",
                 record_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : shown) {
    rows.push_back({fmt::format("{}/{}", r.partition, r.offset),
                    fmt::format("{}/{}/{}", r.source_topic, r.source_partition, r.source_offset),
                    r.rules, shorten(r.reason, 60),
                    r.value ? shorten(*r.value, 40) : std::string("(null)")});
  }
  print_table({"dlq", "source", "rule", "reason", "value"}, rows);
  return 0;
}

int run_replay(const dlq_options& o) {
  pipeline::replay_settings s{.dlq = o.settings,
                              .rule = o.rule,
                              .target_topic = o.target_topic,
                              .limit = static_cast<std::int64_t>(o.replay_limit),
                              .dry_run = o.dry_run};
  auto report = pipeline::replay_dead_letters(s);
  if (!report) throw fatal_error(report.err());
  if (o.dry_run) {
    fmt::print("dry run: {} dead letter(s) with rule {} would be sent to {}\n", report->matched,
               o.rule, o.target_topic);
  } else {
    fmt::print("replayed {} dead letter(s) with rule {} to {} ({} acknowledged)\n", report->matched,
               o.rule, o.target_topic, report->sent);
  }
  return 0;
}

int run_purge(const dlq_options& o) {
  auto older = parse_duration(o.older_than);
  if (!older) throw fatal_error(fmt::format("--older-than: {}", older.err().message));
  const auto& topic = o.settings.dlq_topic;
  pipeline::purge_settings s{.dlq = o.settings,
                             .older_than = *older,
                             .older_than_text = o.older_than,
                             .dry_run = o.dry_run};
  s.progress = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  auto report = pipeline::purge_dead_letters(s);
  if (!report) throw fatal_error(report.err());
  const auto& r = *report;
  if (r.partitions.empty()) {
    fmt::print("nothing to purge: no letter of {} is older than {}\n", topic, o.older_than);
    return 0;
  }
  std::vector<std::string> numbers;
  for (const auto& p : r.partitions) numbers.push_back(std::to_string(p.partition));
  if (o.dry_run) {
    fmt::print("dry run: {} letter(s) of {} older than {} would be purged (nothing changed):\n",
               r.letters, topic, o.older_than);
  } else {
    fmt::print("purged {} letters from {} partitions {}; receipts in {}\n", r.letters, topic,
               fmt::join(numbers, ", "), r.receipts_topic);
  }
  for (const auto& p : r.partitions)
    fmt::print("  partition {}: offsets {}..{} ({} letters)\n", p.partition, p.from_offset,
               p.to_offset - 1, p.letters);
  return 0;
}

void add_common(CLI::App* cmd, dlq_options& o) {
  add_kafka_flags(cmd, o.settings.kafka, o.kafka);
  cmd->add_option("--dlq-topic", o.settings.dlq_topic, "dead-letter topic");
}

std::function<int()> install_dlq(CLI::App& root) {
  auto o = std::make_shared<dlq_options>();
  auto* cmd = root.add_subcommand("dlq", "dead letters: counts by rule, show, replay, purge");
  cmd->require_subcommand(1);
  auto* counts = cmd->add_subcommand("counts", "dead letters by rule, field and source topic");
  add_common(counts, *o);
  counts->add_option("--output", o->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  auto* show = cmd->add_subcommand("show", "print dead letters with their reasons");
  add_common(show, *o);
  show->add_option("--rule", o->rule, "only this rule id (or a prefix ending in '.')");
  show->add_option("--limit", o->limit, "at most this many records")->check(CLI::PositiveNumber);
  show->add_flag("--include-resent", o->include_resent, "also copies re-sent after a crash");
  show->add_option("--output", o->output, "table or json")->check(CLI::IsMember({"table", "json"}));
  auto* replay = cmd->add_subcommand("replay", "send selected dead letters back to the raw topic");
  add_common(replay, *o);
  replay->add_option("--rule", o->rule, "rule id to replay (prefix ending in '.', or '*')")
      ->required();
  replay->add_option("--to", o->target_topic, "topic to send them to");
  replay->add_option("--limit", o->replay_limit, "at most this many (0: all)");
  replay->add_flag("--dry-run", o->dry_run, "count what would be replayed, send nothing");
  auto* purge = cmd->add_subcommand(
      "purge", "delete dead letters older than a duration, writing receipts for verify first");
  add_kafka_flags(purge, o->settings.kafka, o->kafka);
  purge->add_option("--topic,--dlq-topic", o->settings.dlq_topic, "dead-letter topic");
  purge
      ->add_option("--older-than", o->older_than,
                   "purge letters older than this (30s, 15m, 12h, 7d)")
      ->required();
  purge->add_flag("--dry-run", o->dry_run, "print what would be purged, change nothing");
  return [o, counts, show, replay, purge] {
    apply_kafka_flags(o->kafka, o->settings.kafka);
    if (counts->parsed()) return run_counts(*o);
    if (show->parsed()) return run_show(*o);
    if (purge->parsed()) return run_purge(*o);
    (void)replay;
    return run_replay(*o);
  };
}

SLUICE_VERB("dlq", install_dlq);

}  // namespace
}  // namespace sluice::cli
