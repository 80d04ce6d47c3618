// Watermark arithmetic for offset_tracker.
#include "pipeline/offset_tracker.h"

#include <algorithm>

namespace sluice::pipeline {

void partition_tracker::dispatched(std::int64_t offset) {
  window_.push_back({offset, false});
  next_after_last_ = offset + 1;
  ++in_flight_;
}

bool partition_tracker::acknowledged(std::int64_t offset) {
  auto it = std::lower_bound(window_.begin(), window_.end(), offset,
                             [](const slot& s, std::int64_t o) { return s.offset < o; });
  if (it == window_.end() || it->offset != offset || it->done) return false;
  it->done = true;
  --in_flight_;
  while (!window_.empty() && window_.front().done) window_.pop_front();
  return true;
}

std::optional<std::int64_t> partition_tracker::committable() const {
  if (!window_.empty()) return window_.front().offset;
  return next_after_last_;
}

void partition_tracker::skip_to(std::int64_t position) {
  if (in_flight_ > 0 || !window_.empty()) return;
  if (!next_after_last_ || position > *next_after_last_) next_after_last_ = position;
}

std::size_t offset_tracker::in_flight() const {
  std::size_t total = 0;
  for (const auto& [id, tracker] : partitions_) total += tracker.in_flight();
  return total;
}

}  // namespace sluice::pipeline
