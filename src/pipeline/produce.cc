// The produce loop: generate, encode, produce, report progress, flush, write the manifest.
#include "pipeline/produce.h"

#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/log.h"
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

void wait_for_broker(const produce_settings& s) {
  auto deadline = clock::now() + s.connect_timeout;
  auto log = log::get("produce");
  for (int attempt = 1;; ++attempt) {
    auto admin = kafka::admin::create(s.kafka.client);
    if (admin) {
      auto partitions = (*admin)->partition_count(kafka::topic(s.topic), std::chrono::seconds(5));
      if (partitions) return;
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

}  // namespace

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
                                    s.schema_file, s.registry_url, id.err().message));
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
  delivery_book book;
  auto producer = kafka::producer::create(s.kafka, [&](const kafka::delivery_report& r) {
    if (r.failure) {
      book.failed++;
      failed_total.inc();
      std::lock_guard lock(book.mutex);
      if (book.first_error.empty()) book.first_error = r.failure->message;
      return;
    }
    book.acked++;
    acked_total.inc();
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
    if (s.rate > 0) {
      std::this_thread::sleep_until(started + std::chrono::duration_cast<clock::duration>(
                                                  std::chrono::duration<double>(sent / s.rate)));
    }
    if (clock::now() > next_progress) {
      auto secs = std::chrono::duration<double>(clock::now() - started).count();
      fmt::print(stderr, "sent {} acknowledged {} failed {} ({:.0f}/s)\n", sent, book.acked.load(),
                 book.failed.load(), sent / secs);
      next_progress += std::chrono::seconds(1);
    }
  }
  auto flushed = (*producer)->flush(std::chrono::seconds(120));
  auto secs = std::chrono::duration<double>(clock::now() - started).count();
  fmt::print(stderr, "done: sent {} acknowledged {} failed {} in {:.1f} s ({:.0f}/s)\n", sent,
             book.acked.load(), book.failed.load(), secs, secs > 0 ? sent / secs : 0.0);
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
                               {"good", kinds["none"]},
                               {"bad_by_kind", kinds},
                               {"partitions", partitions}};
    manifest["bad_by_kind"].erase("none");
    std::ofstream(s.manifest_path) << manifest.dump(2) << "\n";
  }
  return flushed && book.failed == 0 && book.acked == sent ? 0 : 1;
}

}  // namespace sluice::pipeline
