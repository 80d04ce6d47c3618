// `sluice cql`: run CQL statements (-e or a file) through sluice's own CQL client and
// print the rows as a table or as JSON lines.
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cli/cassandra_flags.h"
#include "cli/table.h"
#include "cli/verb.h"
#include "cql/cql.h"
#include "cql/json_values.h"

namespace sluice::cli {
namespace {

struct cql_options {
  cql::session_config session;
  cassandra_flags connection;
  std::vector<std::string> statements;
  std::string file;
  std::string output = "table";
  std::string values;       // a JSON array for a prepared statement's markers
  std::string values_file;  // or one JSON array per line
  bool idempotent = false;  // the statements may be retried on another node
};

/// Splits CQL text on semicolons outside quotes, dropping -- and // comments.
std::vector<std::string> split_statements(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      current.push_back(c);
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      current.push_back(c);
    } else if ((c == '-' || c == '/') && i + 1 < text.size() && text[i + 1] == c) {
      while (i < text.size() && text[i] != '\n') ++i;
      current.push_back('\n');
    } else if (c == ';') {
      if (current.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (current.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(current);
  return out;
}

/// One statement prepared once and executed for each JSON array of values.
int run_prepared(cql::session& session, const std::string& statement,
                 const std::vector<std::string>& value_lists, const std::string& output,
                 cql::statement_options options) {
  auto prepared = session.prepare(statement);
  if (!prepared) {
    fmt::print(stderr, "sluice cql: {}\n", prepared.err().message);
    return 1;
  }
  for (std::size_t i = 0; i < value_lists.size(); ++i) {
    auto json = nlohmann::json::parse(value_lists[i], nullptr, false);
    if (json.is_discarded())
      throw fatal_error(fmt::format("--values #{}: not JSON: {}", i + 1, value_lists[i]));
    auto bound = cql::json_to_values(prepared->bind_columns, json);
    if (!bound) throw fatal_error(fmt::format("--values #{}: {}", i + 1, bound.err().message));
    auto rows = session.execute(*prepared, std::move(*bound), options);
    if (!rows) {
      fmt::print(stderr, "sluice cql: --values #{}: {}\n", i + 1, rows.err().message);
      return 1;
    }
    print_rows(*rows, output);
  }
  return 0;
}

int run_cql(const cql_options& o) {
  auto statements = o.statements;
  if (!o.file.empty()) {
    std::ifstream in(o.file);
    if (!in) throw fatal_error(fmt::format("-f: cannot read '{}'", o.file));
    std::stringstream text;
    text << in.rdbuf();
    auto parts = split_statements(text.str());
    statements.insert(statements.end(), parts.begin(), parts.end());
  }
  if (statements.empty()) throw fatal_error("give a statement with -e or a file with -f");
  std::vector<std::string> value_lists;
  if (!o.values.empty()) value_lists.push_back(o.values);
  if (!o.values_file.empty()) {
    std::ifstream in(o.values_file);
    if (!in) throw fatal_error(fmt::format("--values-file: cannot read '{}'", o.values_file));
    for (std::string line; std::getline(in, line);) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) value_lists.push_back(line);
    }
  }
  if (!value_lists.empty() && statements.size() != 1)
    throw fatal_error("--values binds the markers of exactly one statement (-e)");
  auto config = o.session;
  apply_cassandra_flags(o.connection, "", config);
  auto session = cql::session::connect(config);
  if (!session) throw fatal_error(session.err());
  cql::statement_options options{.idempotent = o.idempotent};
  if (!value_lists.empty())
    return run_prepared(**session, statements[0], value_lists, o.output, options);
  for (const auto& statement : statements) {
    auto rows = (*session)->query(statement, {}, options);
    if (!rows) {
      fmt::print(stderr, "sluice cql: {}\n", rows.err().message);
      return 1;
    }
    print_rows(*rows, o.output);
  }
  return 0;
}

SLUICE_VERB("cql", [](CLI::App& root) -> std::function<int()> {
  auto o = std::make_shared<cql_options>();
  auto* cmd = root.add_subcommand("cql", "run CQL through sluice's native-protocol client");
  add_cassandra_flags(cmd, "", o->session, o->connection);
  cmd->add_option("--keyspace", o->session.keyspace, "keyspace to USE");
  cmd->add_option("-e,--execute", o->statements, "a statement to run (repeatable)");
  cmd->add_option("-f,--file", o->file, "a file of statements separated by ';'");
  cmd->add_option("--values", o->values,
                  "JSON array bound to the statement's markers, or an object by marker name "
                  "(markers left out are unset: their columns are not written)");
  cmd->add_option("--values-file", o->values_file,
                  "file of JSON arrays or objects, one per line: the statement runs once per line");
  cmd->add_flag("--idempotent", o->idempotent,
                "the statements are safe to apply twice: retry them on another node when one "
                "fails them (SELECTs always are; schema changes never)");
  cmd->add_option("--output", o->output, "table or json")->check(CLI::IsMember({"table", "json"}));
  return [o] { return run_cql(*o); };
});

}  // namespace
}  // namespace sluice::cli
