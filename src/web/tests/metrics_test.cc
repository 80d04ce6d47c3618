// Tests of the Prometheus registry's text format and histogram quantiles.
#include <gtest/gtest.h>

#include "web/metrics.h"

namespace sluice::web {
namespace {

TEST(Metrics, CountersAndGaugesRenderWithHelpTypeAndLabels) {
  metrics_registry m;
  m.get_counter("records_total", "Records", {{"rule", "email.format"}}).inc(3);
  m.get_counter("records_total", "Records", {{"rule", "email.format"}}).inc();
  m.get_gauge("lag", "Consumer lag").set(12);
  auto text = m.render();
  EXPECT_NE(text.find("# TYPE records_total counter"), std::string::npos);
  EXPECT_NE(text.find("records_total{rule=\"email.format\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("lag 12"), std::string::npos) << text;
}

TEST(Metrics, HistogramBucketsAreCumulativeAndQuantilesInterpolate) {
  metrics_registry m;
  auto& h = m.get_histogram("latency_seconds", "Latency", {}, {0.01, 0.1, 1});
  for (int i = 0; i < 90; ++i) h.observe(0.005);
  for (int i = 0; i < 10; ++i) h.observe(0.5);
  auto text = m.render();
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"0.01\"} 90"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{le=\"+Inf\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_count 100"), std::string::npos);
  EXPECT_LE(h.quantile(0.5), 0.01);
  EXPECT_GT(h.quantile(0.99), 0.1);
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(render_labels({{"a", "x\"y\\z"}}), "{a=\"x\\\"y\\\\z\"}");
}

}  // namespace
}  // namespace sluice::web
