// `sluice verify`: reconcile the raw topic (below a snapshot, or one produce run's
// manifest) against Cassandra rows and dead letters; exit 1 on any mismatch (missing,
// in both sinks, unexpected or unprocessed records), naming the records; records whose
// dead letters `sluice dlq purge` deleted count as purged, named by its receipts.
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/cassandra_flags.h"
#include "cli/secret_flags.h"
#include "cli/verb.h"
#include "pipeline/verify.h"

namespace sluice::cli {
namespace {

struct verify_options {
  pipeline::verify_settings settings;
  cassandra_flags cassandra;
  kafka_flags kafka;
  registry_flags registry;
  std::string output = "text";
  double timeout_seconds = 60;
};

void print_records(const char* what, const std::vector<pipeline::unaccounted_record>& records,
                   std::int64_t total) {
  for (const auto& r : records)
    fmt::print("  {}: partition {} offset {} id {}\n", what, r.partition, r.offset,
               r.id.empty() ? "(none)" : r.id);
  if (total > static_cast<std::int64_t>(records.size()))
    fmt::print("  ... and {} more\n", total - static_cast<std::int64_t>(records.size()));
}

void print_text(const pipeline::verify_report& r, const verify_options& o) {
  const auto& s = o.settings;
  std::int64_t below = 0;
  for (const auto& [p, span] : r.snapshot)
    below += std::max<std::int64_t>(0, span.end - span.begin);
  fmt::print("snapshot        {:>10}  offsets of {} in {} partition(s){}\n", below, s.source_topic,
             r.snapshot.size(),
             s.manifest_path.empty() ? "" : fmt::format(" (manifest {})", s.manifest_path));
  fmt::print("produced        {:>10}  records in the snapshot\n", r.produced);
  fmt::print("stored          {:>10}  ({}.users rows holding them)\n", r.stored, s.keyspace);
  fmt::print("superseded      {:>10}  (a later version of the id is stored)\n", r.superseded);
  fmt::print("dead-lettered   {:>10}  ({})\n", r.dead_lettered, s.dlq_topic);
  for (const auto& [rule, n] : r.dead_by_rule) fmt::print("  {:<28} {:>8}\n", rule, n);
  fmt::print("purged          {:>10}  (dead-lettered, then purged; {} receipt(s) in {})\n",
             r.purged, r.purge_receipts, pipeline::receipts_topic(s.dlq_topic));
  if (!r.letters_removed_without_receipt.empty()) {
    fmt::print(
        "dead letters removed without a purge receipt (retention?): records dead-lettered "
        "there count as missing\n");
    for (const auto& gap : r.letters_removed_without_receipt)
      fmt::print("  {} partition {}: offsets {}..{}\n", s.dlq_topic, gap.partition, gap.from,
                 gap.to - 1);
  }
  fmt::print("missing         {:>10}\n", r.missing);
  print_records("missing", r.missing_records, r.missing);
  fmt::print("in both sinks   {:>10}\n", r.in_both);
  print_records("in both", r.in_both_records, r.in_both);
  fmt::print("unexpected      {:>10}  rows, {} dead letters naming no record of theirs\n",
             r.unexpected_rows, r.unexpected_letters);
  print_records("unexpected row", r.unexpected_row_examples, r.unexpected_rows);
  fmt::print("not processed   {:>10}  (group {})\n", r.not_yet_processed, s.group_id);
  if (r.duplicate_dead_letters)
    fmt::print("re-sent dead letters {} (counted once)\n", r.duplicate_dead_letters);
  fmt::print("{}\n",
             r.ok() ? "OK: every record is stored, superseded or dead-lettered, once" : "MISMATCH");
}

int run_verify(verify_options o) {
  if (o.timeout_seconds < 0 || o.timeout_seconds > 86400)
    throw fatal_error(
        fmt::format("--timeout: '{}' must be from 0 to 86400 seconds", o.timeout_seconds));
  o.settings.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_seconds * 1000));
  o.settings.progress = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  auto report = pipeline::verify(o.settings);
  if (!report) throw fatal_error(report.err());
  const auto& r = *report;
  if (o.output == "json") {
    auto j = pipeline::verify_report_json(r, o.settings);
    fmt::print("{}\n", j.dump(2));
  } else {
    print_text(r, o);
  }
  return r.ok() ? 0 : 1;
}

SLUICE_VERB("verify", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<verify_options>();
  auto* cmd = root.add_subcommand(
      "verify",
      "reconcile below a snapshot: every record stored (or superseded) or dead-lettered, once");
  add_kafka_flags(cmd, o->settings.kafka, o->kafka);
  cmd->add_option("--topic", o->settings.source_topic, "raw topic");
  cmd->add_option("--dlq-topic", o->settings.dlq_topic, "dead-letter topic");
  cmd->add_option("--group", o->settings.group_id, "the processor's consumer group");
  add_registry_flags(cmd, o->settings.registry_url, o->registry,
                     "schema registry (to read the id of a record whose key is not its id)");
  cmd->add_option("--manifest", o->settings.manifest_path,
                  "reconcile exactly one `sluice produce` run: the offset spans of its manifest")
      ->check(CLI::ExistingFile);
  cmd->add_option("--timeout", o->timeout_seconds,
                  "seconds to wait for the group to commit past the snapshot (default 60)");
  add_cassandra_flags(cmd, "cassandra-", o->settings.cassandra, o->cassandra);
  cmd->add_option("--keyspace", o->settings.keyspace, "keyspace holding `users`");
  cmd->add_option("--output", o->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [o] {
    apply_cassandra_flags(o->cassandra, "cassandra-", o->settings.cassandra);
    apply_kafka_flags(o->kafka, o->settings.kafka);
    apply_registry_flags(o->registry, o->settings.registry_url);
    return run_verify(*o);
  };
});

}  // namespace
}  // namespace sluice::cli
