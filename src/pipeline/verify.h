// Reconciliation of a pipeline, exact while data flows. `verify` takes a snapshot of the
// raw topic's end offsets (or, with a manifest, the offset spans of one `sluice produce`
// run), waits until the processor's group has committed past it, and then accounts for
// every record below it: each record is either dead-lettered (by its source position)
// or valid, and then its id's row in Cassandra holds it or a later version of that id.
// Rows and dead letters past the snapshot, and rows of other topics, do not count.
// A record whose letter was deleted by `sluice dlq purge` counts as purged when a receipt
// in `<dlq>.purged` names it and its range lies below the letter partition's log start.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cql/cql.h"
#include "kafka/config.h"
#include "kafka/topic_reader.h"
#include "pipeline/purge_receipts.h"

namespace sluice::pipeline {

struct verify_settings {
  kafka::client_settings kafka;
  std::string source_topic = "users.raw";
  std::string dlq_topic = "users.dlq";
  std::string group_id = "sluice-processor";
  std::string registry_url = "http://127.0.0.1:8081";  // to read ids of keyless Avro records
  cql::session_config cassandra;  // contact points, auth, TLS (keyspace comes from below)
  std::string keyspace = "sluice";
  std::string manifest_path;                 // empty: the whole topic up to its current end
  std::chrono::milliseconds timeout{60000};  // waiting for the group to commit past the snapshot
  std::size_t examples = 20;                 // missing records named in the report
  /// Progress lines while waiting and counting (stderr in the CLI); may be empty.
  std::function<void(const std::string&)> progress;
};

/// A record the accounting could not find.
struct unaccounted_record {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string id;  // the user id (from the key, or the value when the key is not one)
};

struct verify_report {
  std::map<std::int32_t, kafka::offset_span> snapshot;  // per partition, what was counted
  std::int64_t produced = 0;       // records in the snapshot (records, not offset differences)
  std::int64_t stored = 0;         // records whose id's row holds exactly them
  std::int64_t superseded = 0;     // valid records whose id's row holds a later version
  std::int64_t dead_lettered = 0;  // records with a dead letter (by source position)
  std::int64_t duplicate_dead_letters = 0;  // re-sent after a crash (harmless, reported)
  std::int64_t purged = 0;                  // dead-lettered, then purged (named by a purge receipt)
  std::int64_t purge_receipts = 0;          // records of `<dlq>.purged` read
  // Dead-letter offsets below a partition's log start that no receipt covers: letters
  // removed by retention (or by hand), whose records can only count as missing.
  std::vector<offset_gap> letters_removed_without_receipt;
  std::int64_t missing = 0;  // neither dead-lettered nor in a row
  std::int64_t in_both = 0;  // dead-lettered and also the row of its id: a verdict split
  // rows naming a position in the snapshot that holds no record of their id
  std::int64_t unexpected_rows = 0;
  std::int64_t unexpected_letters = 0;  // dead letters naming such a position
  std::int64_t not_yet_processed = 0;   // records past the group's committed offsets
  std::map<std::string, std::int64_t> dead_by_rule;
  std::vector<unaccounted_record> missing_records;  // the first `examples` of them
  std::vector<unaccounted_record> in_both_records;
  std::vector<unaccounted_record>
      unexpected_row_examples;  // the row's id and the position it names
  bool ok() const {
    return missing == 0 && in_both == 0 && unexpected_rows == 0 && unexpected_letters == 0 &&
           not_yet_processed == 0;
  }
};

/// The offset spans of a `sluice produce` manifest (its topic in `topic`).
result<std::map<std::int32_t, kafka::offset_span>> manifest_spans(const std::string& path,
                                                                  std::string& topic);

result<verify_report> verify(const verify_settings& settings);

/// The report as `sluice verify --output json` prints it (and the console serves it).
nlohmann::json verify_report_json(const verify_report& report, const verify_settings& settings);

}  // namespace sluice::pipeline
