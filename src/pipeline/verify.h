// Reconciliation of a pipeline run: every record on the raw topic must be either a row
// in Cassandra or a dead letter (counted once by its source position), and the
// processor's group must have committed up to the end of the raw topic.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/result.h"
#include "cql/cql.h"
#include "kafka/config.h"

namespace sluice::pipeline {

struct verify_settings {
  kafka::client_settings kafka;
  std::string source_topic = "users.raw";
  std::string dlq_topic = "users.dlq";
  std::string group_id = "sluice-processor";
  cql::session_config cassandra;  // contact points, auth, TLS (keyspace comes from below)
  std::string keyspace = "sluice";
};

struct verify_report {
  std::int64_t produced = 0;                // records on the raw topic (high - low, all partitions)
  std::int64_t stored = 0;                  // distinct ids in <keyspace>.users
  std::int64_t dead_lettered = 0;           // distinct source positions on the DLQ for this topic
  std::int64_t duplicate_dead_letters = 0;  // re-sent after a crash (harmless, reported)
  std::int64_t not_yet_processed = 0;       // raw records past the group's committed offsets
  std::map<std::string, std::int64_t> dead_by_rule;
  /// produced - stored - dead_lettered: > 0 means missing, < 0 means unexpected rows.
  std::int64_t missing() const { return produced - stored - dead_lettered; }
  bool ok() const { return missing() == 0 && not_yet_processed == 0; }
};

result<verify_report> verify(const verify_settings& settings);

}  // namespace sluice::pipeline
