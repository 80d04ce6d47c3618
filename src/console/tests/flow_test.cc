// The dashboard's arithmetic: Prometheus text parsing, rates and latency quantiles
// between two scrapes, and the sampler's series.
#include <gtest/gtest.h>

#include "console/flow.h"

namespace sluice::console {
namespace {

const char* scrape_at(int consumed, int written, int bucket_fast, int bucket_slow) {
  static std::string text;
  text =
      "# HELP sluice_process_consumed_total Records\n# TYPE sluice_process_consumed_total counter\n"
      "sluice_process_consumed_total " +
      std::to_string(consumed) + "\n" + "sluice_process_written_total " + std::to_string(written) +
      "\n" + "sluice_process_valid_total " + std::to_string(written) + "\n" +
      "sluice_process_dead_lettered_total 4\n"
      "sluice_process_invalid_total{rule=\"email.format\"} 3\n"
      "sluice_process_invalid_total{rule=\"decode.json\"} 1\n"
      "sluice_process_consumer_lag 7\n"
      "sluice_process_end_to_end_seconds_bucket{le=\"0.01\"} " +
      std::to_string(bucket_fast) + "\n" + "sluice_process_end_to_end_seconds_bucket{le=\"0.1\"} " +
      std::to_string(bucket_fast + bucket_slow) + "\n" +
      "sluice_process_end_to_end_seconds_bucket{le=\"+Inf\"} " +
      std::to_string(bucket_fast + bucket_slow) + "\n";
  return text.c_str();
}

TEST(ParsePrometheus, LabelsWithEscapesAndTimestampsAreRead) {
  auto samples =
      parse_prometheus("a_total{rule=\"x\\\"y\",b=\"2\"} 12 1700000000\nbroken{ 3\n\nc 1.5e3\n");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].labels.at("rule"), "x\"y");
  EXPECT_EQ(samples[0].value, 12);
  EXPECT_EQ(samples[1].value, 1500);
}

TEST(RatesBetween, CountersBecomePerSecondRatesAndRulesAreKept) {
  auto before = summarize(parse_prometheus(scrape_at(100, 90, 0, 0)));
  auto after = summarize(parse_prometheus(scrape_at(300, 290, 0, 0)));
  after.invalid_by_rule["email.format"] = 13;
  auto p = rates_between(before, after, 2.0, 5000);
  EXPECT_DOUBLE_EQ(p.consumed, 100);
  EXPECT_DOUBLE_EQ(p.written, 100);
  EXPECT_DOUBLE_EQ(p.dead_by_rule.at("email.format"), 5);
  EXPECT_FALSE(p.dead_by_rule.contains("decode.json"));  // unchanged: no rate
  EXPECT_EQ(p.lag, 7);
  EXPECT_FALSE(p.p50_ms.has_value());  // nothing observed in between
}

TEST(RatesBetween, LatencyQuantilesComeFromTheIntervalOnly) {
  // Before: 1000 slow observations; in the interval: 100 fast ones only.
  auto before = summarize(parse_prometheus(scrape_at(0, 0, 0, 1000)));
  auto after = summarize(parse_prometheus(scrape_at(0, 0, 100, 1000)));
  auto p = rates_between(before, after, 1.0, 0);
  ASSERT_TRUE(p.p99_ms.has_value());
  EXPECT_LE(*p.p99_ms, 10.0);
  EXPECT_GT(*p.p50_ms, 0.0);
}

TEST(RatesBetween, ARestartedSourceCountsFromZeroInsteadOfNegativeRates) {
  auto before = summarize(parse_prometheus(scrape_at(5000, 5000, 10, 0)));
  auto after = summarize(parse_prometheus(scrape_at(50, 50, 20, 0)));
  auto p = rates_between(before, after, 1.0, 0);
  EXPECT_DOUBLE_EQ(p.consumed, 50);
  EXPECT_TRUE(p.p50_ms.has_value());
}

TEST(FlowSampler, ADownSourceSaysWhyAndAnUpOneGrowsASeries) {
  int calls = 0;
  flow_sampler sampler({{"cpp", "http://cpp/metrics"}, {"spark", "http://spark/metrics"}},
                       [&](const std::string& url, std::string& why) -> std::optional<std::string> {
                         if (url.find("spark") != std::string::npos) {
                           why = "nothing answers at " + url;
                           return std::nullopt;
                         }
                         ++calls;
                         return std::string(scrape_at(calls * 10, calls * 10, 0, 0));
                       });
  sampler.sample_once(1000);
  sampler.sample_once(2000);
  sampler.sample_once(3000);
  auto j = sampler.to_json(600);
  ASSERT_EQ(j["processors"].size(), 2u);
  EXPECT_TRUE(j["processors"][0]["running"].get<bool>());
  EXPECT_EQ(j["processors"][0]["samples"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["processors"][0]["samples"][1]["consumed"].get<double>(), 10.0);
  EXPECT_FALSE(j["processors"][1]["running"].get<bool>());
  EXPECT_EQ(j["processors"][1]["reason"], "nothing answers at http://spark/metrics");
}

}  // namespace
}  // namespace sluice::console
