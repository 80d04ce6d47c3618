// Looking at what the pipeline stored: one user by id, the latest N registrations, and
// counts of the `users` table, read with sluice's CQL client.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "cql/cql.h"

namespace sluice::pipeline {

struct user_query_settings {
  cql::session_config cassandra;  // contact points, auth, TLS (keyspace comes from below)
  std::string keyspace = "sluice";
};

/// The columns the queries return, in order.
extern const char* const user_columns;

/// Rows as JSON objects keyed by column name (cells as `sluice query` prints them).
nlohmann::json rows_json(const cql::rows_result& rows);

/// The row of one user (empty rows when the id is not stored). Fails with
/// invalid_argument when `id` is not a UUID.
result<cql::rows_result> user_by_id(const user_query_settings& settings, const std::string& id);

/// The `n` users with the most recent registered_date, newest first. `users` is keyed
/// by id, so this is a paged scan of the table keeping the newest n.
result<cql::rows_result> latest_registrations(const user_query_settings& settings, std::size_t n);

struct user_counts {
  std::int64_t rows = 0;
  std::map<std::string, std::int64_t> by_gender;
  std::map<std::string, std::int64_t> by_contract_version;
  std::map<std::string, std::int64_t> by_source_topic;
};

/// The row count and the `n` latest registrations in one scan of the table (the console's
/// Cassandra view, where two scans would double the wait).
struct table_overview {
  std::int64_t rows = 0;
  cql::rows_result latest;
};
result<table_overview> overview(const user_query_settings& settings, std::size_t n);

/// Counts every row of `users` (a paged scan).
result<user_counts> count_users(const user_query_settings& settings);

}  // namespace sluice::pipeline
