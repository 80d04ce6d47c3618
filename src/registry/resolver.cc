// Avro schema resolution for the compatibility check (see resolver.h).
//
// Why the resolution rules are walked here instead of asking avro-c's resolver
// (avro_resolved_writer_new / avro_resolved_reader_new): avro-c 1.11 drops field
// defaults when it parses a schema, so its resolver refuses every reader field that the
// writer lacks, even one with a default ("Reader field b doesn't appear in writer"),
// which would make the most common compatible change (a new optional field) look
// incompatible. It also accepts, at resolver-creation time, cases that only fail when a
// record is read (a writer union branch the reader cannot take, an enum symbol the
// reader lacks). So avro-c parses and validates the schemas and resolves named types;
// the walk below applies the specification's resolution rules to avro-c's parsed
// schemas, taking the field and enum defaults from the JSON text.
//
// Cost: a reader union is resolved by trying its branches, and nested unions of
// look-alike named records would make a naive walk exponential (a few KB of schema,
// 2^40 walks). So the verdict for a (reader node, writer node) pair is memoised once it
// took more than a few steps to reach (cheaper ones are re-derived: as fast as a lookup,
// and the memo stays small). Recursive types are resolved coinductively: a pair met
// again while it is still being examined is assumed to resolve; a "resolves" that leaned
// on such an assumption is only memoised once the assumed pair is settled ("does not
// resolve" is always final). Every step is paid from a check_budget, and the walk stops
// at max_resolution_depth.
#include "registry/resolver.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "registry/bounded_json.h"
#include "registry/schema_impl.h"

namespace sluice::registry {
namespace {

avro_schema_t deref(avro_schema_t s) {
  while (s != nullptr && is_avro_link(s)) s = avro_schema_link_target(s);
  return s;
}

std::string named_full_name(avro_schema_t s) {
  const char* ns = avro_schema_namespace(s);
  return avro_full_name(avro_schema_name(s), ns != nullptr ? ns : "");
}

std::string label(avro_schema_t s) {
  switch (avro_typeof(s)) {
    case AVRO_STRING:
      return "string";
    case AVRO_BYTES:
      return "bytes";
    case AVRO_INT32:
      return "int";
    case AVRO_INT64:
      return "long";
    case AVRO_FLOAT:
      return "float";
    case AVRO_DOUBLE:
      return "double";
    case AVRO_BOOLEAN:
      return "boolean";
    case AVRO_NULL:
      return "null";
    case AVRO_RECORD:
      return "record " + named_full_name(s);
    case AVRO_ENUM:
      return "enum " + named_full_name(s);
    case AVRO_FIXED:
      return "fixed " + named_full_name(s);
    case AVRO_MAP:
      return "map";
    case AVRO_ARRAY:
      return "array";
    case AVRO_UNION:
      return "union";
    default:
      return "link";
  }
}

// Promotions the specification allows from a writer type to a reader type.
bool promotes(avro_type_t writer, avro_type_t reader) {
  switch (writer) {
    case AVRO_INT32:
      return reader == AVRO_INT64 || reader == AVRO_FLOAT || reader == AVRO_DOUBLE;
    case AVRO_INT64:
      return reader == AVRO_FLOAT || reader == AVRO_DOUBLE;
    case AVRO_FLOAT:
      return reader == AVRO_DOUBLE;
    case AVRO_STRING:
      return reader == AVRO_BYTES;
    case AVRO_BYTES:
      return reader == AVRO_STRING;
    default:
      return false;
  }
}

bool same_name(avro_schema_t rs, avro_schema_t ws) {
  return std::string_view(avro_schema_name(rs)) == avro_schema_name(ws);
}

using node_pair = std::pair<avro_schema_t, avro_schema_t>;

// Node addresses share their low and high bits: mix them (MurmurHash3's finaliser)
// before combining, or the memo's buckets cluster.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

struct pair_hash {
  std::size_t operator()(const node_pair& p) const {
    return mix(reinterpret_cast<std::uintptr_t>(p.first) ^
               mix(reinterpret_cast<std::uintptr_t>(p.second)));
  }
};

// A reader record's field list and defaults, as collected from the JSON text.
struct record_info {
  std::string key;
  const std::vector<std::string>* fields = nullptr;
  const std::set<std::string>* defaults = nullptr;
};

class resolver {
 public:
  resolver(const avro_schema::impl& reader, const avro_schema::impl& writer, check_budget& budget)
      : reader_(reader), writer_schema_(writer.schema), budget_(budget) {}

  result<std::vector<std::string>> run() {
    report(reader_.schema, writer_schema_, 0);
    if (failure_) return *failure_;
    return std::move(problems_);
  }

 private:
  static constexpr std::size_t no_assumption = std::numeric_limits<std::size_t>::max();
  // Steps a verdict must have taken to be memoised.
  static constexpr std::uint64_t memo_threshold = 8;

  // A verdict, and the lowest stack index of a still-open pair it assumed resolves.
  struct outcome {
    bool ok = true;
    std::size_t assumed = no_assumption;
  };

  static outcome both(outcome a, outcome b) {
    return {a.ok && b.ok, std::min(a.assumed, b.assumed)};
  }

  // ---- bounds ----

  bool step(std::uint64_t n = 1) {
    if (failure_) return false;
    if (budget_.spend(n)) return true;
    failure_ = make_error(errc::invalid_argument,
                          "compatibility check too costly: it needs more than {} steps (the "
                          "limit); nested unions of look-alike named types multiply the work",
                          budget_.total());
    return false;
  }

  void too_deep() {
    if (failure_) return;
    failure_ = make_error(errc::invalid_argument,
                          "compatibility check too costly: the types nest more than {} levels "
                          "deep, counting named-type references (the limit)",
                          max_resolution_depth);
  }

  // ---- verdicts (memoised) ----

  outcome resolves(avro_schema_t rs, avro_schema_t ws) {
    rs = deref(rs);
    ws = deref(ws);
    if (!step()) return {false};  // aborted: the caller discards every answer
    if (auto quick = shallow_verdict(rs, ws)) return {*quick};
    node_pair key{rs, ws};
    if (auto it = memo_.find(key); it != memo_.end()) return {it->second};
    if (auto it = open_.find(key); it != open_.end()) return {true, it->second};
    if (open_.size() >= static_cast<std::size_t>(max_resolution_depth)) {
      too_deep();
      return {false};
    }
    auto index = open_.size();
    auto mark = provisional_.size();
    auto spent_before = budget_.spent();
    open_.emplace(key, index);
    auto verdict = evaluate(rs, ws);
    open_.erase(key);
    if (failure_) return {false};
    bool costly = budget_.spent() - spent_before >= memo_threshold;
    return settle(key, index, mark, verdict, costly);
  }

  // Memoises what is final and was costly to reach: a "does not resolve", or a
  // "resolves" that assumed nothing about pairs opened before this one (then the
  // provisional verdicts reached under it are final too).
  outcome settle(const node_pair& key, std::size_t index, std::size_t mark, outcome verdict,
                 bool costly) {
    if (!verdict.ok) {
      provisional_.resize(mark);
      if (costly) memo_[key] = false;
      return {false};
    }
    if (verdict.assumed >= index) {
      for (auto i = mark; i < provisional_.size(); ++i) memo_[provisional_[i]] = true;
      provisional_.resize(mark);
      if (costly) memo_[key] = true;
      return {true};
    }
    if (costly) provisional_.push_back(key);
    return verdict;
  }

  // The verdict when it needs no look inside (different types or names, primitives):
  // most pairs a union comparison meets, kept out of the memo.
  static std::optional<bool> shallow_verdict(avro_schema_t rs, avro_schema_t ws) {
    auto rt = avro_typeof(rs);
    auto wt = avro_typeof(ws);
    if (rt == AVRO_UNION || wt == AVRO_UNION) return std::nullopt;
    if (rt != wt) return promotes(wt, rt);
    switch (rt) {
      case AVRO_RECORD:
      case AVRO_ENUM:
        if (!same_name(rs, ws)) return false;
        return std::nullopt;
      case AVRO_FIXED:
        return fixed_reads(rs, ws);
      case AVRO_ARRAY:
      case AVRO_MAP:
        return std::nullopt;
      default:
        return true;  // same primitive type
    }
  }

  outcome evaluate(avro_schema_t rs, avro_schema_t ws) {
    auto rt = avro_typeof(rs);
    auto wt = avro_typeof(ws);
    if (wt == AVRO_UNION) {
      // Every branch the writer may have used must be readable.
      outcome all;
      for (size_t i = 0; i < avro_schema_union_size(ws) && all.ok; ++i) {
        all = both(all, resolves(rs, avro_schema_union_branch(ws, static_cast<int>(i))));
      }
      return all;
    }
    if (rt == AVRO_UNION) {
      for (size_t i = 0; i < avro_schema_union_size(rs) && !failure_; ++i) {
        auto branch = resolves(avro_schema_union_branch(rs, static_cast<int>(i)), ws);
        if (branch.ok) return branch;
      }
      return {false};
    }
    if (rt != wt) return {promotes(wt, rt)};
    switch (rt) {
      case AVRO_RECORD:
        return evaluate_record(rs, ws);
      case AVRO_ENUM:
        return {enum_reads(rs, ws)};
      case AVRO_FIXED:
        return {fixed_reads(rs, ws)};
      case AVRO_ARRAY:
        return resolves(avro_schema_array_items(rs), avro_schema_array_items(ws));
      case AVRO_MAP:
        return resolves(avro_schema_map_values(rs), avro_schema_map_values(ws));
      default:
        return {true};  // same primitive type
    }
  }

  outcome evaluate_record(avro_schema_t rs, avro_schema_t ws) {
    // Records match by unqualified name, as Confluent's checker does.
    if (!same_name(rs, ws)) return {false};
    const auto& info = reader_record(rs);
    if (info.fields == nullptr) return {false};
    outcome all;
    for (const auto& name : *info.fields) {
      if (!all.ok || !step()) return {false};
      int rindex = avro_schema_record_field_get_index(rs, name.c_str());
      int windex = avro_schema_record_field_get_index(ws, name.c_str());
      if (rindex >= 0 && windex >= 0) {
        all = both(all, resolves(avro_schema_record_field_get_by_index(rs, rindex),
                                 avro_schema_record_field_get_by_index(ws, windex)));
      } else if (!has_default(info, name)) {
        return {false};
      }
    }
    return all;
  }

  static bool fixed_reads(avro_schema_t rs, avro_schema_t ws) {
    return same_name(rs, ws) && avro_schema_fixed_size(rs) == avro_schema_fixed_size(ws);
  }

  bool enum_reads(avro_schema_t rs, avro_schema_t ws) {
    if (!same_name(rs, ws)) return false;
    if (reader_.enum_defaults.count(named_full_name(rs)) > 0) return true;
    for (int i = 0; i < avro_schema_enum_number_of_symbols(ws); ++i) {
      if (!step()) return false;
      if (avro_schema_enum_get_by_name(rs, avro_schema_enum_get(ws, i)) < 0) return false;
    }
    return true;
  }

  // ---- the reader's JSON-side record data ----

  // The JSON-side entry of a record avro-c parsed: its full name, or, should avro-c not
  // report the inherited namespace, the one record with that simple name. Looked up
  // once per record node.
  const record_info& reader_record(avro_schema_t rs) {
    if (auto it = records_.find(rs); it != records_.end()) return it->second;
    record_info info;
    info.key = named_full_name(rs);
    if (reader_.record_fields.count(info.key) == 0) {
      (void)step(reader_.record_fields.size());
      std::string simple = avro_schema_name(rs);
      std::string suffix = "." + simple;
      for (const auto& [name, fields] : reader_.record_fields) {
        if (name == simple || name.ends_with(suffix)) {
          info.key = name;
          break;
        }
      }
    }
    if (auto f = reader_.record_fields.find(info.key); f != reader_.record_fields.end()) {
      info.fields = &f->second;
    }
    if (auto d = reader_.field_defaults.find(info.key); d != reader_.field_defaults.end()) {
      info.defaults = &d->second;
    }
    return records_.emplace(rs, std::move(info)).first->second;
  }

  static bool has_default(const record_info& info, const std::string& field) {
    return info.defaults != nullptr && info.defaults->count(field) > 0;
  }

  // ---- reporting: where and why a pair does not resolve ----

  void problem(std::string what) {
    if (problems_.size() == max_reported_problems) {
      problems_.push_back(
          fmt::format("more problems not listed (at most {} are)", max_reported_problems));
    }
    if (problems_.size() > max_reported_problems) return;
    auto where = path_.empty() ? std::string("/") : clipped(path_, 400);
    problems_.push_back(fmt::format("{}: {}", where, std::move(what)));
  }

  bool listing_full() const { return problems_.size() > max_reported_problems; }

  // Reports the problems of one pair below path_, each pair once.
  void report(avro_schema_t rs, avro_schema_t ws, int depth) {
    rs = deref(rs);
    ws = deref(ws);
    if (listing_full() || failure_ || resolves(rs, ws).ok || failure_) return;
    if (!step() || !reported_.insert({rs, ws}).second) return;
    if (depth >= max_resolution_depth) return too_deep();
    auto rt = avro_typeof(rs);
    auto wt = avro_typeof(ws);
    if (wt == AVRO_UNION) {
      for (size_t i = 0; i < avro_schema_union_size(ws); ++i) {
        descend(fmt::format("[{}]", i), rs, avro_schema_union_branch(ws, static_cast<int>(i)),
                depth);
      }
      return;
    }
    if (rt == AVRO_UNION) {
      return problem(
          fmt::format("writer type {} matches no branch of the reader's union", label(ws)));
    }
    if (rt != wt) {
      return problem(
          fmt::format("reader type {} cannot read writer type {}", label(rs), label(ws)));
    }
    switch (rt) {
      case AVRO_RECORD:
        return report_record(rs, ws, depth);
      case AVRO_ENUM:
        return report_enum(rs, ws);
      case AVRO_FIXED:
        return problem(fmt::format("fixed {} (size {}) cannot read fixed {} (size {})",
                                   avro_schema_name(rs), avro_schema_fixed_size(rs),
                                   avro_schema_name(ws), avro_schema_fixed_size(ws)));
      case AVRO_ARRAY:
        return descend("/items", avro_schema_array_items(rs), avro_schema_array_items(ws), depth);
      case AVRO_MAP:
        return descend("/values", avro_schema_map_values(rs), avro_schema_map_values(ws), depth);
      default:
        return;
    }
  }

  void descend(std::string_view segment, avro_schema_t rs, avro_schema_t ws, int depth) {
    auto mark = path_.size();
    path_ += segment;
    report(rs, ws, depth + 1);
    path_.resize(mark);
  }

  void report_record(avro_schema_t rs, avro_schema_t ws, int depth) {
    if (!same_name(rs, ws)) {
      return problem(fmt::format("reader record {} cannot read writer record {}",
                                 avro_schema_name(rs), avro_schema_name(ws)));
    }
    const auto& info = reader_record(rs);
    if (info.fields == nullptr) {
      return problem(fmt::format("record {} not found in the reader's schema text", info.key));
    }
    for (const auto& name : *info.fields) {
      if (listing_full() || !step()) return;
      int rindex = avro_schema_record_field_get_index(rs, name.c_str());
      int windex = avro_schema_record_field_get_index(ws, name.c_str());
      if (rindex >= 0 && windex >= 0) {
        descend("/" + name, avro_schema_record_field_get_by_index(rs, rindex),
                avro_schema_record_field_get_by_index(ws, windex), depth);
      } else if (!has_default(info, name)) {
        auto mark = path_.size();
        path_ += "/" + name;
        problem(
            fmt::format("reader field '{}' is missing from the writer's data and has no "
                        "default",
                        clipped(name)));
        path_.resize(mark);
      }
    }
  }

  void report_enum(avro_schema_t rs, avro_schema_t ws) {
    if (!same_name(rs, ws)) {
      return problem(fmt::format("reader enum {} cannot read writer enum {}", avro_schema_name(rs),
                                 avro_schema_name(ws)));
    }
    for (int i = 0; i < avro_schema_enum_number_of_symbols(ws) && !listing_full(); ++i) {
      if (!step()) return;
      const char* symbol = avro_schema_enum_get(ws, i);
      if (avro_schema_enum_get_by_name(rs, symbol) < 0) {
        problem(
            fmt::format("writer enum symbol '{}' is unknown to the reader, which has no "
                        "default",
                        clipped(symbol)));
      }
    }
  }

  const avro_schema::impl& reader_;
  avro_schema_t writer_schema_;
  check_budget& budget_;
  std::optional<error> failure_;
  std::unordered_map<node_pair, bool, pair_hash> memo_;
  std::unordered_map<node_pair, std::size_t, pair_hash> open_;  // pair -> stack index
  std::vector<node_pair> provisional_;  // "resolves" verdicts awaiting an open pair
  std::unordered_map<avro_schema_t, record_info> records_;
  std::unordered_set<node_pair, pair_hash> reported_;
  std::string path_;
  std::vector<std::string> problems_;
};

}  // namespace

result<std::vector<std::string>> resolve(const avro_schema::impl& reader,
                                         const avro_schema::impl& writer, check_budget& budget) {
  return resolver(reader, writer, budget).run();
}

}  // namespace sluice::registry
