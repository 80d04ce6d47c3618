// Prometheus registry and text rendering.
#include "web/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/error.h"

namespace sluice::web {

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double current = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(current, current + value, std::memory_order_relaxed)) {
  }
}

double histogram::quantile(double q) const {
  std::uint64_t total = count();
  if (total == 0) return 0;
  double rank = q * static_cast<double>(total);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    std::uint64_t in_bucket = bucket_count(i);
    if (in_bucket > 0 && static_cast<double>(seen + in_bucket) >= rank) {
      double lower = i == 0 ? 0 : bounds_[i - 1];
      double upper = i < bounds_.size() ? bounds_[i] : bounds_.back();
      double fraction = (rank - static_cast<double>(seen)) / static_cast<double>(in_bucket);
      return lower + (upper - lower) * std::clamp(fraction, 0.0, 1.0);
    }
    seen += in_bucket;
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

std::vector<double> histogram::latency_buckets() {
  // Fine between 5 and 100 ms, where pipeline latencies and their goals sit.
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03,
          0.04,   0.05,    0.075,  0.1,   0.25,   0.5,   1,      2.5,  5,     10,   30,    60};
}

std::string render_labels(const labels& l) {
  if (l.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < l.size(); ++i) {
    if (i) out += ',';
    out += l[i].first + "=\"";
    for (char c : l[i].second) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

metrics_registry::family& metrics_registry::family_for(const std::string& name,
                                                       const std::string& type,
                                                       const std::string& help) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  } else if (f.type != type) {
    throw fatal_error(fmt::format("metric {} registered as {} and as {}", name, f.type, type));
  }
  return f;
}

counter& metrics_registry::get_counter(const std::string& name, const std::string& help,
                                       const labels& l) {
  std::lock_guard lock(mutex_);
  auto& slot = family_for(name, "counter", help).counters[render_labels(l)];
  if (!slot) slot = std::make_unique<counter>();
  return *slot;
}

gauge& metrics_registry::get_gauge(const std::string& name, const std::string& help,
                                   const labels& l) {
  std::lock_guard lock(mutex_);
  auto& slot = family_for(name, "gauge", help).gauges[render_labels(l)];
  if (!slot) slot = std::make_unique<gauge>();
  return *slot;
}

histogram& metrics_registry::get_histogram(const std::string& name, const std::string& help,
                                           const labels& l, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto& slot = family_for(name, "histogram", help).histograms[render_labels(l)];
  if (!slot) slot = std::make_unique<histogram>(std::move(bounds));
  return *slot;
}

namespace {
std::string with_label(const std::string& rendered, const std::string& extra) {
  if (rendered.empty()) return "{" + extra + "}";
  return rendered.substr(0, rendered.size() - 1) + "," + extra + "}";
}
}  // namespace

std::string metrics_registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  auto it = std::back_inserter(out);
  for (const auto& [name, f] : families_) {
    fmt::format_to(it, "# HELP {} {}\n# TYPE {} {}\n", name, f.help, name, f.type);
    for (const auto& [l, c] : f.counters) fmt::format_to(it, "{}{} {}\n", name, l, c->value());
    for (const auto& [l, g] : f.gauges) fmt::format_to(it, "{}{} {}\n", name, l, g->value());
    for (const auto& [l, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < h->bounds().size(); ++i) {
        cumulative += h->bucket_count(i);
        fmt::format_to(it, "{}_bucket{} {}\n", name,
                       with_label(l, fmt::format("le=\"{}\"", h->bounds()[i])), cumulative);
      }
      fmt::format_to(it, "{}_bucket{} {}\n", name, with_label(l, "le=\"+Inf\""), h->count());
      fmt::format_to(it, "{}_sum{} {}\n{}_count{} {}\n", name, l, h->sum(), name, l, h->count());
    }
  }
  return out;
}

}  // namespace sluice::web
