// `sluice registry` without its HTTP transport: opens the compacted topic, replays it
// into the API service, and hands out the service that the HTTP layer calls for every
// request. See service.h for the API and store.h for persistence.
//
// The public header of the registry subsystem for callers is client.h (the Confluent
// REST client); this one is for the server verb.
#pragma once

#include <memory>

#include "base/result.h"
#include "registry/service.h"
#include "registry/store.h"

namespace sluice::registry {

class registry_server {
 public:
  /// Connects to Kafka, creates the topic if needed and rebuilds the state from it.
  /// Errors name the bootstrap servers and the topic.
  static result<std::unique_ptr<registry_server>> start(const store_settings& settings);

  /// The API, safe to call from any thread.
  service& api() { return service_; }

  /// Records read back from the topic at start.
  size_t replayed() const { return replayed_; }

 private:
  explicit registry_server(std::unique_ptr<kafka_log> log)
      : log_(std::move(log)), service_(*log_) {}
  std::unique_ptr<kafka_log> log_;
  service service_;
  size_t replayed_ = 0;
};

}  // namespace sluice::registry
