// The dashboard's live flow (see flow.h): Prometheus text parsing, rates and latency
// quantiles between two scrapes, and the sampling thread.
#include "console/flow.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace sluice::console {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  std::string copy(text);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str()) return std::nullopt;
  return v;
}

// Parses `{a="x",b="y"}` starting at text[0] == '{'; returns the position after '}'.
std::optional<std::size_t> parse_labels(std::string_view text,
                                        std::map<std::string, std::string>& out) {
  std::size_t i = 1;
  while (i < text.size() && text[i] != '}') {
    auto eq = text.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') {
      return std::nullopt;
    }
    std::string name(trim(text.substr(i, eq - i)));
    std::string value;
    std::size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] == '\\' && j + 1 < text.size()) {
        ++j;
        value += text[j] == 'n' ? '\n' : text[j];
      } else {
        value += text[j];
      }
    }
    if (j >= text.size()) return std::nullopt;
    out[name] = value;
    i = j + 1;
    if (i < text.size() && text[i] == ',') ++i;
  }
  if (i >= text.size()) return std::nullopt;
  return i + 1;
}

}  // namespace

std::vector<metric_sample> parse_prometheus(std::string_view text) {
  std::vector<metric_sample> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    metric_sample s;
    auto name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    s.name = std::string(line.substr(0, name_end));
    auto rest = line.substr(name_end);
    if (rest.front() == '{') {
      auto after = parse_labels(rest, s.labels);
      if (!after) continue;
      rest = rest.substr(*after);
    }
    rest = trim(rest);
    auto space = rest.find(' ');  // an optional timestamp follows the value
    auto value = parse_number(rest.substr(0, space));
    if (!value) continue;
    s.value = *value;
    out.push_back(std::move(s));
  }
  return out;
}

processor_counters summarize(const std::vector<metric_sample>& samples) {
  processor_counters c;
  for (const auto& s : samples) {
    if (s.name == "sluice_process_consumed_total")
      c.consumed += s.value;
    else if (s.name == "sluice_process_valid_total")
      c.valid += s.value;
    else if (s.name == "sluice_process_dead_lettered_total")
      c.dead_lettered += s.value;
    else if (s.name == "sluice_process_written_total")
      c.written += s.value;
    else if (s.name == "sluice_produce_acknowledged_total")
      c.produced += s.value;
    else if (s.name == "sluice_process_consumer_lag")
      c.lag = s.value;
    else if (s.name == "sluice_process_invalid_total") {
      auto rule = s.labels.find("rule");
      c.invalid_by_rule[rule == s.labels.end() ? "unknown" : rule->second] += s.value;
    } else if (s.name == "sluice_process_end_to_end_seconds_bucket") {
      auto le = s.labels.find("le");
      if (le == s.labels.end()) continue;
      if (auto bound = parse_number(le->second)) c.latency_buckets.emplace_back(*bound, s.value);
    }
  }
  std::sort(c.latency_buckets.begin(), c.latency_buckets.end());
  return c;
}

std::optional<double> quantile_between(const std::vector<std::pair<double, double>>& before,
                                       const std::vector<std::pair<double, double>>& after,
                                       double q) {
  if (after.empty()) return std::nullopt;
  // Per-bucket counts observed between the scrapes (a restarted source: all of `after`).
  std::vector<double> cumulative(after.size());
  bool restarted = before.size() != after.size();
  for (std::size_t i = 0; i < after.size(); ++i) {
    double prior = restarted ? 0 : before[i].second;
    if (after[i].second < prior) restarted = true;
    cumulative[i] = after[i].second - (restarted ? 0 : prior);
  }
  double total = cumulative.back();
  if (total <= 0) return std::nullopt;
  double rank = q * total;
  double lower_bound = 0, lower_count = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (cumulative[i] >= rank) {
      double upper = after[i].first;
      if (std::isinf(upper)) return lower_bound;  // past the last finite bucket
      double in_bucket = cumulative[i] - lower_count;
      double fraction = in_bucket > 0 ? (rank - lower_count) / in_bucket : 1.0;
      return lower_bound + (upper - lower_bound) * fraction;
    }
    lower_bound = after[i].first;
    lower_count = cumulative[i];
  }
  return lower_bound;
}

flow_point rates_between(const processor_counters& before, const processor_counters& after,
                         double seconds, std::int64_t t_ms) {
  flow_point p;
  p.t_ms = t_ms;
  if (seconds <= 0) return p;
  auto rate = [seconds](double a, double b) { return b >= a ? (b - a) / seconds : b / seconds; };
  p.consumed = rate(before.consumed, after.consumed);
  p.valid = rate(before.valid, after.valid);
  p.dead_lettered = rate(before.dead_lettered, after.dead_lettered);
  p.written = rate(before.written, after.written);
  p.produced = rate(before.produced, after.produced);
  for (const auto& [rule, count] : after.invalid_by_rule) {
    auto prior = before.invalid_by_rule.find(rule);
    double r = rate(prior == before.invalid_by_rule.end() ? 0 : prior->second, count);
    if (r > 0) p.dead_by_rule[rule] = r;
  }
  auto ms = [](std::optional<double> s) -> std::optional<double> {
    if (!s) return std::nullopt;
    return *s * 1000.0;
  };
  p.p50_ms = ms(quantile_between(before.latency_buckets, after.latency_buckets, 0.50));
  p.p95_ms = ms(quantile_between(before.latency_buckets, after.latency_buckets, 0.95));
  p.p99_ms = ms(quantile_between(before.latency_buckets, after.latency_buckets, 0.99));
  p.lag = after.lag;
  return p;
}

flow_sampler::flow_sampler(std::vector<flow_source> sources, metrics_fetcher fetch,
                           std::chrono::milliseconds interval, std::size_t keep)
    : fetch_(std::move(fetch)), interval_(interval), keep_(keep) {
  for (auto& s : sources)
    series_.push_back(series{std::move(s), false, "not scraped yet", {}, 0, {}});
}

flow_sampler::~flow_sampler() {
  stop();
}

void flow_sampler::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
      lock.unlock();
      auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      sample_once(now);
      lock.lock();
      stop_cv_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  });
}

void flow_sampler::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void flow_sampler::sample_once(std::int64_t now_ms) {
  for (std::size_t i = 0; i < series_.size(); ++i) {
    std::string why_not;
    auto body = fetch_(series_[i].source.metrics_url, why_not);  // outside the lock
    std::lock_guard lock(mutex_);
    auto& s = series_[i];
    if (!body) {
      s.running = false;
      s.reason = why_not;
      s.last.reset();
      continue;
    }
    auto counters = summarize(parse_prometheus(*body));
    s.running = true;
    s.reason.clear();
    if (s.last) {
      s.points.push_back(rates_between(*s.last, counters,
                                       static_cast<double>(now_ms - s.last_ms) / 1000.0, now_ms));
      while (s.points.size() > keep_) s.points.pop_front();
    }
    s.last = std::move(counters);
    s.last_ms = now_ms;
  }
}

namespace {

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(std::round(*v * 100) / 100) : nlohmann::json(nullptr);
}

nlohmann::json point_json(const flow_point& p, bool producer) {
  auto r = [](double v) { return std::round(v * 100) / 100; };
  if (producer) return {{"t", p.t_ms}, {"produced", r(p.produced)}};
  nlohmann::json rules = nlohmann::json::object();
  for (const auto& [rule, v] : p.dead_by_rule) rules[rule] = r(v);
  return {{"t", p.t_ms},
          {"consumed", r(p.consumed)},
          {"valid", r(p.valid)},
          {"dead_lettered", r(p.dead_lettered)},
          {"written", r(p.written)},
          {"dead_by_rule", rules},
          {"p50_ms", optional_number(p.p50_ms)},
          {"p95_ms", optional_number(p.p95_ms)},
          {"p99_ms", optional_number(p.p99_ms)},
          {"lag", optional_number(p.lag)}};
}

}  // namespace

nlohmann::json flow_sampler::to_json(int seconds) const {
  std::lock_guard lock(mutex_);
  nlohmann::json processors = nlohmann::json::array();
  nlohmann::json producer = {
      {"running", false}, {"reason", ""}, {"samples", nlohmann::json::array()}};
  for (const auto& s : series_) {
    bool is_producer = s.source.name == "producer";
    nlohmann::json samples = nlohmann::json::array();
    std::int64_t newest = s.points.empty() ? 0 : s.points.back().t_ms;
    for (const auto& p : s.points) {
      if (newest - p.t_ms <= static_cast<std::int64_t>(seconds) * 1000) {
        samples.push_back(point_json(p, is_producer));
      }
    }
    nlohmann::json entry = {{"name", s.source.name},
                            {"running", s.running},
                            {"reason", s.reason},
                            {"metrics_url", s.source.metrics_url},
                            {"samples", std::move(samples)}};
    if (is_producer) {
      producer = std::move(entry);
    } else {
      processors.push_back(std::move(entry));
    }
  }
  return {{"interval_ms", interval_.count()}, {"processors", processors}, {"producer", producer}};
}

}  // namespace sluice::console
