// `sluice dlq purge`: deleting old dead letters (they hold raw personal data) while
// `verify` stays exact. Per dead-letter partition the cut is the first letter at or after
// now - older_than (the high watermark if there is none); the letters below it are read,
// their receipts (purge_receipts.h) are written to `<dlq>.purged` with acks=all and
// flushed, and only then are the records below the cut deleted (Kafka DeleteRecords).
// A purge that failed between the two writes the same receipt keys when run again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "pipeline/dlq.h"
#include "pipeline/purge_receipts.h"

namespace sluice::pipeline {

struct purge_settings {
  dlq_settings dlq;
  std::chrono::milliseconds older_than{0};
  std::string older_than_text;  // as given, for the receipts ("7d")
  bool dry_run = false;
  std::int64_t now_ms = -1;  // -1: the wall clock
  std::size_t receipt_max_bytes = pipeline::receipt_max_bytes;
  /// Progress lines (stderr in the CLI); may be empty.
  std::function<void(const std::string&)> progress;
};

/// What was (or, in a dry run, would be) purged of one dead-letter partition.
struct purged_partition {
  std::int32_t partition = 0;
  std::int64_t from_offset = 0;  // the log start before
  std::int64_t to_offset = 0;    // the cut: the log start after
  std::int64_t letters = 0;
  std::int64_t receipts = 0;  // receipt records written for it
};

struct purge_report {
  std::string receipts_topic;
  std::int64_t cutoff_ms = 0;                // letters older than this were purged
  std::vector<purged_partition> partitions;  // those with letters below the cut
  std::int64_t letters = 0;
  std::int64_t receipts = 0;
};

result<purge_report> purge_dead_letters(const purge_settings& settings);

}  // namespace sluice::pipeline
