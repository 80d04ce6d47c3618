// Tests of the per-partition commit watermark.
#include <gtest/gtest.h>

#include "pipeline/offset_tracker.h"

namespace sluice::pipeline {
namespace {

TEST(PartitionTracker, NothingDispatchedHasNothingToCommit) {
  partition_tracker t;
  EXPECT_FALSE(t.committable().has_value());
}

TEST(PartitionTracker, OutOfOrderAcksCommitOnlyUpToTheOldestInFlight) {
  partition_tracker t;
  for (std::int64_t o = 10; o < 15; ++o) t.dispatched(o);
  EXPECT_TRUE(t.acknowledged(12));
  EXPECT_TRUE(t.acknowledged(14));
  EXPECT_EQ(t.committable(), 10);  // 10 still in flight: a crash must re-read it
  EXPECT_TRUE(t.acknowledged(10));
  EXPECT_EQ(t.committable(), 11);
  EXPECT_TRUE(t.acknowledged(11));
  EXPECT_EQ(t.committable(), 13);
  EXPECT_TRUE(t.acknowledged(13));
  EXPECT_EQ(t.committable(), 15);  // all done: next record to read
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(PartitionTracker, IdlePartitionSkipsToThePositionPastATransactionMarker) {
  partition_tracker t;
  t.dispatched(10);
  t.skip_to(12);  // record 10 still in flight: nothing moves
  EXPECT_EQ(t.committable(), 10);
  ASSERT_TRUE(t.acknowledged(10));
  EXPECT_EQ(t.committable(), 11);
  t.skip_to(12);  // the commit marker at 11: the consumer's position is 12
  EXPECT_EQ(t.committable(), 12);
  t.skip_to(5);  // never back
  EXPECT_EQ(t.committable(), 12);
}

TEST(PartitionTracker, GapsInOffsetsAreHandled) {
  partition_tracker t;
  t.dispatched(3);
  t.dispatched(7);  // compaction or transaction markers leave gaps
  EXPECT_TRUE(t.acknowledged(7));
  EXPECT_EQ(t.committable(), 3);
  EXPECT_TRUE(t.acknowledged(3));
  EXPECT_EQ(t.committable(), 8);
}

TEST(PartitionTracker, DuplicateOrUnknownAckIsRejected) {
  partition_tracker t;
  t.dispatched(1);
  EXPECT_FALSE(t.acknowledged(2));
  EXPECT_TRUE(t.acknowledged(1));
  EXPECT_FALSE(t.acknowledged(1));
  EXPECT_EQ(t.in_flight(), 0u);
}

TEST(OffsetTracker, InFlightCountsEveryPartition) {
  offset_tracker t;
  t.partition(0).dispatched(0);
  t.partition(1).dispatched(0);
  t.partition(1).dispatched(1);
  EXPECT_EQ(t.in_flight(), 3u);
  t.forget(1);
  EXPECT_EQ(t.in_flight(), 1u);
}

}  // namespace
}  // namespace sluice::pipeline
