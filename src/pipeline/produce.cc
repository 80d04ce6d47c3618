// The produce loop: generate, encode, produce, report progress, flush, write the manifest.
#include "pipeline/produce.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/log.h"
#include "base/url.h"
#include "kafka/kafka.h"
#include "model/json.h"
#include "pipeline/avro_encode.h"
#include "registry/client.h"

namespace sluice::pipeline {
namespace {

using clock = std::chrono::steady_clock;

struct delivery_book {
  std::mutex mutex;
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> offsets;  // first, last
  std::atomic<std::uint64_t> acked{0}, failed{0};
  std::string first_error;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw fatal_error(fmt::format("cannot read schema file '{}'", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Sleeps until record number `sent` is due under the rate and burst schedule.
void wait_until_due(const produce_settings& s, clock::time_point started, std::uint64_t sent,
                    const std::atomic<bool>& stop) {
  while (!stop) {
    auto elapsed = std::chrono::duration<double>(clock::now() - started);
    double due = records_due(s, elapsed);
    if (due >= static_cast<double>(sent)) return;
    // At least a millisecond: records that fall due meanwhile go out together, instead of
    // one thread wake-up per record (at 10,000/s that alone was a quarter of a core).
    auto wait = std::clamp((static_cast<double>(sent) - due) / s.rate, 0.001, 0.05);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

void wait_for_broker(const produce_settings& s) {
  auto deadline = clock::now() + s.connect_timeout;
  auto log = log::get("produce");
  for (int attempt = 1;; ++attempt) {
    auto admin = kafka::admin::create(s.kafka.client);
    if (admin) {
      auto partitions = (*admin)->partition_count(kafka::topic(s.topic), std::chrono::seconds(5));
      if (partitions) return;
      // The broker answered but does not know the topic: a few seconds of grace for a
      // topic just created, then a clear error rather than half a minute of waiting.
      if (partitions.err().code == errc::not_found && attempt >= 5) {
        throw fatal_error(fmt::format(
            "topic '{}' does not exist on Kafka at {}: create it first (`sluice up` creates "
            "users.raw) or pass another --topic",
            s.topic, s.kafka.client.bootstrap_servers));
      }
      if (clock::now() > deadline) {
        throw fatal_error(fmt::format("Kafka at {} did not answer for topic {} within {} s: {}",
                                      s.kafka.client.bootstrap_servers, s.topic,
                                      s.connect_timeout.count(), partitions.err().message));
      }
      log->warn("waiting for Kafka at {} (attempt {}): {}", s.kafka.client.bootstrap_servers,
                attempt, partitions.err().message);
    } else if (clock::now() > deadline) {
      throw fatal_error(admin.err());
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

/// Publishes librdkafka's per-topic batch statistics as gauges.
class batch_statistics {
 public:
  batch_statistics(web::metrics_registry& metrics, std::string topic)
      : topic_(std::move(topic)),
        bytes_avg_(metrics.get_gauge("sluice_produce_batch_bytes_avg",
                                     "Average size of the batches sent (last window)")),
        bytes_p99_(metrics.get_gauge("sluice_produce_batch_bytes_p99",
                                     "99th percentile batch size in bytes (last window)")),
        records_avg_(metrics.get_gauge("sluice_produce_batch_records_avg",
                                       "Average records per batch (last window)")),
        records_p99_(metrics.get_gauge("sluice_produce_batch_records_p99",
                                       "99th percentile records per batch (last window)")),
        transmitted_(metrics.get_gauge(
            "sluice_produce_records_transmitted",
            "Records written to a broker connection so far, each re-send counted again")),
        disconnects_(metrics.get_gauge("sluice_produce_broker_disconnects",
                                       "Broker connections lost so far")) {}

  void update(std::string_view json) {
    ++reports_;
    auto stats = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (stats.is_discarded()) return;
    double disconnects = 0;  // both counters only grow (librdkafka keeps its broker objects)
    const auto brokers = stats.value("brokers", nlohmann::json::object());
    for (const auto& broker : brokers) {
      if (broker.is_object()) disconnects += broker.value("disconnects", 0.0);
    }
    disconnects_.set(disconnects);
    auto topic = stats.value("topics", nlohmann::json::object()).value(topic_, nlohmann::json());
    if (!topic.is_object()) return;
    double transmitted = 0;
    const auto partitions = topic.value("partitions", nlohmann::json::object());
    for (const auto& partition : partitions) {
      if (partition.is_object()) transmitted += partition.value("txmsgs", 0.0);
    }
    transmitted_.set(transmitted);
    auto window = [](const nlohmann::json& t, const char* name, const char* stat) {
      return t.value(name, nlohmann::json::object()).value(stat, 0.0);
    };
    if (window(topic, "batchcnt", "cnt") == 0) return;  // nothing sent in this window
    bytes_avg_.set(window(topic, "batchsize", "avg"));
    bytes_p99_.set(window(topic, "batchsize", "p99"));
    records_avg_.set(window(topic, "batchcnt", "avg"));
    records_p99_.set(window(topic, "batchcnt", "p99"));
  }
  double bytes_avg() const { return bytes_avg_.value(); }
  double records_avg() const { return records_avg_.value(); }
  std::uint64_t records_transmitted() const {
    return static_cast<std::uint64_t>(transmitted_.value());
  }
  std::uint64_t reports() const { return reports_; }
  std::uint64_t broker_disconnects() const {
    return static_cast<std::uint64_t>(disconnects_.value());
  }

 private:
  std::string topic_;
  std::uint64_t reports_ = 0;  // statistics reports seen (they arrive on the polling thread)
  web::gauge &bytes_avg_, &bytes_p99_, &records_avg_, &records_p99_, &transmitted_, &disconnects_;
};

}  // namespace

double records_due(const produce_settings& s, std::chrono::duration<double> elapsed) {
  double due = s.rate * elapsed.count();
  if (s.burst_size > 0 && s.burst_every.count() > 0) {
    auto bursts = std::floor(elapsed.count() / static_cast<double>(s.burst_every.count())) + 1;
    due += bursts * static_cast<double>(s.burst_size);
  }
  return due;
}

int run_producer(const produce_settings& s, const std::atomic<bool>& stop,
                 web::metrics_registry& metrics) {
  auto log = log::get("produce");
  gen::generator generator(s.generator);
  int schema_id = 0;
  if (s.format == "avro") {
    registry::client registry(registry::client_settings{.url = s.registry_url});
    auto id = registry.register_schema(s.topic + "-value", read_file(s.schema_file));
    if (!id) {
      throw fatal_error(fmt::format("registering {} at the schema registry {} failed: {}",
                                    s.schema_file, redact_url(s.registry_url), id.err().message));
    }
    schema_id = *id;
  } else if (s.format != "json") {
    throw fatal_error(fmt::format("--format: '{}' is not avro or json", s.format));
  }
  wait_for_broker(s);

  auto& sent_total = metrics.get_counter("sluice_produce_sent_total", "Records handed to Kafka");
  auto& acked_total =
      metrics.get_counter("sluice_produce_acknowledged_total", "Records acknowledged");
  auto& failed_total = metrics.get_counter("sluice_produce_failed_total", "Records that failed");
  auto& ack_latency = metrics.get_histogram("sluice_produce_ack_latency_seconds",
                                            "Time from produce to the broker's acknowledgement");
  batch_statistics batches(metrics, s.topic);
  auto kafka_settings = s.kafka;
  kafka_settings.statistics_interval = std::chrono::milliseconds(1000);
  kafka_settings.on_statistics = [&](std::string_view json) { batches.update(json); };
  delivery_book book;
  auto producer = kafka::producer::create(kafka_settings, [&](const kafka::delivery_report& r) {
    if (r.failure) {
      book.failed++;
      failed_total.inc();
      std::lock_guard lock(book.mutex);
      if (book.first_error.empty()) book.first_error = r.failure->message;
      return;
    }
    book.acked++;
    acked_total.inc();
    if (r.latency.count() >= 0) ack_latency.observe(static_cast<double>(r.latency.count()) / 1e6);
    std::lock_guard lock(book.mutex);
    auto [it, inserted] =
        book.offsets.try_emplace(r.partition.value(), r.offset.value(), r.offset.value());
    if (!inserted) {
      it->second.first = std::min(it->second.first, r.offset.value());
      it->second.second = std::max(it->second.second, r.offset.value());
    }
  });
  if (!producer) throw fatal_error(producer.err());

  std::map<std::string, std::uint64_t> kinds;
  std::uint64_t sent = 0;
  std::string value, key;
  auto started = clock::now();
  auto next_progress = started + std::chrono::seconds(1);
  auto end_index = s.count ? s.start_index + s.count : UINT64_MAX;
  for (auto i = s.start_index; i < end_index && !stop; ++i) {
    if (s.duration.count() > 0 && clock::now() - started > s.duration) break;
    auto rec = generator.make_record(i);
    ++kinds[std::string(gen::name_of(rec.kind))];
    key = rec.record.get(model::field::id).value_or("");
    value.clear();
    if (schema_id) {
      append_confluent_avro(rec.record, schema_id, value);
    } else {
      model::append_json(rec.record, value);
    }
    kafka::outgoing_record out{kafka::topic(s.topic), std::nullopt, key, value, {}};
    while (true) {
      auto r = (*producer)->produce(out);
      if (r) break;
      if (r.err().code != errc::unavailable) throw fatal_error(r.err());
      (*producer)->poll(std::chrono::milliseconds(10));  // local queue full: back-pressure
    }
    ++sent;
    sent_total.inc();
    (*producer)->poll(std::chrono::milliseconds(0));
    if (s.rate > 0) wait_until_due(s, started, sent, stop);
    if (clock::now() > next_progress) {
      auto secs = std::chrono::duration<double>(clock::now() - started).count();
      fmt::print(stderr,
                 "sent {} acknowledged {} failed {} ({:.0f}/s, ack p99 {:.1f} ms, batch {:.0f} "
                 "records)\n",
                 sent, book.acked.load(), book.failed.load(), sent / secs,
                 ack_latency.quantile(0.99) * 1e3, batches.records_avg());
      next_progress += std::chrono::seconds(1);
    }
  }
  auto flushed = (*producer)->flush(std::chrono::seconds(120));
  auto secs = std::chrono::duration<double>(clock::now() - started).count();
  // One statistics report taken after the flush (at most a second away), so the
  // transmission counts below include every send of the run.
  auto reports_before = batches.reports();
  auto report_deadline = clock::now() + std::chrono::milliseconds(1500);
  while (batches.reports() == reports_before && clock::now() < report_deadline) {
    (*producer)->poll(std::chrono::milliseconds(50));
  }
  // Records transmitted beyond the acknowledged ones were sent again after a lost
  // connection or a retriable error (the idempotent producer keeps them from doubling).
  auto sent_again = batches.records_transmitted() > book.acked
                        ? batches.records_transmitted() - book.acked.load()
                        : std::uint64_t{0};
  fmt::print(stderr,
             "done: sent {} acknowledged {} failed {} in {:.1f} s ({:.0f}/s); {} record(s) "
             "transmitted again, {} broker disconnect(s)\n",
             sent, book.acked.load(), book.failed.load(), secs, secs > 0 ? sent / secs : 0.0,
             sent_again, batches.broker_disconnects());
  std::string batch_sizes =
      batches.records_avg() > 0
          ? fmt::format("; batches {:.0f} records, {:.0f} bytes", batches.records_avg(),
                        batches.bytes_avg())
          : std::string();  // the run ended before the first statistics report
  fmt::print(stderr, "ack latency p50 {:.1f} ms p99 {:.1f} ms{}\n", ack_latency.quantile(0.5) * 1e3,
             ack_latency.quantile(0.99) * 1e3, batch_sizes);
  if (!book.first_error.empty()) log->error("first delivery error: {}", book.first_error);

  if (!s.manifest_path.empty()) {
    nlohmann::json partitions = nlohmann::json::object();
    for (const auto& [p, range] : book.offsets) {
      partitions[std::to_string(p)] = {{"first_offset", range.first},
                                       {"last_offset", range.second}};
    }
    std::mt19937_64 random(std::random_device{}());
    nlohmann::json manifest = {{"run_id", fmt::format("{:016x}", random())},
                               {"topic", s.topic},
                               {"format", s.format},
                               {"schema_id", schema_id},
                               {"seed", s.generator.seed},
                               {"start_index", s.start_index},
                               {"count", sent},
                               {"acknowledged", book.acked.load()},
                               {"records_sent_again", sent_again},
                               {"broker_disconnects", batches.broker_disconnects()},
                               {"good", kinds["none"]},
                               {"bad_by_kind", kinds},
                               {"partitions", partitions}};
    manifest["bad_by_kind"].erase("none");
    std::ofstream(s.manifest_path) << manifest.dump(2) << "\n";
  }
  return flushed && book.failed == 0 && book.acked == sent ? 0 : 1;
}

}  // namespace sluice::pipeline
