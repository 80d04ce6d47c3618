// The live flow of the pipeline for the console's dashboard: every second the sampler
// scrapes the /metrics of each processor (C++ `sluice process`, the Spark job) and of the
// producer, and keeps the last ten minutes as per-second rates, end-to-end latency
// quantiles over each interval, and consumer lag.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::console {

/// One Prometheus series: name, labels and value, as read from the text format.
struct metric_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses the Prometheus text exposition format (comments skipped). Lines that do not
/// parse are skipped too: a scrape never fails on one odd line.
std::vector<metric_sample> parse_prometheus(std::string_view text);

/// The counters of one scrape that the dashboard needs.
struct processor_counters {
  double consumed = 0, valid = 0, dead_lettered = 0, written = 0, produced = 0;
  std::map<std::string, double> invalid_by_rule;
  std::optional<double> lag;
  std::vector<std::pair<double, double>> latency_buckets;  // (upper bound s, cumulative count)
};

processor_counters summarize(const std::vector<metric_sample>& samples);

/// The q-quantile (0..1) of the observations between two cumulative histograms, in
/// seconds; empty when nothing was observed in between.
std::optional<double> quantile_between(const std::vector<std::pair<double, double>>& before,
                                       const std::vector<std::pair<double, double>>& after,
                                       double q);

/// One point of a processor's series.
struct flow_point {
  std::int64_t t_ms = 0;
  double consumed = 0, valid = 0, dead_lettered = 0, written = 0, produced = 0;  // per second
  std::map<std::string, double> dead_by_rule;                                    // per second
  std::optional<double> p50_ms, p95_ms, p99_ms;
  std::optional<double> lag;
};

/// Rates between two scrapes taken `seconds` apart.
flow_point rates_between(const processor_counters& before, const processor_counters& after,
                         double seconds, std::int64_t t_ms);

/// Fetches a URL's body; empty optional plus a reason when it failed.
using metrics_fetcher =
    std::function<std::optional<std::string>(const std::string& url, std::string& why_not)>;

struct flow_source {
  std::string name;         // "cpp", "spark", "producer"
  std::string metrics_url;  // e.g. http://127.0.0.1:9470/metrics
};

/// Scrapes the sources every `interval` on its own thread and keeps `keep` points each.
class flow_sampler {
 public:
  flow_sampler(std::vector<flow_source> sources, metrics_fetcher fetch,
               std::chrono::milliseconds interval = std::chrono::seconds(1),
               std::size_t keep = 600);
  ~flow_sampler();
  flow_sampler(const flow_sampler&) = delete;
  flow_sampler& operator=(const flow_sampler&) = delete;

  void start();
  void stop();
  /// One scrape of every source now (the thread calls it; tests call it directly).
  void sample_once(std::int64_t now_ms);

  /// The API's `/api/v1/flow` answer for the last `seconds`.
  nlohmann::json to_json(int seconds) const;

 private:
  struct series {
    flow_source source;
    bool running = false;
    std::string reason;
    std::optional<processor_counters> last;
    std::int64_t last_ms = 0;
    std::deque<flow_point> points;
  };
  std::vector<series> series_;
  metrics_fetcher fetch_;
  std::chrono::milliseconds interval_;
  std::size_t keep_;
  mutable std::mutex mutex_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::console
