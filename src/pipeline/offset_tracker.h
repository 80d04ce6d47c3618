// Per-partition delivery bookkeeping for the processor. Records are dispatched in
// offset order and acknowledged (Cassandra write or dead-letter produce done) in any
// order; the committable offset of a partition is the lowest offset still in flight,
// or one past the last dispatched offset when nothing is. Committing that offset can
// never skip a record that was not yet acknowledged, which is what makes a crash at
// any moment lose nothing.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

namespace sluice::pipeline {

class partition_tracker {
 public:
  /// Records that `offset` was handed to the sinks. Offsets must increase.
  void dispatched(std::int64_t offset);
  /// Records that the record at `offset` is durably handled. Unknown offsets are ignored
  /// and reported as false (e.g. acknowledgements arriving after a revoke).
  bool acknowledged(std::int64_t offset);
  /// The offset to commit (the next record to read after a restart), if any record was
  /// dispatched since the tracker was created.
  std::optional<std::int64_t> committable() const;
  /// With nothing in flight, moves the committable offset up to `position` (the
  /// consumer's next offset): past transaction markers and compacted gaps that no record
  /// reaches. Ignored while records are in flight or when it would move back.
  void skip_to(std::int64_t position);
  std::size_t in_flight() const { return in_flight_; }

 private:
  struct slot {
    std::int64_t offset;
    bool done;
  };
  std::deque<slot> window_;
  std::optional<std::int64_t> next_after_last_;
  std::size_t in_flight_ = 0;
};

/// Trackers for every partition this consumer owns.
class offset_tracker {
 public:
  partition_tracker& partition(std::int32_t id) { return partitions_[id]; }
  void forget(std::int32_t id) { partitions_.erase(id); }
  std::size_t in_flight() const;
  const std::map<std::int32_t, partition_tracker>& partitions() const { return partitions_; }

 private:
  std::map<std::int32_t, partition_tracker> partitions_;
};

}  // namespace sluice::pipeline
