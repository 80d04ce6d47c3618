// `sluice query`: what the pipeline stored in Cassandra: one user by id, the latest N
// registrations, or counts; as an aligned table or JSON.
#include <memory>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/cassandra_flags.h"
#include "cli/table.h"
#include "cli/verb.h"
#include "pipeline/user_query.h"

namespace sluice::cli {
namespace {

struct query_options {
  pipeline::user_query_settings settings;
  cassandra_flags cassandra;
  std::string id;
  std::size_t latest = 0;
  bool count = false;
  std::string output = "table";
};

void print_counts(const pipeline::user_counts& c, const std::string& output) {
  if (output == "json") {
    nlohmann::json j = {{"rows", c.rows},
                        {"by_gender", c.by_gender},
                        {"by_contract_version", c.by_contract_version},
                        {"by_source_topic", c.by_source_topic}};
    fmt::print("{}\n", j.dump(2));
    return;
  }
  fmt::print("users {:>12}\n", c.rows);
  auto section = [](const char* title, const std::map<std::string, std::int64_t>& counts) {
    fmt::print("by {}:\n", title);
    for (const auto& [name, n] : counts) fmt::print("  {:<24} {:>10}\n", name, n);
  };
  section("gender", c.by_gender);
  section("contract version", c.by_contract_version);
  section("source topic", c.by_source_topic);
}

int run_query(const query_options& o) {
  int chosen = (o.id.empty() ? 0 : 1) + (o.latest > 0 ? 1 : 0) + (o.count ? 1 : 0);
  if (chosen != 1) throw fatal_error("sluice query: give exactly one of --id, --latest N, --count");
  if (o.count) {
    auto counts = pipeline::count_users(o.settings);
    if (!counts) throw fatal_error(counts.err());
    print_counts(*counts, o.output);
    return 0;
  }
  auto rows = o.id.empty() ? pipeline::latest_registrations(o.settings, o.latest)
                           : pipeline::user_by_id(o.settings, o.id);
  if (!rows) throw fatal_error(rows.err());
  print_rows(*rows, o.output);
  if (!o.id.empty() && rows->rows.empty()) {
    fmt::print(stderr, "sluice query: no user with id {} in {}.users\n", o.id, o.settings.keyspace);
    return 1;
  }
  return 0;
}

SLUICE_VERB("query", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<query_options>();
  auto* cmd = root.add_subcommand("query", "look up stored users: by id, latest N, counts");
  cmd->add_option("--id", o->id, "a user id (UUID)");
  cmd->add_option("--latest", o->latest, "the N most recent registrations")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--count", o->count, "count the rows (by gender, contract version, topic)");
  add_cassandra_flags(cmd, "cassandra-", o->settings.cassandra, o->cassandra);
  cmd->add_option("--keyspace", o->settings.keyspace, "keyspace holding `users`");
  cmd->add_option("--output", o->output, "table or json")->check(CLI::IsMember({"table", "json"}));
  return [o] {
    apply_cassandra_flags(o->cassandra, "cassandra-", o->settings.cassandra);
    return run_query(*o);
  };
});

}  // namespace
}  // namespace sluice::cli
