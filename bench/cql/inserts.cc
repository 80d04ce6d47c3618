// Prepared single-row inserts of user rows through sluice's CQL client: the rows the
// processor writes (same statement, same generated users as `sluice gen --seed`), with
// `--window` requests in flight. Prints rows/s and per-request latency p50/p99.
// bench/cql/run.sh sets it beside the Java and Python drivers; bench/process/run.sh
// uses it as Cassandra's ceiling for the processor.
// Usage: sluice_bench_cql_inserts --keyspace K [--count N] [--window W] [--port P]
#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cql/cql.h"
#include "gen/generator.h"
#include "pipeline/user_row.h"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", keyspace;
  int port = 9042;
  std::uint64_t count = 100000, seed = 42;
  std::size_t window = 256, chunk = 5000;
  CLI::App app("raw upsert rate of sluice's CQL client for the processor's rows");
  app.add_option("--host", host, "Cassandra contact point");
  app.add_option("--port", port, "Cassandra native port");
  app.add_option("--keyspace", keyspace, "keyspace holding `users`")->required();
  app.add_option("--count", count, "rows to upsert");
  app.add_option("--seed", seed, "generator seed");
  app.add_option("--window", window, "requests in flight (the processor's default: 256)");
  app.add_option("--chunk", chunk, "rows per execute_many call (the processor's batch)");
  CLI11_PARSE(app, argc, argv);

  sluice::gen::generator generator({.seed = seed});
  std::vector<std::vector<sluice::cql::bound_value>> rows;
  rows.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    auto row = sluice::pipeline::user_row(generator.make_record(i).record,
                                          {"users.raw", 0, static_cast<std::int64_t>(i), 0}, 1, 1);
    if (!row) {
      fmt::print(stderr, "user {}: {}\n", i, row.err().message);
      return 1;
    }
    rows.push_back(std::move(*row));
  }
  auto session = sluice::cql::session::connect({.host = host, .port = port, .keyspace = keyspace});
  if (!session) {
    fmt::print(stderr, "connecting to Cassandra {}:{}: {}\n", host, port, session.err().message);
    return 1;
  }
  auto upsert = (*session)->prepare(sluice::pipeline::upsert_user_cql);
  if (!upsert) {
    fmt::print(stderr, "preparing the upsert: {}\n", upsert.err().message);
    return 1;
  }
  std::size_t failed = 0;
  std::vector<std::chrono::microseconds> all_latencies, part_latencies;
  all_latencies.reserve(rows.size());
  auto started = std::chrono::steady_clock::now();
  for (std::size_t first = 0; first < rows.size(); first += chunk) {
    std::vector<std::vector<sluice::cql::bound_value>> part(
        rows.begin() + static_cast<long>(first),
        rows.begin() + static_cast<long>(std::min(rows.size(), first + chunk)));
    for (const auto& r : (*session)->execute_many(*upsert, part, window, &part_latencies))
      failed += r ? 0 : 1;
    all_latencies.insert(all_latencies.end(), part_latencies.begin(), part_latencies.end());
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::sort(all_latencies.begin(), all_latencies.end());
  auto quantile_ms = [&](double q) {
    if (all_latencies.empty()) return 0.0;
    auto i = static_cast<std::size_t>(q * static_cast<double>(all_latencies.size() - 1));
    return static_cast<double>(all_latencies[i].count()) / 1000.0;
  };
  fmt::print("{:.0f} rows/s ({} rows in {:.2f} s, {} failed) p50 {:.2f} ms p99 {:.2f} ms\n",
             count / secs, count, secs, failed, quantile_ms(0.5), quantile_ms(0.99));
  return failed ? 1 : 0;
}
