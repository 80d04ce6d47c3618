// Start-up of the registry server: open the topic, replay it (see server.h).
#include "registry/server.h"

#include "base/log.h"

namespace sluice::registry {

result<std::unique_ptr<registry_server>> registry_server::start(const store_settings& settings) {
  auto log = kafka_log::open(settings);
  if (!log) {
    return make_error(log.err().code, "schema registry store (Kafka {}, topic {}): {}",
                      settings.client.bootstrap_servers, settings.topic.str(), log.err().message);
  }
  std::unique_ptr<registry_server> self(new registry_server(std::move(*log)));
  auto count =
      self->log_->replay([&](const log_record& record) { return self->service_.replay(record); });
  if (!count) {
    return make_error(count.err().code, "replaying registry topic {} from {}: {}",
                      settings.topic.str(), settings.client.bootstrap_servers, count.err().message);
  }
  self->replayed_ = *count;
  auto stats = self->service_.stats();
  log::get("registry")
      ->info("replayed {} record(s) from {}: {} subject(s), next id {}", *count,
             settings.topic.str(), stats.subjects, stats.next_id);
  return self;
}

}  // namespace sluice::registry
