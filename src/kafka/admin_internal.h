// Helpers shared by the files implementing kafka::admin (admin.cc, cluster_admin.cc):
// RAII for librdkafka's C admin objects and waiting for an admin result event.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "base/result.h"
#include "kafka/errors.h"

namespace sluice::kafka::admin_internal {

// RAII for the C API objects used here.
template <auto Destroy>
struct c_deleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Destroy(p);
  }
};
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, c_deleter<rd_kafka_queue_destroy>>;
using event_ptr = std::unique_ptr<rd_kafka_event_t, c_deleter<rd_kafka_event_destroy>>;
using options_ptr =
    std::unique_ptr<rd_kafka_AdminOptions_t, c_deleter<rd_kafka_AdminOptions_destroy>>;

// Waits for the admin result event on `queue`; errors for timeouts and request errors.
inline result<rd_kafka_event_t*> wait_result(rd_kafka_queue_t* queue,
                                             std::chrono::milliseconds timeout,
                                             std::string_view what) {
  // The request itself times out (request_timeout option); wait a little longer.
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 2000);
  if (ev == nullptr) {
    return make_error(errc::timeout, "{}: no answer within {} ms", what, timeout.count());
  }
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto err = kafka_error(rd_kafka_event_error(ev), what, rd_kafka_event_error_string(ev));
    rd_kafka_event_destroy(ev);
    return err;
  }
  return ev;
}

inline result<options_ptr> make_options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                        std::chrono::milliseconds timeout) {
  options_ptr opts(rd_kafka_AdminOptions_new(rk, op));
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(opts.get(), static_cast<int>(timeout.count()),
                                                errstr, sizeof errstr) != 0) {
    return make_error(errc::invalid_argument, "admin request timeout: {}", errstr);
  }
  return opts;
}

}  // namespace sluice::kafka::admin_internal
