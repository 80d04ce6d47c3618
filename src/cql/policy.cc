// Token-aware, DC-aware query plans and the default retry policy (see policy.h).
#include "cql/policy.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace sluice::cql {

std::vector<std::size_t> query_plan(const std::vector<plan_node>& nodes,
                                    const std::vector<std::size_t>& replicas,
                                    std::string_view local_dc, std::size_t rotation,
                                    plan_options options) {
  std::vector<std::size_t> plan;
  auto local = [&](std::size_t i) { return nodes[i].data_center == local_dc; };
  auto add = [&](std::size_t i) {
    if (i >= nodes.size() || !nodes[i].up) return;
    if (options.local_only && !local(i)) return;
    if (std::find(plan.begin(), plan.end(), i) == plan.end()) plan.push_back(i);
  };
  std::vector<std::size_t> local_replicas;
  for (auto i : replicas) {
    if (i < nodes.size() && local(i) && nodes[i].up) local_replicas.push_back(i);
  }
  if (options.shuffle_replicas && !local_replicas.empty()) {
    std::rotate(
        local_replicas.begin(),
        local_replicas.begin() + static_cast<std::ptrdiff_t>(rotation % local_replicas.size()),
        local_replicas.end());
  }
  for (auto i : local_replicas) add(i);
  const auto n = nodes.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto i = (rotation + k) % n;
    if (local(i)) add(i);
  }
  for (auto i : replicas) add(i);
  for (std::size_t k = 0; k < n; ++k) add((rotation + k) % n);
  return plan;
}

bool is_local_level(consistency level) {
  return level == consistency::local_one || level == consistency::local_quorum ||
         level == consistency::local_serial;
}

std::string_view retry_reason_name(retry_reason reason) {
  static constexpr std::array<std::string_view, retry_reason_count> names = {
      "read_timeout",    "write_timeout",  "unavailable",   "overloaded",
      "server_error",    "truncate_error", "bootstrapping", "not_sent",
      "connection_lost", "client_timeout", "no_node",       "reprepare_failed"};
  auto i = static_cast<std::size_t>(reason);
  return i < names.size() ? names[i] : "unknown";
}

namespace {

retry_verdict for_server_error(const server_error& e, bool idempotent, int retries) {
  using d = retry_decision;
  switch (e.code) {
    case 0x1200:  // read timeout: enough replicas answered, only the data one did not
      if (retries == 0 && e.has_details && e.received >= e.block_for && !e.data_present)
        return {d::retry_same, retry_reason::read_timeout};
      return {d::rethrow, retry_reason::read_timeout};
    case 0x1100:  // write timeout: only the batch log write, which is safe to replay
      if (idempotent && retries == 0 && e.has_details && e.write_type == "BATCH_LOG")
        return {d::retry_same, retry_reason::write_timeout};
      return {d::rethrow, retry_reason::write_timeout};
    case 0x1000:  // unavailable: the coordinator did not try; another one may see more
      return {retries == 0 ? d::retry_next : d::rethrow, retry_reason::unavailable};
    case 0x1001:
      return {idempotent ? d::retry_next : d::rethrow, retry_reason::overloaded};
    case 0x0000:
      return {idempotent ? d::retry_next : d::rethrow, retry_reason::server_error};
    case 0x1003:
      return {idempotent ? d::retry_next : d::rethrow, retry_reason::truncate_error};
    case 0x1002:  // is bootstrapping: the node did not run it
      return {d::retry_next, retry_reason::bootstrapping};
    default:
      return {d::rethrow, retry_reason::server_error};
  }
}

}  // namespace

retry_verdict decide_retry(failure_kind kind, const server_error* error, bool idempotent,
                           int retries) {
  using d = retry_decision;
  switch (kind) {
    case failure_kind::server_error:
      if (!error) return {d::rethrow, retry_reason::server_error};
      return for_server_error(*error, idempotent, retries);
    case failure_kind::not_sent:
      return {d::retry_next, retry_reason::not_sent};
    case failure_kind::no_node:
      return {d::retry_next, retry_reason::no_node};
    case failure_kind::reprepare_failed:
      return {d::retry_next, retry_reason::reprepare_failed};
    case failure_kind::connection_lost:
      return {idempotent ? d::retry_next : d::rethrow, retry_reason::connection_lost};
    case failure_kind::client_timeout:
      return {idempotent ? d::retry_next : d::rethrow, retry_reason::client_timeout};
  }
  return {d::rethrow, retry_reason::server_error};
}

namespace {

/// The statement's first keyword, lower-cased, after whitespace and comments.
std::string first_keyword(std::string_view cql) {
  std::size_t i = 0;
  while (i < cql.size()) {
    if (std::isspace(static_cast<unsigned char>(cql[i]))) {
      ++i;
    } else if (cql.substr(i, 2) == "--" || cql.substr(i, 2) == "//") {
      auto end = cql.find('\n', i);
      i = end == std::string_view::npos ? cql.size() : end + 1;
    } else if (cql.substr(i, 2) == "/*") {
      auto end = cql.find("*/", i + 2);
      i = end == std::string_view::npos ? cql.size() : end + 2;
    } else {
      break;
    }
  }
  std::string word;
  while (i < cql.size() && std::isalpha(static_cast<unsigned char>(cql[i])))
    word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(cql[i++]))));
  return word;
}

}  // namespace

bool is_schema_statement(std::string_view cql) {
  auto word = first_keyword(cql);
  return word == "create" || word == "alter" || word == "drop" || word == "truncate" ||
         word == "grant" || word == "revoke" || word == "use";
}

bool is_read_statement(std::string_view cql) {
  return first_keyword(cql) == "select";
}

std::vector<contact_point> expand_contacts(
    const std::vector<std::string>& hosts,
    const std::function<std::vector<std::string>(const std::string&)>& resolve) {
  std::vector<contact_point> out;
  auto add = [&](contact_point c) {
    for (const auto& known : out) {
      if (known.name == c.name && known.address == c.address) return;
    }
    out.push_back(std::move(c));
  };
  for (const auto& host : hosts) {
    auto addresses = resolve(host);
    if (addresses.size() <= 1) {
      add({host, ""});
      continue;
    }
    for (auto& address : addresses) add({host, std::move(address)});
  }
  return out;
}

}  // namespace sluice::cql
