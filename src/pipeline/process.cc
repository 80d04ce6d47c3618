// The processor loop: poll a batch, route each record, wait for both sinks, commit.
#include "pipeline/process.h"

#include <deque>
#include <map>
#include <thread>

#include "base/error.h"
#include "base/log.h"
#include "cql/cql.h"
#include "kafka/kafka.h"
#include "pipeline/decode.h"
#include "pipeline/offset_tracker.h"
#include "pipeline/user_row.h"
#include "registry/client.h"
#include "rules/rules.h"

namespace sluice::pipeline {
namespace {

using clock = std::chrono::steady_clock;

struct dead_letter {
  std::string rules, fields, reason;
  std::optional<int> schema_id;
};

struct processor_metrics {
  explicit processor_metrics(web::metrics_registry& m)
      : registry(m),
        consumed(m.get_counter("sluice_process_consumed_total", "Records read from the raw topic")),
        valid(m.get_counter("sluice_process_valid_total", "Records that passed the rules")),
        written(m.get_counter("sluice_process_written_total", "Rows acknowledged by Cassandra")),
        dead_lettered(
            m.get_counter("sluice_process_dead_lettered_total", "Records acknowledged on the DLQ")),
        retries(m.get_counter("sluice_process_retries_total", "Sink retries after a failure")),
        commits(m.get_counter("sluice_process_commits_total", "Offset commits")),
        in_flight(m.get_gauge("sluice_process_in_flight", "Records polled but not yet committed")),
        lag(m.get_gauge("sluice_process_consumer_lag",
                        "Records in the raw topic not yet committed by the group")),
        latency(m.get_histogram("sluice_process_end_to_end_seconds",
                                "Kafka record timestamp to Cassandra acknowledgement")) {}
  web::counter& invalid(const std::string& rule) {
    return registry.get_counter("sluice_process_invalid_total", "Rejected records by rule id",
                                {{"rule", rule}});
  }
  web::metrics_registry& registry;
  web::counter& consumed;
  web::counter& valid;
  web::counter& written;
  web::counter& dead_lettered;
  web::counter& retries;
  web::counter& commits;
  web::gauge& in_flight;
  web::gauge& lag;
  web::histogram& latency;
};

class processor {
 public:
  processor(const process_settings& s, const std::atomic<bool>& stop, web::metrics_registry& m)
      : settings_(s),
        stop_(stop),
        metrics_(m),
        log_(log::get("process")),
        rules_(rules::rule_set::load(s.rules_file)),
        registry_(registry::client_settings{.url = s.registry_url}),
        decoder_([this](int id, std::string& error) { return fetch_schema(id, error); },
                 s.max_value_bytes) {}

  int run();

 private:
  std::optional<std::string> fetch_schema(int id, std::string& error) {
    auto schema = registry_.schema_by_id(id);
    if (schema) return *schema;
    error = schema.err().message;
    return std::nullopt;
  }
  void connect();
  void on_rebalance(kafka::rebalance_kind kind, const std::vector<kafka::topic_partition>& parts);
  bool process_batch(std::vector<kafka::message>& batch);
  /// Both return false only when asked to stop before everything was acknowledged.
  bool write_rows_until_done(std::vector<std::vector<cql::bound_value>>& rows,
                             const std::vector<std::int64_t>& timestamps);
  bool dead_letter_until_done(
      const std::vector<std::pair<const kafka::message*, dead_letter>>& bad);
  void commit(bool only_revoked = false, const std::vector<kafka::topic_partition>& which = {},
              bool async = false);
  /// While busy, commits asynchronously once commit_interval has passed; with `now`
  /// (idle) commits synchronously. A synchronous commit per batch would stall each
  /// batch for a broker round trip.
  void commit_if_due(bool now = false);
  void backoff(int attempt, const std::string& what);
  /// Polls the consumer while a sink is down: keeps the group membership and serves
  /// rebalances, pauses fetching, and keeps any record that still arrives for the next
  /// batch (a record polled and dropped would be skipped by the next commit).
  void poll_while_waiting();
  void resume_fetching();
  bool drained();
  result<std::vector<kafka::partition_lag>> group_lag();
  /// Refreshes the consumer-lag gauges (total and per partition) every lag_interval on
  /// a thread of its own: asking the broker takes several round trips, which would stall
  /// the records behind it if done between batches.
  void watch_lag(std::stop_token stop);

  const process_settings& settings_;
  const std::atomic<bool>& stop_;
  processor_metrics metrics_;
  std::shared_ptr<spdlog::logger> log_;
  rules::rule_set rules_;
  registry::client registry_;
  value_decoder decoder_;
  std::unique_ptr<kafka::consumer> consumer_;
  std::unique_ptr<kafka::producer> producer_;
  std::unique_ptr<cql::session> cassandra_;
  std::unique_ptr<kafka::admin> admin_;
  std::optional<cql::prepared> upsert_;
  offset_tracker tracker_;
  std::atomic<int> dlq_failures_{0};
  std::deque<kafka::message> stashed_;  // polled during a backoff, not yet dispatched
  bool paused_ = false;
  std::jthread lag_watcher_;
  clock::time_point next_commit_{};
  std::map<std::int32_t, std::int64_t> last_committed_;  // what the group has from us
};

void processor::backoff(int attempt, const std::string& what) {
  auto delay = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(100) * (1 << std::min(attempt, 7)), settings_.max_backoff);
  metrics_.retries.inc();
  log_->warn("{}; retrying in {} ms (attempt {})", what, delay.count(), attempt + 1);
  auto until = clock::now() + delay;
  while (clock::now() < until && !stop_) {
    poll_while_waiting();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void processor::poll_while_waiting() {
  if (!consumer_) return;
  if (!paused_) {
    if (auto owned = consumer_->assignment(); owned && !owned->empty()) {
      if (auto p = consumer_->pause(*owned); p) paused_ = true;
    }
  }
  auto polled = consumer_->poll(std::chrono::milliseconds(0));
  if (polled && *polled) {
    stashed_.push_back(std::move(**polled));
    paused_ = false;  // a partition assigned meanwhile is not paused yet
  }
}

void processor::resume_fetching() {
  if (!paused_) return;
  if (auto owned = consumer_->assignment(); owned && !owned->empty()) {
    if (auto r = consumer_->resume(*owned); !r)
      log_->warn("resuming fetch after a sink outage: {}", r.err().message);
  }
  paused_ = false;
}

void processor::connect() {
  kafka::consumer_settings cs;
  cs.client = settings_.kafka;
  cs.client.client_id = "sluice-process";
  cs.group_id = settings_.group_id;
  cs.session_timeout = settings_.session_timeout;
  auto consumer = kafka::consumer::create(
      cs, [this](kafka::rebalance_kind k, const std::vector<kafka::topic_partition>& p) {
        on_rebalance(k, p);
      });
  if (!consumer) throw fatal_error(consumer.err());
  consumer_ = std::move(*consumer);
  if (auto sub = consumer_->subscribe({kafka::topic(settings_.source_topic)}); !sub)
    throw fatal_error(sub.err());

  kafka::producer_settings ps;
  ps.client = settings_.kafka;
  ps.client.client_id = "sluice-process-dlq";
  auto producer = kafka::producer::create(ps, [this](const kafka::delivery_report& r) {
    if (r.failure) {
      dlq_failures_.fetch_add(1);
      log_->warn("dead-letter produce failed: {}", r.failure->message);
    }
  });
  if (!producer) throw fatal_error(producer.err());
  producer_ = std::move(*producer);

  for (int attempt = 0; !stop_; ++attempt) {
    auto session = cql::session::connect({.host = settings_.cassandra_host,
                                          .port = settings_.cassandra_port,
                                          .keyspace = settings_.keyspace});
    if (session) {
      cassandra_ = std::move(*session);
      auto prepared = cassandra_->prepare(upsert_user_cql);
      if (prepared) {
        upsert_ = std::move(*prepared);
        return;
      }
      backoff(attempt, prepared.err().message);
    } else {
      backoff(attempt, session.err().message);
    }
  }
}

void processor::on_rebalance(kafka::rebalance_kind kind,
                             const std::vector<kafka::topic_partition>& parts) {
  if (kind == kafka::rebalance_kind::assigned) {
    log_->info("assigned {} partition(s)", parts.size());
    return;
  }
  // Batches finish before the next poll, so nothing is in flight here: commit what is
  // done for the partitions being taken away, then forget them.
  if (kind == kafka::rebalance_kind::revoked) commit(true, parts);
  for (const auto& p : parts) {
    tracker_.forget(p.partition.value());
    last_committed_.erase(p.partition.value());
    // Not dispatched, so not committed: the partition's next owner reads them again.
    std::erase_if(stashed_, [&](const kafka::message& m) {
      return m.partition().value() == p.partition.value();
    });
  }
  log_->info("{} {} partition(s)", kind == kafka::rebalance_kind::revoked ? "revoked" : "lost",
             parts.size());
}

void processor::commit(bool only_revoked, const std::vector<kafka::topic_partition>& which,
                       bool async) {
  std::vector<kafka::topic_partition_offset> offsets;
  for (const auto& [partition, t] : tracker_.partitions()) {
    if (only_revoked &&
        std::none_of(which.begin(), which.end(), [&](const kafka::topic_partition& p) {
          return p.partition.value() == partition;
        })) {
      continue;
    }
    auto next = t.committable();
    if (!next) continue;
    if (auto last = last_committed_.find(partition);
        last != last_committed_.end() && last->second == *next)
      continue;  // unchanged since the last commit
    offsets.push_back(
        {kafka::topic(settings_.source_topic), kafka::partition(partition), kafka::offset(*next)});
  }
  if (offsets.empty()) return;
  auto r = async ? consumer_->commit_async(offsets) : consumer_->commit(offsets);
  if (!r) {
    log_->warn("offset commit failed (records will be re-read, not lost): {}", r.err().message);
    return;
  }
  metrics_.commits.inc();
  if (async) return;  // not confirmed: the next synchronous commit sends these again
  for (const auto& o : offsets) last_committed_[o.partition.value()] = o.offset.value();
}

void processor::commit_if_due(bool now) {
  if (!now && clock::now() < next_commit_) return;
  commit(false, {}, /*async=*/!now);
  next_commit_ = clock::now() + settings_.commit_interval;
}

bool processor::write_rows_until_done(std::vector<std::vector<cql::bound_value>>& rows,
                                      const std::vector<std::int64_t>& timestamps) {
  std::vector<std::size_t> pending(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) pending[i] = i;
  for (int attempt = 0; !pending.empty(); ++attempt) {
    if (!cassandra_ || !upsert_) {
      auto session = cql::session::connect({.host = settings_.cassandra_host,
                                            .port = settings_.cassandra_port,
                                            .keyspace = settings_.keyspace});
      if (!session) {
        backoff(attempt, session.err().message);
        if (stop_) return false;
        continue;
      }
      cassandra_ = std::move(*session);
      auto prepared = cassandra_->prepare(upsert_user_cql);
      if (!prepared) {
        backoff(attempt, prepared.err().message);
        if (stop_) return false;
        continue;
      }
      upsert_ = std::move(*prepared);
    }
    std::vector<std::vector<cql::bound_value>> batch;
    batch.reserve(pending.size());
    for (auto i : pending) batch.push_back(rows[i]);
    auto results = cassandra_->execute_many(*upsert_, batch, settings_.cassandra_window);
    std::vector<std::size_t> failed;
    std::string first_error;
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    for (std::size_t k = 0; k < results.size(); ++k) {
      if (results[k].ok()) {
        metrics_.written.inc();
        if (timestamps[pending[k]] >= 0)
          metrics_.latency.observe((now_ms - timestamps[pending[k]]) / 1000.0);
      } else {
        if (first_error.empty()) first_error = results[k].err().message;
        failed.push_back(pending[k]);
      }
    }
    pending = std::move(failed);
    if (!pending.empty()) {
      cassandra_.reset();  // reconnect: the node may have gone away
      backoff(attempt,
              fmt::format("{} Cassandra write(s) failed: {}", pending.size(), first_error));
      if (stop_) return false;
    }
  }
  return true;
}

bool processor::dead_letter_until_done(
    const std::vector<std::pair<const kafka::message*, dead_letter>>& bad) {
  for (int attempt = 0; !bad.empty(); ++attempt) {
    dlq_failures_ = 0;
    for (const auto& [m, why] : bad) {
      std::vector<kafka::header> headers = {
          {"sluice.rule", why.rules},
          {"sluice.field", why.fields},
          {"sluice.reason", why.reason},
          {"sluice.source.topic", m->topic().str()},
          {"sluice.source.partition", std::to_string(m->partition().value())},
          {"sluice.source.offset", std::to_string(m->offset().value())},
          {"sluice.contract.version", std::to_string(rules_.version())},
      };
      if (why.schema_id) headers.push_back({"sluice.schema.id", std::to_string(*why.schema_id)});
      kafka::outgoing_record out{kafka::topic(settings_.dlq_topic), std::nullopt, m->key(),
                                 m->value(), headers};
      while (true) {
        auto r = producer_->produce(out);
        if (r || r.err().code != errc::unavailable) break;
        producer_->poll(std::chrono::milliseconds(50));  // local queue full
      }
    }
    auto flushed = producer_->flush(std::chrono::seconds(30));
    if (flushed && dlq_failures_ == 0) {
      metrics_.dead_lettered.inc(bad.size());
      return true;
    }
    backoff(attempt,
            fmt::format("dead-letter topic {} did not acknowledge the batch", settings_.dlq_topic));
    if (stop_) return false;
    // Re-sending the whole batch may duplicate dead letters, never lose them; the
    // verify command counts dead letters by source offset.
  }
  return true;
}

bool processor::process_batch(std::vector<kafka::message>& batch) {
  std::vector<std::vector<cql::bound_value>> rows;
  std::vector<std::int64_t> timestamps;
  std::vector<std::pair<const kafka::message*, dead_letter>> bad;
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  for (auto& m : batch) {
    tracker_.partition(m.partition().value()).dispatched(m.offset().value());
    metrics_.consumed.inc();
    auto d =
        decoder_.decode(m.has_value() ? std::optional<std::string_view>(m.value()) : std::nullopt);
    if (d.failure) {
      metrics_.invalid(d.failure->rule).inc();
      bad.push_back({&m, {d.failure->rule, "", d.failure->reason, d.schema_id}});
      continue;
    }
    auto verdict = rules_.validate(d.record, now);
    if (!verdict.valid()) {
      dead_letter why{verdict.rule_ids(), "", "", d.schema_id};
      for (const auto& v : verdict.violations) {
        metrics_.invalid(std::string(v.rule)).inc();
        if (!why.fields.empty()) why.fields += ",";
        why.fields += model::name_of(v.field);
        if (!why.reason.empty()) why.reason += "; ";
        why.reason += fmt::format("{}: {}", model::name_of(v.field), v.reason);
      }
      bad.push_back({&m, std::move(why)});
      continue;
    }
    auto row = user_row(
        d.record, {m.topic().str(), m.partition().value(), m.offset().value(), m.timestamp_ms()},
        d.schema_id, rules_.version());
    if (!row) {
      metrics_.invalid("type.convert").inc();
      bad.push_back({&m, {"type.convert", "", row.err().message, d.schema_id}});
      continue;
    }
    metrics_.valid.inc();
    rows.push_back(std::move(*row));
    timestamps.push_back(m.timestamp_ms());
  }
  metrics_.in_flight.set(static_cast<double>(batch.size()));
  // Offsets are acknowledged only when both sinks took every record of the batch.
  if (!write_rows_until_done(rows, timestamps) || !dead_letter_until_done(bad)) return false;
  for (auto& m : batch) tracker_.partition(m.partition().value()).acknowledged(m.offset().value());
  commit_if_due();
  resume_fetching();
  metrics_.in_flight.set(0);
  return true;
}

result<std::vector<kafka::partition_lag>> processor::group_lag() {
  if (!admin_) {
    auto created = kafka::admin::create(settings_.kafka);
    if (!created) return created.err();
    admin_ = std::move(*created);
  }
  return admin_->group_lag(settings_.group_id, kafka::topic(settings_.source_topic),
                           std::chrono::seconds(5));
}

void processor::watch_lag(std::stop_token stop) {
  auto admin = kafka::admin::create(settings_.kafka);
  if (!admin) {
    log_->warn("consumer lag gauges off: {}", admin.err().message);
    return;
  }
  while (!stop.stop_requested() && !stop_) {
    auto lag = (*admin)->group_lag(settings_.group_id, kafka::topic(settings_.source_topic),
                                   std::chrono::seconds(5));
    if (lag) {
      double total = 0;
      for (const auto& p : *lag) {
        auto behind = static_cast<double>(std::max<std::int64_t>(0, p.lag));
        total += behind;
        metrics_.registry
            .get_gauge("sluice_process_partition_lag", "Records not yet committed, per partition",
                       {{"partition", std::to_string(p.partition.partition.value())}})
            .set(behind);
      }
      metrics_.lag.set(total);
    } else {
      log_->debug("consumer lag unavailable: {}", lag.err().message);
    }
    auto until = clock::now() + settings_.lag_interval;
    while (clock::now() < until && !stop.stop_requested() && !stop_)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool processor::drained() {
  // Drained means the group's committed offsets reached every partition's end, not just
  // "no records lately": after a crash, partitions reach a new member only once the dead
  // member's session expires.
  auto lag = group_lag();
  if (!lag) return false;
  for (const auto& p : *lag) {
    if (p.high.value() > 0 && p.committed.value() < p.high.value()) return false;
  }
  return true;
}

int processor::run() {
  connect();
  resume_fetching();
  if (stop_) return 0;
  lag_watcher_ = std::jthread([this](std::stop_token stop) { watch_lag(stop); });
  log_->info("processing {} -> Cassandra {}:{}/{} and {} (group {})", settings_.source_topic,
             settings_.cassandra_host, settings_.cassandra_port, settings_.keyspace,
             settings_.dlq_topic, settings_.group_id);
  std::vector<kafka::message> batch;
  auto last_record = clock::now();
  while (!stop_) {
    batch.clear();
    while (!stashed_.empty() && batch.size() < settings_.batch_size) {
      batch.push_back(std::move(stashed_.front()));
      stashed_.pop_front();
    }
    // Wait for the first record, then take only what is already fetched: a backlog
    // fills whole batches (throughput), a trickle goes out at once (latency).
    auto deadline = clock::now() + std::chrono::milliseconds(50);
    while (batch.size() < settings_.batch_size && clock::now() < deadline) {
      auto polled = consumer_->poll(batch.empty() ? std::chrono::milliseconds(20)
                                                  : std::chrono::milliseconds(0));
      if (!polled) {
        log_->warn("consume error: {}", polled.err().message);
        break;
      }
      if (!*polled) {
        if (!batch.empty()) break;
        continue;
      }
      batch.push_back(std::move(**polled));
    }
    if (batch.empty()) {
      commit_if_due(true);  // idle: let the group's offsets reach what is done
      if (settings_.stop_at_end && clock::now() - last_record > settings_.idle_exit && drained())
        break;
      continue;
    }
    last_record = clock::now();
    if (!process_batch(batch)) break;
  }
  commit();
  lag_watcher_ = {};  // stop and join
  if (auto closed = consumer_->close(); !closed)
    log_->warn("leaving the group: {}", closed.err().message);
  log_->info(
      "stopped: consumed {}, written {}, dead-lettered {}; end-to-end latency p50 {:.1f} ms "
      "p99 {:.1f} ms",
      metrics_.consumed.value(), metrics_.written.value(), metrics_.dead_lettered.value(),
      metrics_.latency.quantile(0.5) * 1e3, metrics_.latency.quantile(0.99) * 1e3);
  return 0;
}

}  // namespace

int run_processor(const process_settings& settings, const std::atomic<bool>& stop,
                  web::metrics_registry& metrics) {
  processor p(settings, stop, metrics);
  return p.run();
}

}  // namespace sluice::pipeline
