// Tests of the producer's pacing schedule: a steady rate plus optional bursts.
#include <gtest/gtest.h>

#include "pipeline/produce.h"

namespace sluice::pipeline {
namespace {

using seconds = std::chrono::duration<double>;

TEST(RecordsDue, SteadyRateWithoutBurstsGrowsLinearly) {
  produce_settings s;
  s.rate = 100;
  EXPECT_DOUBLE_EQ(records_due(s, seconds(0)), 0);
  EXPECT_DOUBLE_EQ(records_due(s, seconds(2.5)), 250);
}

TEST(RecordsDue, BurstsAddTheirSizeAtTheStartOfEveryPeriod) {
  produce_settings s;
  s.rate = 100;
  s.burst_size = 1000;
  s.burst_every = std::chrono::seconds(10);
  EXPECT_DOUBLE_EQ(records_due(s, seconds(0)), 1000);    // first burst at once
  EXPECT_DOUBLE_EQ(records_due(s, seconds(9.9)), 1990);  // no second burst yet
  EXPECT_DOUBLE_EQ(records_due(s, seconds(10)), 3000);   // second burst due
  EXPECT_DOUBLE_EQ(records_due(s, seconds(25)), 5500);   // three bursts + 2500
}

}  // namespace
}  // namespace sluice::pipeline
