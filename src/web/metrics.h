// A small Prometheus metrics registry: counters, gauges and histograms with labels,
// cheap on the hot path (atomics, no locks after registration) and rendered in the
// Prometheus text exposition format at /metrics by every sluice service.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::web {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double d) {
    double current = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(current, current + d, std::memory_order_relaxed)) {
    }
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// Fixed-bucket histogram of seconds (or any unit); quantiles are estimated by linear
/// interpolation inside the bucket that holds them.
class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  double quantile(double q) const;
  const std::vector<double>& bounds() const { return bounds_; }
  std::uint64_t bucket_count(std::size_t i) const {
    return buckets_[i].load(std::memory_order_relaxed);
  }

  /// Latency buckets from 100 µs to 60 s.
  static std::vector<double> latency_buckets();

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (the +Inf one)
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class metrics_registry {
 public:
  /// Returns the series with this name and labels, creating it on first use. The
  /// reference stays valid for the registry's lifetime.
  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help, const labels& l = {},
                           std::vector<double> bounds = histogram::latency_buckets());

  /// Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct family {
    std::string type, help;
    std::map<std::string, std::unique_ptr<counter>> counters;  // keyed by rendered labels
    std::map<std::string, std::unique_ptr<gauge>> gauges;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
  };
  family& family_for(const std::string& name, const std::string& type, const std::string& help);
  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

/// `{a="1",b="x"}` with label values escaped; empty string for no labels.
std::string render_labels(const labels& l);

}  // namespace sluice::web
