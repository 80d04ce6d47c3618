// `sluice verify`: reconcile the raw topic against Cassandra rows and dead letters;
// exit 1 on any mismatch (missing, unexpected or unprocessed records).
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/cassandra_flags.h"
#include "cli/verb.h"
#include "pipeline/verify.h"

namespace sluice::cli {
namespace {

struct verify_options {
  pipeline::verify_settings settings;
  cassandra_flags cassandra;
  std::string output = "text";
};

int run_verify(verify_options o) {
  auto report = pipeline::verify(o.settings);
  if (!report) throw fatal_error(report.err());
  const auto& r = *report;
  if (o.output == "json") {
    nlohmann::json j = {{"produced", r.produced},
                        {"stored", r.stored},
                        {"dead_lettered", r.dead_lettered},
                        {"missing", r.missing()},
                        {"not_yet_processed", r.not_yet_processed},
                        {"duplicate_dead_letters", r.duplicate_dead_letters},
                        {"dead_by_rule", r.dead_by_rule},
                        {"ok", r.ok()}};
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("produced        {:>10}  ({})\n", r.produced, o.settings.source_topic);
    fmt::print("stored          {:>10}  ({}.users)\n", r.stored, o.settings.keyspace);
    fmt::print("dead-lettered   {:>10}  ({})\n", r.dead_lettered, o.settings.dlq_topic);
    for (const auto& [rule, n] : r.dead_by_rule) fmt::print("  {:<28} {:>8}\n", rule, n);
    fmt::print("missing         {:>10}\n", std::max<std::int64_t>(0, r.missing()));
    fmt::print("unexpected      {:>10}\n", std::max<std::int64_t>(0, -r.missing()));
    fmt::print("not processed   {:>10}  (group {})\n", r.not_yet_processed, o.settings.group_id);
    if (r.duplicate_dead_letters)
      fmt::print("re-sent dead letters {} (counted once)\n", r.duplicate_dead_letters);
    fmt::print("{}\n", r.ok() ? "OK: produced = stored + dead-lettered" : "MISMATCH");
  }
  return r.ok() ? 0 : 1;
}

SLUICE_VERB("verify", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<verify_options>();
  auto* cmd = root.add_subcommand("verify", "reconcile: produced = stored + dead-lettered");
  cmd->add_option("--bootstrap", o->settings.kafka.bootstrap_servers, "Kafka bootstrap servers");
  cmd->add_option("--topic", o->settings.source_topic, "raw topic");
  cmd->add_option("--dlq-topic", o->settings.dlq_topic, "dead-letter topic");
  cmd->add_option("--group", o->settings.group_id, "the processor's consumer group");
  add_cassandra_flags(cmd, "cassandra-", o->settings.cassandra, o->cassandra);
  cmd->add_option("--keyspace", o->settings.keyspace, "keyspace holding `users`");
  cmd->add_option("--output", o->output, "text or json")->check(CLI::IsMember({"text", "json"}));
  return [o] {
    apply_cassandra_flags(o->cassandra, "cassandra-", o->settings.cassandra);
    return run_verify(*o);
  };
});

}  // namespace
}  // namespace sluice::cli
