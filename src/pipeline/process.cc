// The processor loop, continuous rather than batch by batch: each polled record is routed
// and handed to its sink at once (Cassandra upserts through the asynchronous CQL session,
// up to cassandra_window in flight; dead letters through the Kafka producer), and
// acknowledgements come back in any order. Offsets advance per partition only past
// acknowledged records (offset_tracker). Failed writes are retried with backoff, never
// dropped; while max_in_flight records wait, fetching pauses.
#include "pipeline/process.h"

#include "pipeline/processor.h"

namespace sluice::pipeline::process_detail {

std::chrono::milliseconds processor::backoff_for(int attempt) const {
  return std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(100) * (1 << std::min(attempt, 7)), settings_.max_backoff);
}

void processor::log_retry(const std::string& what, int attempt) {
  metrics_.retries.inc();
  auto now = clock::now();
  if (now - last_retry_log_ < std::chrono::seconds(1)) return;  // one line a second
  last_retry_log_ = now;
  log_->warn("{}; retrying in {} ms (attempt {}), {} record(s) waiting", what,
             backoff_for(attempt).count(), attempt + 1, in_flight_);
}

void processor::connect() {
  kafka::consumer_settings cs;
  cs.client = settings_.kafka;
  cs.client.client_id = "sluice-process";
  cs.group_id = settings_.group_id;
  cs.session_timeout = settings_.session_timeout;
  cs.fetch_wait_max = settings_.fetch_wait;
  cs.fetch_min_bytes = settings_.fetch_wait.count() > 0 ? 64 * 1024 : 1;
  auto consumer = kafka::consumer::create(
      cs, [this](kafka::rebalance_kind k, const std::vector<kafka::topic_partition>& p) {
        on_rebalance(k, p);
      });
  if (!consumer) throw fatal_error(consumer.err());
  consumer_ = std::move(*consumer);
  if (auto sub = consumer_->subscribe({kafka::topic(settings_.source_topic)}); !sub)
    throw fatal_error(sub.err());

  dlq_max_bytes_ = dead_letter_limit();
  kafka::producer_settings ps;
  ps.client = settings_.kafka;
  ps.client.client_id = "sluice-process-dlq";
  ps.linger = std::chrono::milliseconds(1);
  // The producer's limit is the topic's: a letter the broker would refuse is cut to fit
  // before it is sent, never retried forever.
  ps.client.extra.insert(ps.client.extra.begin(),
                         {"message.max.bytes", std::to_string(dlq_max_bytes_)});
  auto producer = kafka::producer::create(
      ps, [this](const kafka::delivery_report& r) { on_dead_letter_report(r); });
  if (!producer) throw fatal_error(producer.err());
  producer_ = std::move(*producer);

  auto cc = settings_.cassandra;
  cc.keyspace = settings_.keyspace;
  cc.idempotent_retry_for = std::chrono::seconds(5);  // then our own backoff takes over
  for (int attempt = 0; !stop_; ++attempt) {
    auto session = cql::session::connect(cc);
    auto prepared =
        session ? (*session)->prepare(upsert_user_cql) : result<cql::prepared>(session.err());
    if (prepared) {
      cassandra_ = std::move(*session);
      upsert_ = std::move(*prepared);
      return;
    }
    log_retry(prepared.err().message, attempt);
    auto until = clock::now() + backoff_for(attempt);
    while (clock::now() < until && !stop_)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::size_t processor::dead_letter_limit() {
  if (settings_.dlq_max_bytes > 0) return settings_.dlq_max_bytes;
  constexpr std::size_t kafka_default = 1048588;  // the broker's message.max.bytes default
  auto admin = kafka::admin::create(settings_.kafka);
  auto limit = admin ? (*admin)->topic_config(kafka::topic(settings_.dlq_topic),
                                              "max.message.bytes", std::chrono::seconds(10))
                     : result<std::string>(admin.err());
  if (!limit) {
    log_->warn("dead-letter size limit: {}; assuming Kafka's default {} bytes", limit.err().message,
               kafka_default);
    return kafka_default;
  }
  try {
    return static_cast<std::size_t>(std::stoull(*limit));
  } catch (const std::exception& e) {
    log_->warn(
        "dead-letter size limit: max.message.bytes '{}' of {} is not a number ({}); "
        "assuming {} bytes",
        *limit, settings_.dlq_topic, e.what(), kafka_default);
    return kafka_default;
  }
}

void processor::on_rebalance(kafka::rebalance_kind kind,
                             const std::vector<kafka::topic_partition>& parts) {
  assignment_changed_ = true;
  if (kind == kafka::rebalance_kind::assigned) {
    log_->info("assigned {} partition(s)", parts.size());
    return;
  }
  if (kind == kafka::rebalance_kind::revoked) {
    // Let the sinks finish what they hold of these partitions, then hand the next owner
    // an offset past all of it.
    if (!drain(parts, settings_.drain_timeout))
      log_->warn("revoke: records still in flight after {} ms; the next owner re-reads them",
                 settings_.drain_timeout.count());
    commit(true, parts);
  }
  for (const auto& p : parts) {
    auto id = p.partition.value();
    in_flight_ -= tracker_.partition(id).in_flight();
    tracker_.forget(id);
    last_committed_.erase(id);
    // Not dispatched, so not committed: the partition's next owner reads them again.
    std::erase_if(stashed_, [&](const kafka::message& m) { return m.partition().value() == id; });
    std::erase_if(rows_waiting_, [&](const auto& w) { return w->partition == id; });
    std::erase_if(letters_waiting_, [&](const auto& w) { return w->partition == id; });
  }
  log_->info("{} {} partition(s)", kind == kafka::rebalance_kind::revoked ? "revoked" : "lost",
             parts.size());
}

bool processor::dispatch(kafka::message& m) {
  auto partition = m.partition().value();
  auto offset = m.offset().value();
  auto wall = std::chrono::system_clock::now();
  auto view = view_of(m);
  auto outcome =
      route_record(view, decoder_, rules_,
                   validation_clock(view, std::chrono::time_point_cast<std::chrono::seconds>(wall)),
                   violated_, settings_.pseudonyms.get());
  if (auto* wait = std::get_if<retry_later>(&outcome)) {
    hold(std::move(m), wait->reason);
    return false;
  }
  hold_attempt_ = 0;
  tracker_.partition(partition).dispatched(offset);
  ++in_flight_;
  metrics_.consumed.inc();
  if (m.timestamp_ms() >= 0) metrics_.kafka_delay.observe(seconds_since(m.timestamp_ms(), wall));
  for (const auto& rule : violated_) metrics_.invalid(rule).inc();
  if (auto* row = std::get_if<std::vector<cql::bound_value>>(&outcome)) {
    metrics_.valid.inc();
    auto w = std::make_unique<row_write>();
    w->partition = partition;
    w->offset = offset;
    w->timestamp_ms = m.timestamp_ms();
    w->key = std::string(m.key());
    w->value = std::string(m.value());
    w->row = std::move(*row);
    for (const auto& v : w->row) w->bytes += 4 + (v ? v->size() : 0);
    w->read = clock::now();
    if (settings_.cassandra_batch > 1) w->owner = cassandra_->replica_of(*upsert_, w->row);
    rows_waiting_.push_back(std::move(w));
    return true;
  }
  const auto& why = std::get<dead_letter>(outcome);
  auto letter = std::make_unique<dead_letter_write>();
  letter->partition = partition;
  letter->offset = offset;
  letter->key = std::string(m.key());
  letter->value = std::string(m.value());
  letter->null_value = !m.has_value();
  letter->headers = dead_letter_headers(view, why, rules_.version());
  send_dead_letter(std::move(letter));
  return true;
}

void processor::hold(kafka::message m, const std::string& why) {
  metrics_.dependency_waits.inc();
  held_until_ = clock::now() + backoff_for(hold_attempt_);
  log_retry(fmt::format("cannot judge {}[{}]@{}: {}", settings_.source_topic, m.partition().value(),
                        m.offset().value(), why),
            hold_attempt_++);
  stashed_.push_front(std::move(m));  // first again: a partition's order is kept
}

std::size_t processor::in_flight_of(const std::vector<kafka::topic_partition>& partitions) const {
  if (partitions.empty()) return in_flight_;
  std::size_t n = 0;
  for (const auto& p : partitions) {
    auto it = tracker_.partitions().find(p.partition.value());
    if (it != tracker_.partitions().end()) n += it->second.in_flight();
  }
  return n;
}

bool processor::drain(const std::vector<kafka::topic_partition>& partitions,
                      std::chrono::milliseconds limit) {
  auto until = clock::now() + limit;
  while (in_flight_of(partitions) > 0 && clock::now() < until)
    service_sinks(std::chrono::milliseconds(10));
  return in_flight_of(partitions) == 0;
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

void processor::poll_while_waiting() {
  // Partitions assigned since the last pause fetch until paused too. `paused_` stays set
  // until resume_fetching() resumes every owned partition, whatever arrived meanwhile.
  if (!paused_ || assignment_changed_) {
    if (auto owned = consumer_->assignment(); owned && !owned->empty()) {
      if (auto p = consumer_->pause(*owned); p) {
        paused_ = true;
        assignment_changed_ = false;
      }
    }
  }
  auto polled = consumer_->poll(std::chrono::milliseconds(0));
  if (polled && *polled) stashed_.push_back(std::move(**polled));
}

void processor::advance_idle_partitions() {
  auto owned = consumer_->assignment();
  if (!owned || owned->empty()) return;
  auto positions = consumer_->position(*owned);
  if (!positions) return;
  for (const auto& p : *positions) {
    if (p.offset.value() < 0) continue;  // nothing fetched yet
    tracker_.partition(p.partition.value()).skip_to(p.offset.value());
  }
}

void processor::resume_fetching() {
  if (!paused_) return;
  if (auto owned = consumer_->assignment(); owned && !owned->empty()) {
    if (auto r = consumer_->resume(*owned); !r)
      log_->warn("resuming fetch after the sinks caught up: {}", r.err().message);
  }
  paused_ = false;
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
    publish_cql_stats();
    auto until = clock::now() + settings_.lag_interval;
    while (clock::now() < until && !stop.stop_requested() && !stop_)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void processor::publish_cql_stats() {
  if (!cassandra_) return;
  auto stats = cassandra_->stats();
  // The session counts since it opened; the counters take the growth since the last look.
  auto advance = [](web::counter& c, std::uint64_t now) {
    if (now > c.value()) c.inc(now - c.value());
  };
  for (const auto& [reason, count] : stats.retries_by_reason) {
    advance(metrics_.registry.get_counter("sluice_process_cql_retries_total",
                                          "CQL requests retried by the session's retry policy",
                                          {{"reason", reason}}),
            count);
  }
  advance(metrics_.registry.get_counter(
              "sluice_process_cql_heartbeat_failures_total",
              "CQL connections closed because a node missed a heartbeat (frozen or unreachable)"),
          stats.heartbeat_failures);
}

bool processor::drained_group() {
  // Drained means the group's committed offsets reached every partition's end, not just
  // "no records lately": after a crash, partitions reach a new member only once the dead
  // member's session expires.
  if (!admin_) {
    auto created = kafka::admin::create(settings_.kafka);
    if (!created) return false;
    admin_ = std::move(*created);
  }
  auto lag = admin_->group_lag(settings_.group_id, kafka::topic(settings_.source_topic),
                               std::chrono::seconds(5));
  if (!lag) return false;
  for (const auto& p : *lag) {
    if (p.high.value() > 0 && p.committed.value() < p.high.value()) return false;
  }
  return true;
}

int processor::run() {
  connect();
  if (stop_) return 0;
  lag_watcher_ = std::jthread([this](std::stop_token stop) { watch_lag(stop); });
  log_->info("processing {} -> Cassandra {}:{}/{} and {} (group {})", settings_.source_topic,
             settings_.cassandra.host, settings_.cassandra.port, settings_.keyspace,
             settings_.dlq_topic, settings_.group_id);
  if (const auto& p = settings_.pseudonyms) {
    std::string names;
    for (auto f : p->fields())
      names += fmt::format("{}{}", names.empty() ? "" : ",", model::name_of(f));
    log_->info("pseudonymising {} with key id {}", names, p->key_id());
  }
  auto last_record = clock::now();
  auto full_since = clock::time_point{};  // {}: not full
  while (!stop_) {
    service_sinks(std::chrono::milliseconds(0));
    commit_if_due();
    bool held = clock::now() < held_until_;  // a dependency failed: wait, keep the order
    if (held || in_flight_ >= settings_.max_in_flight) {  // back-pressure
      if (full_since == clock::time_point{}) full_since = clock::now();
      service_sinks(std::chrono::milliseconds(5));
      if (held || clock::now() - full_since > std::chrono::milliseconds(500)) poll_while_waiting();
      continue;
    }
    full_since = {};
    resume_fetching();
    std::optional<kafka::message> next;
    if (!stashed_.empty()) {
      next = std::move(stashed_.front());
      stashed_.pop_front();
    } else {
      // Wait for records in librdkafka rather than for acknowledgements on a condition
      // variable: answers are picked up within a millisecond at the top of the loop, and
      // the threads do not wake each other for every answer.
      auto polled = consumer_->poll(in_flight_ == 0 ? std::chrono::milliseconds(20)
                                                    : std::chrono::milliseconds(1));
      if (!polled) {
        log_->warn("consume error: {}", polled.err().message);
      } else if (*polled) {
        next = std::move(**polled);
      }
    }
    if (next) {
      last_record = clock::now();
      dispatch(*next);
      continue;
    }
    if (in_flight_ > 0) continue;
    advance_idle_partitions();
    commit_if_due(true);  // idle: let the group's offsets reach what is done
    if (settings_.stop_at_end && clock::now() - last_record > settings_.idle_exit &&
        drained_group())
      break;
  }
  // Graceful stop: finish what is in flight, commit it, leave the group.
  if (!drain({}, settings_.drain_timeout))
    log_->warn("stopping with {} record(s) unacknowledged; they will be re-read", in_flight_);
  commit();
  lag_watcher_ = {};  // stop and join
  if (auto closed = consumer_->close(); !closed)
    log_->warn("leaving the group: {}", closed.err().message);
  log_->info(
      "stopped: consumed {}, written {} in {} Cassandra request(s), dead-lettered {}; "
      "end-to-end latency p50 {:.1f} ms p99 {:.1f} ms (of which Kafka to processor p99 "
      "{:.1f} ms, processor to Cassandra p99 {:.1f} ms)",
      metrics_.consumed.value(), metrics_.written.value(), metrics_.cassandra_requests.value(),
      metrics_.dead_lettered.value(), metrics_.latency.quantile(0.5) * 1e3,
      metrics_.latency.quantile(0.99) * 1e3, metrics_.kafka_delay.quantile(0.99) * 1e3,
      metrics_.store_latency.quantile(0.99) * 1e3);
  return 0;
}

}  // namespace sluice::pipeline::process_detail

namespace sluice::pipeline {

int run_processor(const process_settings& settings, const std::atomic<bool>& stop,
                  web::metrics_registry& metrics) {
  process_detail::processor p(settings, stop, metrics);
  return p.run();
}

}  // namespace sluice::pipeline
