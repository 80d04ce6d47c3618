// Prepared single-row inserts of user rows through sluice's CQL client: the rows the
// processor writes (same statement, same generated users as `sluice gen --seed`), with
// `--window` requests in flight. Prints rows/s and per-request latency p50/p99.
// bench/cql/run.sh sets it beside the Java and Python drivers; bench/process/run.sh
// uses it as Cassandra's ceiling for the processor, and with --rate as Cassandra's own
// latency at a steady rate (rows paced like a live topic, batched per node like the
// processor does: up to --batch rows, a row waiting at most --linger-ms for company;
// a row's latency runs from the moment it was due to its acknowledgement).
// Usage: sluice_bench_cql_inserts --keyspace K [--count N] [--window W] [--port P]
//        [--batch B [--rate R [--linger-ms L]]]
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cql/cql.h"
#include "gen/generator.h"
#include "pipeline/user_row.h"

using rows_t = std::vector<std::vector<sluice::cql::bound_value>>;
using bench_clock = std::chrono::steady_clock;

/// CPU time of the whole process (every thread) so far, in seconds.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

/// Unlogged BATCH requests with at most `window` in flight; records each row's latency
/// from a start time (its own, or the moment its batch was sent) to the batch's answer.
class batch_window {
 public:
  batch_window(sluice::cql::session& session, const sluice::cql::prepared& upsert,
               std::size_t window, std::vector<std::chrono::microseconds>& latencies)
      : session_(session), upsert_(upsert), window_(window), latencies_(latencies) {}

  /// Sends `rows` as one batch once the window has room; `since` holds each row's start
  /// time, or is empty to time the rows from the send.
  void submit(const rows_t& rows, std::vector<bench_clock::time_point> since = {}) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return in_flight_ < window_; });
    ++in_flight_;
    lock.unlock();
    if (since.empty()) since.assign(rows.size(), bench_clock::now());
    auto starts = std::make_shared<std::vector<bench_clock::time_point>>(std::move(since));
    session_.execute_batch_async(
        upsert_, rows,
        [this, starts](sluice::result<sluice::cql::rows_result> r) {
          auto now = bench_clock::now();
          std::lock_guard guard(mutex_);
          if (!r) {
            if (failed_ == 0) fmt::print(stderr, "first failed batch: {}\n", r.err().message);
            failed_ += starts->size();
          }
          for (auto t : *starts)
            latencies_.push_back(std::chrono::duration_cast<std::chrono::microseconds>(now - t));
          --in_flight_;
          changed_.notify_all();
        },
        {.idempotent = true});
  }

  /// Waits for every answer; returns the number of failed rows.
  std::size_t drain() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return in_flight_ == 0; });
    return failed_;
  }

 private:
  sluice::cql::session& session_;
  const sluice::cql::prepared& upsert_;
  std::size_t window_;
  std::vector<std::chrono::microseconds>& latencies_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t in_flight_ = 0, failed_ = 0;
};

/// Unlogged BATCHes of `batch` rows owned by one node, `window` batches in flight; each
/// row's latency is its batch's. Returns the number of failed rows.
std::size_t run_batches(sluice::cql::session& session, const sluice::cql::prepared& upsert,
                        const rows_t& rows, std::size_t batch, std::size_t window,
                        std::vector<std::chrono::microseconds>& latencies) {
  batch_window sender(session, upsert, window, latencies);
  std::map<std::string, rows_t> by_node;
  for (const auto& row : rows) {
    auto& group = by_node[session.replica_of(upsert, row)];
    group.push_back(row);
    if (group.size() >= batch) sender.submit(std::exchange(group, {}));
  }
  for (auto& [node, group] : by_node) {
    if (!group.empty()) sender.submit(group);
  }
  return sender.drain();
}

/// Rows due at `rate` per second from the start, grouped per owning node into batches of
/// up to `batch` rows sent when full or when their first row has waited `linger`. Each
/// row's latency runs from when it was due to its batch's acknowledgement. Returns the
/// number of failed rows.
std::size_t run_paced(sluice::cql::session& session, const sluice::cql::prepared& upsert,
                      const rows_t& rows, std::size_t batch, std::size_t window, double rate,
                      std::chrono::microseconds linger,
                      std::vector<std::chrono::microseconds>& latencies) {
  struct pending {
    rows_t rows;
    std::vector<bench_clock::time_point> due;
  };
  batch_window sender(session, upsert, window, latencies);
  auto send = [&](pending& group) { sender.submit(group.rows, std::move(group.due)); };
  std::map<std::string, pending> by_node;
  auto started = bench_clock::now();
  auto due_at = [&](std::size_t i) {
    return started + std::chrono::duration_cast<bench_clock::duration>(
                         std::chrono::duration<double>(static_cast<double>(i) / rate));
  };
  std::size_t next = 0;
  while (next < rows.size() || !by_node.empty()) {
    auto now = bench_clock::now();
    for (; next < rows.size() && due_at(next) <= now; ++next) {
      auto& group = by_node[session.replica_of(upsert, rows[next])];
      group.rows.push_back(rows[next]);
      group.due.push_back(due_at(next));
      if (group.rows.size() >= batch) {
        send(group);
        group = {};
      }
    }
    for (auto it = by_node.begin(); it != by_node.end();) {
      auto& group = it->second;
      bool waited_enough =
          !group.rows.empty() && (now - group.due.front() >= linger || next == rows.size());
      if (waited_enough) send(group);
      if (waited_enough || group.rows.empty()) {
        it = by_node.erase(it);
      } else {
        ++it;
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return sender.drain();
}

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
  int warmup = 0;
  app.add_option("--warmup", warmup,
                 "untimed passes over the same rows first (as the Java reference gets)")
      ->check(CLI::Range(0, 10));
  std::size_t batch = 1;
  app.add_option("--batch", batch,
                 "rows per unlogged BATCH request, grouped by owning node (1: single inserts)");
  double rate = 0;
  app.add_option("--rate", rate, "rows due per second (0: as fast as the window allows)")
      ->check(CLI::NonNegativeNumber);
  int linger_ms = 2;
  app.add_option("--linger-ms", linger_ms, "with --rate: longest wait of a row for its batch")
      ->check(CLI::NonNegativeNumber);
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
  for (int pass = 0; pass < warmup; ++pass) {  // the same upserts, not timed
    for (const auto& r : (*session)->execute_many(*upsert, rows, window))
      if (!r) {
        fmt::print(stderr, "warm-up pass {}: {}\n", pass + 1, r.err().message);
        return 1;
      }
  }
  std::size_t failed = 0;
  std::vector<std::chrono::microseconds> all_latencies, part_latencies;
  all_latencies.reserve(rows.size());
  auto cpu_started = process_cpu_seconds();
  auto started = std::chrono::steady_clock::now();
  if (rate > 0) {
    failed = run_paced(**session, *upsert, rows, std::max<std::size_t>(batch, 1), window, rate,
                       std::chrono::milliseconds(linger_ms), all_latencies);
  } else if (batch > 1) {
    failed = run_batches(**session, *upsert, rows, batch, window, all_latencies);
  }
  for (std::size_t first = 0; rate <= 0 && batch <= 1 && first < rows.size(); first += chunk) {
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
  auto cpu_secs = process_cpu_seconds() - cpu_started;
  fmt::print(
      "{:.0f} rows/s ({} rows in {:.2f} s, {} failed) p50 {:.2f} ms p99 {:.2f} ms cpu {:.2f} s\n",
      count / secs, count, secs, failed, quantile_ms(0.5), quantile_ms(0.99), cpu_secs);
  return failed ? 1 : 0;
}
