// The processor's sinks: Cassandra writes grouped into per-node batches (bounded by rows
// and bytes, one version of an id each), what happens when Cassandra fails or refuses
// them, dead letters cut to fit their topic, and acknowledgements in any order.
#include "pipeline/processor.h"

namespace sluice::pipeline::process_detail {

std::vector<std::unique_ptr<row_write>> processor::next_request(clock::time_point now) {
  // What is waiting goes out together when it belongs to one node: an unlogged batch of
  // rows with the same owner costs Cassandra one request instead of many. A batch never
  // holds two versions of one id: their writes then reach Cassandra as separate
  // requests, each with its record's write timestamp, and the later record wins.
  std::vector<std::unique_ptr<row_write>> group;
  std::size_t bytes = 0;
  const auto owner = rows_waiting_.front()->owner;
  auto fits = [&](const row_write& next) {
    if (group.empty()) return true;
    if (group.front()->alone || next.alone || next.due > now || next.owner != owner) return false;
    if (group.size() >= settings_.cassandra_batch) return false;
    if (bytes + next.bytes > settings_.cassandra_batch_bytes) return false;
    return std::none_of(group.begin(), group.end(),
                        [&](const auto& w) { return w->row[0] == next.row[0]; });
  };
  while (!rows_waiting_.empty() && fits(*rows_waiting_.front())) {
    bytes += rows_waiting_.front()->bytes;
    group.push_back(std::move(rows_waiting_.front()));
    rows_waiting_.pop_front();
  }
  return group;
}

void processor::send_rows() {
  auto now = clock::now();
  while (requests_in_cassandra_ < settings_.cassandra_window && !rows_waiting_.empty() &&
         request_ready(now)) {
    auto group = std::make_shared<std::vector<std::unique_ptr<row_write>>>(next_request(now));
    ++requests_in_cassandra_;
    metrics_.cassandra_requests.inc();
    auto* queue = &completions_;
    auto done = [queue, group](result<cql::rows_result> r) {
      std::optional<error> failure;
      if (!r) failure = r.err();
      queue->push({std::move(*group), std::move(failure)});
    };
    // The session encodes the values before returning, so each row is lent to the
    // request (moved, not copied) and moved back for a possible retry. Through `members`:
    // the answer may already be moving `group` on the I/O thread.
    if (group->size() == 1) {
      cassandra_->execute_async(*upsert_, group->front()->row, std::move(done),
                                {.idempotent = true});  // fixed values: safe to apply twice
    } else {
      std::vector<row_write*> members;
      std::vector<std::vector<cql::bound_value>> rows;
      members.reserve(group->size());
      rows.reserve(group->size());
      for (const auto& w : *group) {
        members.push_back(w.get());
        rows.push_back(std::move(w->row));
      }
      cassandra_->execute_batch_async(*upsert_, rows, std::move(done), {.idempotent = true});
      for (std::size_t i = 0; i < members.size(); ++i) members[i]->row = std::move(rows[i]);
    }
  }
}

void processor::on_write_failure(std::vector<std::unique_ptr<row_write>> writes,
                                 const error& failure) {
  std::erase_if(writes, [&](const auto& w) { return !owns(w->partition); });  // revoked
  if (writes.empty()) return;
  // Invalid (0x2200) is Cassandra refusing the request itself, for good: a batch past its
  // size limit, or a value it cannot store. Any other failure (timeouts, unavailable,
  // overloaded, a lost connection) is the store's, and is retried.
  bool refused = failure.code == errc::server &&
                 cql::error_kind(failure.detail) == cql::server_error_kind::invalid;
  if (refused && writes.size() > 1) {
    log_->warn("Cassandra refused a batch of {} row(s) ({}); sending each row alone", writes.size(),
               failure.message);
    for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
      (*it)->alone = true;
      rows_waiting_.push_front(std::move(*it));
    }
    return;
  }
  if (refused) {
    dead_letter_row(std::move(writes.front()), failure);
    return;
  }
  log_retry(fmt::format("Cassandra write of {} row(s) failed: {}", writes.size(), failure.message),
            writes.front()->attempt);
  for (auto& w : writes) {
    w->due = clock::now() + backoff_for(w->attempt++);
    rows_waiting_.push_back(std::move(w));
  }
}

void processor::dead_letter_row(std::unique_ptr<row_write> w, const error& failure) {
  log_->warn(
      "Cassandra refused the row of {}[{}]@{} for good: {}; dead-lettered as "
      "store.rejected",
      settings_.source_topic, w->partition, w->offset, failure.message);
  metrics_.invalid("store.rejected").inc();
  record_view view{settings_.source_topic, w->partition, w->offset, w->timestamp_ms, w->value};
  dead_letter why{"store.rejected", "", failure.message, schema_id_of(w->value)};
  auto letter = std::make_unique<dead_letter_write>();
  letter->partition = w->partition;
  letter->offset = w->offset;
  letter->headers = dead_letter_headers(view, why, rules_.version());
  letter->key = std::move(w->key);
  letter->value = std::move(w->value);
  send_dead_letter(std::move(letter));
}

bool processor::request_ready(clock::time_point now) const {
  const auto& front = *rows_waiting_.front();
  if (front.due > now) return false;  // a retry, backing off
  return front.attempt > 0 || rows_waiting_.size() >= settings_.cassandra_batch ||
         now - front.read >= settings_.cassandra_linger;
}

namespace {
bool too_large(const error& e) {
  return e.message.find("MSG_SIZE_TOO_LARGE") != std::string::npos;
}
}  // namespace

void processor::send_dead_letter(std::unique_ptr<dead_letter_write> letter) {
  if (!letter->max_bytes) letter->max_bytes = dlq_max_bytes_;
  if (fit_dead_letter(letter->key, letter->value, letter->headers, letter->max_bytes)) {
    metrics_.truncated_letters.inc();
    log_->warn("dead letter of {}[{}]@{} cut to {} bytes to fit {}'s limit of {} bytes",
               settings_.source_topic, letter->partition, letter->offset, letter->value.size(),
               settings_.dlq_topic, letter->max_bytes);
  }
  kafka::outgoing_record out{kafka::topic(settings_.dlq_topic),
                             std::nullopt,
                             letter->key,
                             letter->value,
                             letter->headers,
                             letter.get()};
  out.tombstone = letter->null_value;  // a null value stays null
  while (true) {
    auto r = producer_->produce(out);
    if (r) {
      (void)letter.release();  // owned by the delivery report now
      return;
    }
    if (too_large(r.err())) {  // the limit learnt at start was too high: halve it
      letter->max_bytes /= 2;
      send_dead_letter(std::move(letter));
      return;
    }
    if (r.err().code != errc::unavailable) {
      letter->due = clock::now() + backoff_for(letter->attempt);
      log_retry(
          fmt::format("dead-letter produce to {} failed: {}", settings_.dlq_topic, r.err().message),
          letter->attempt++);
      letters_waiting_.push_back(std::move(letter));
      return;
    }
    producer_->poll(std::chrono::milliseconds(10));  // local queue full
  }
}

void processor::on_dead_letter_report(const kafka::delivery_report& r) {
  std::unique_ptr<dead_letter_write> letter(static_cast<dead_letter_write*>(r.opaque));
  if (!letter) return;
  if (!owns(letter->partition)) return;  // revoked meanwhile: its next owner sends it
  if (r.failure && too_large(*r.failure) && letter->max_bytes > 1024) {
    letter->max_bytes /= 2;  // the broker's limit is lower than the topic said
    letters_waiting_.push_back(std::move(letter));
    return;
  }
  if (r.failure) {
    letter->due = clock::now() + backoff_for(letter->attempt);
    log_retry(fmt::format("dead-letter topic {} did not take a record: {}", settings_.dlq_topic,
                          r.failure->message),
              letter->attempt++);
    letters_waiting_.push_back(std::move(letter));
    return;
  }
  metrics_.dead_lettered.inc();
  acknowledge(letter->partition, letter->offset);
}

void processor::check_producer() {
  // A fatal error of the idempotent producer leaves it unusable: letters would wait
  // forever. Exit with the reason instead; nothing unacknowledged was committed, so the
  // restarted processor re-reads it.
  if (auto fatal = producer_->fatal())
    throw fatal_error(fmt::format("dead-letter producer: {}", fatal->message));
}

void processor::acknowledge(std::int32_t partition, std::int64_t offset) {
  auto& partitions = tracker_.partitions();
  if (partitions.find(partition) == partitions.end()) return;  // revoked meanwhile
  if (tracker_.partition(partition).acknowledged(offset)) --in_flight_;
}

void processor::service_sinks(std::chrono::milliseconds wait) {
  producer_->poll(std::chrono::milliseconds(0));
  check_producer();
  auto completed = completions_.take(wait);
  // Taken after the wait: the answers are acknowledged now, not when the wait began.
  auto acknowledged = clock::now();
  auto wall = std::chrono::system_clock::now();
  for (auto& done : completed) {
    --requests_in_cassandra_;
    if (done.failure) {
      on_write_failure(std::move(done.writes), *done.failure);
      continue;
    }
    for (auto& w : done.writes) {
      metrics_.written.inc();
      if (w->timestamp_ms >= 0) metrics_.latency.observe(seconds_since(w->timestamp_ms, wall));
      metrics_.store_latency.observe(std::chrono::duration<double>(acknowledged - w->read).count());
      acknowledge(w->partition, w->offset);
    }
  }
  auto now = clock::now();
  for (std::size_t n = letters_waiting_.size(); n > 0; --n) {
    auto letter = std::move(letters_waiting_.front());
    letters_waiting_.pop_front();
    if (!owns(letter->partition)) continue;  // revoked: its next owner sends it
    if (letter->due <= now) {
      send_dead_letter(std::move(letter));
    } else {
      letters_waiting_.push_back(std::move(letter));
    }
  }
  // A retried row waits at the front until due; the ones behind it wait with it, which
  // is what pausing on a failing sink means.
  send_rows();
  metrics_.in_flight.set(static_cast<double>(in_flight_));
}

}  // namespace sluice::pipeline::process_detail
