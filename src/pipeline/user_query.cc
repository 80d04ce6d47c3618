// user_by_id, latest_registrations and count_users (see user_query.h).
#include "pipeline/user_query.h"

#include <algorithm>

#include "base/error.h"
#include "cql/values.h"

namespace sluice::pipeline {

const char* const user_columns =
    "id, first_name, last_name, email, username, gender, dob, registered_date, "
    "contract_version, source_partition, source_offset";

namespace {

result<std::unique_ptr<cql::session>> open(const user_query_settings& s) {
  auto config = s.cassandra;
  config.keyspace = s.keyspace;
  config.timeout = std::chrono::seconds(60);
  return cql::session::connect(config);
}

/// Runs `cql` page by page, handing each page to `visit`.
template <typename Visit>
result<void> scan(cql::session& session, const std::string& cql, Visit visit) {
  cql::query_params params{cql::consistency::local_quorum, {}, 5000, {}};
  while (true) {
    auto page = session.query_page(cql, params);
    if (!page) return page.err();
    visit(*page);
    if (!page->paging_state) return {};
    params.paging_state = page->paging_state;
  }
}

int column_index(const cql::rows_result& rows, std::string_view name) {
  for (std::size_t c = 0; c < rows.columns.size(); ++c) {
    if (rows.columns[c].name == name) return static_cast<int>(c);
  }
  return -1;
}

}  // namespace

result<cql::rows_result> user_by_id(const user_query_settings& s, const std::string& id) {
  auto key = cql::uuid_value(id);
  if (!key) return make_error(errc::invalid_argument, "--id '{}' is not a UUID", id);
  auto session = open(s);
  if (!session) return session.err();
  return (*session)->query(fmt::format("SELECT {} FROM users WHERE id = ?", user_columns), {*key});
}

result<table_overview> overview(const user_query_settings& s, std::size_t n) {
  auto session = open(s);
  if (!session) return session.err();
  table_overview out;
  auto& newest = out.latest;
  int registered = -1;
  auto when = [&](const std::vector<std::optional<std::string>>& row) {
    return row[registered] ? cql::read_bigint(*row[registered]) : INT64_MIN;
  };
  auto newer = [&](const auto& a, const auto& b) { return when(a) > when(b); };
  auto scanned =
      scan(**session, fmt::format("SELECT {} FROM users", user_columns), [&](auto& page) {
        if (newest.columns.empty()) {
          newest.columns = page.columns;
          registered = column_index(page, "registered_date");
        }
        out.rows += static_cast<std::int64_t>(page.rows.size());
        for (auto& row : page.rows) newest.rows.push_back(std::move(row));
        // Keep only the newest n between pages: memory stays O(n + page).
        if (newest.rows.size() > n) {
          std::partial_sort(newest.rows.begin(), newest.rows.begin() + static_cast<long>(n),
                            newest.rows.end(), newer);
          newest.rows.resize(n);
        }
      });
  if (!scanned) return scanned.err();
  std::sort(newest.rows.begin(), newest.rows.end(), newer);
  return out;
}

result<cql::rows_result> latest_registrations(const user_query_settings& s, std::size_t n) {
  auto all = overview(s, n);
  if (!all) return all.err();
  return std::move(all->latest);
}

result<user_counts> count_users(const user_query_settings& s) {
  auto session = open(s);
  if (!session) return session.err();
  user_counts counts;
  auto scanned = scan(
      **session, "SELECT gender, contract_version, source_topic FROM users",
      [&](const cql::rows_result& page) {
        for (const auto& row : page.rows) {
          ++counts.rows;
          ++counts.by_gender[row[0] ? *row[0] : "null"];
          ++counts.by_contract_version[row[1] ? std::to_string(cql::read_int(*row[1])) : "null"];
          ++counts.by_source_topic[row[2] ? *row[2] : "null"];
        }
      });
  if (!scanned) return scanned.err();
  return counts;
}

nlohmann::json rows_json(const cql::rows_result& rows) {
  auto out = nlohmann::json::array();
  for (const auto& row : rows.rows) {
    nlohmann::json line = nlohmann::json::object();
    for (std::size_t c = 0; c < rows.columns.size(); ++c) {
      line[rows.columns[c].name] =
          row[c] ? nlohmann::json(cql::cell_text(rows.columns[c].type, row[c])) : nlohmann::json();
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace sluice::pipeline
