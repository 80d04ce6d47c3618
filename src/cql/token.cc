// Murmur3 tokens as Cassandra computes them, the token ring and its discovery.
//
// Written here because Cassandra's partitioner is a variant of MurmurHash3_x64_128
// (its tail bytes are sign-extended, as Java's byte is, and the token is the first 64
// bits with Long.MIN_VALUE mapped to Long.MAX_VALUE); no Debian package offers it.
#include "cql/token.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "base/error.h"
#include "cql/cql.h"

namespace sluice::cql {
namespace {

constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;

std::uint64_t rotl(std::uint64_t v, int by) {
  return (v << by) | (v >> (64 - by));
}

std::uint64_t fmix(std::uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

std::uint64_t little_endian_block(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

/// A tail byte as Java sees it: signed, sign-extended to 64 bits.
std::uint64_t java_byte(unsigned char b) {
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b)));
}

}  // namespace

std::int64_t murmur3_token(std::string_view key_bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(key_bytes.data());
  const std::size_t length = key_bytes.size();
  const std::size_t blocks = length / 16;
  std::uint64_t h1 = 0, h2 = 0;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint64_t k1 = little_endian_block(data + i * 16);
    std::uint64_t k2 = little_endian_block(data + i * 16 + 8);
    k1 *= c1;
    k1 = rotl(k1, 31);
    k1 *= c2;
    h1 ^= k1;
    h1 = rotl(h1, 27);
    h1 += h2;
    h1 = h1 * 5 + 0x52dce729;
    k2 *= c2;
    k2 = rotl(k2, 33);
    k2 *= c1;
    h2 ^= k2;
    h2 = rotl(h2, 31);
    h2 += h1;
    h2 = h2 * 5 + 0x38495ab5;
  }
  const unsigned char* tail = data + blocks * 16;
  const std::size_t rest = length & 15;
  std::uint64_t k1 = 0, k2 = 0;
  for (std::size_t i = rest; i > 8; --i) k2 ^= java_byte(tail[i - 1]) << ((i - 9) * 8);
  if (rest > 8) {
    k2 *= c2;
    k2 = rotl(k2, 33);
    k2 *= c1;
    h2 ^= k2;
  }
  for (std::size_t i = std::min<std::size_t>(rest, 8); i > 0; --i)
    k1 ^= java_byte(tail[i - 1]) << ((i - 1) * 8);
  if (rest > 0) {
    k1 *= c1;
    k1 = rotl(k1, 31);
    k1 *= c2;
    h1 ^= k1;
  }
  h1 ^= length;
  h2 ^= length;
  h1 += h2;
  h2 += h1;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h1 += h2;
  auto token = static_cast<std::int64_t>(h1);
  return token == INT64_MIN ? INT64_MAX : token;
}

token_ring::token_ring(std::vector<node_info> nodes) : nodes_(std::move(nodes)) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    for (auto t : nodes_[i].tokens) ring_[t] = i;
  }
}

const node_info* token_ring::owner(std::int64_t token) const {
  if (ring_.empty()) return nullptr;
  auto it = ring_.lower_bound(token);
  if (it == ring_.end()) it = ring_.begin();
  return &nodes_[it->second];
}

const node_info* token_ring::owner_in(std::int64_t token, std::string_view data_center) const {
  if (ring_.empty()) return nullptr;
  auto start = ring_.lower_bound(token);
  if (start == ring_.end()) start = ring_.begin();
  auto it = start;
  do {
    if (nodes_[it->second].data_center == data_center) return &nodes_[it->second];
    if (++it == ring_.end()) it = ring_.begin();
  } while (it != start);
  return nullptr;
}

namespace {

/// One data centre's placement while walking the ring.
struct centre_state {
  int factor = 0;        // replicas wanted, capped by the centre's nodes
  int rack_repeats = 0;  // replicas that may share a rack with an earlier one
  int taken = 0;
  std::set<std::string> racks_seen;
  bool take(const node_info& n);
};

bool centre_state::take(const node_info& n) {
  if (taken >= factor) return false;
  if (racks_seen.insert(n.rack).second) {  // a rack not holding a replica yet
    ++taken;
    return true;
  }
  if (rack_repeats <= 0) return false;  // the remaining replicas need the unseen racks
  --rack_repeats;
  ++taken;
  return true;
}

std::map<std::string, centre_state, std::less<>> rack_aware_centres(
    const std::vector<node_info>& nodes, const replication& r) {
  // As Cassandra's NetworkTopologyStrategy: each centre's factor, capped by its nodes,
  // filled walking the ring with one node per rack first; a rack takes a second replica
  // only while more replicas are wanted than the centre has racks.
  std::map<std::string, std::pair<std::set<std::string>, int>, std::less<>> layout;
  for (const auto& n : nodes) {
    auto& [racks, count] = layout[n.data_center];
    racks.insert(n.rack);
    ++count;
  }
  std::map<std::string, centre_state, std::less<>> out;
  for (const auto& [dc, factor] : r.per_dc) {
    auto found = layout.find(dc);
    if (found == layout.end() || factor <= 0) continue;
    auto& [racks, count] = found->second;
    centre_state s;
    s.factor = std::min(factor, count);
    s.rack_repeats = s.factor - static_cast<int>(racks.size());
    out.emplace(dc, std::move(s));
  }
  return out;
}

}  // namespace

std::vector<const node_info*> token_ring::replicas(std::int64_t token, const replication& r) const {
  std::vector<const node_info*> out;
  if (ring_.empty()) return out;
  const bool per_dc = r.strategy.find("NetworkTopologyStrategy") != std::string::npos;
  std::size_t wanted = 0;
  if (per_dc) {
    for (const auto& [dc, n] : r.per_dc) wanted += static_cast<std::size_t>(std::max(n, 0));
  } else {
    wanted = static_cast<std::size_t>(std::max(r.factor, 1));
  }
  wanted = std::min(wanted, nodes_.size());
  auto centres =
      per_dc ? rack_aware_centres(nodes_, r) : std::map<std::string, centre_state, std::less<>>{};
  auto start = ring_.lower_bound(token);
  if (start == ring_.end()) start = ring_.begin();
  auto it = start;
  do {
    const node_info* n = &nodes_[it->second];
    bool seen = std::find(out.begin(), out.end(), n) != out.end();
    if (!seen) {
      if (!per_dc) {
        out.push_back(n);
      } else if (auto c = centres.find(n->data_center); c != centres.end() && c->second.take(*n)) {
        out.push_back(n);
      }
    }
    if (out.size() >= wanted) break;
    if (++it == ring_.end()) it = ring_.begin();
  } while (it != start);
  return out;
}

replication parse_replication(const std::vector<std::pair<std::string, std::string>>& options) {
  replication r;
  for (const auto& [key, value] : options) {
    if (key == "class") r.strategy = value;
  }
  const bool per_dc = r.strategy.find("NetworkTopologyStrategy") != std::string::npos;
  for (const auto& [key, value] : options) {
    if (key == "class") continue;
    int factor = 0;
    try {
      factor = std::stoi(value);  // "3", or "3/1" with transient replicas
    } catch (const std::exception&) {
      continue;
    }
    if (per_dc) {
      r.per_dc[key] = factor;
    } else if (key == "replication_factor") {
      r.factor = factor;
    }
  }
  return r;
}

std::optional<std::string> routing_key(const std::vector<bound_value>& values,
                                       const std::vector<int>& partition_key_indexes) {
  if (partition_key_indexes.empty()) return std::nullopt;
  for (int i : partition_key_indexes) {
    if (i < 0 || static_cast<std::size_t>(i) >= values.size() ||
        !values[static_cast<std::size_t>(i)])
      return std::nullopt;
  }
  if (partition_key_indexes.size() == 1)
    return values[static_cast<std::size_t>(partition_key_indexes[0])];
  std::string key;
  for (int i : partition_key_indexes) {
    const auto& v = *values[static_cast<std::size_t>(i)];
    key.push_back(static_cast<char>((v.size() >> 8) & 0xFF));
    key.push_back(static_cast<char>(v.size() & 0xFF));
    key += v;
    key.push_back('\0');
  }
  return key;
}

namespace {

/// The tokens column: a set<text> of decimal Murmur3 tokens.
result<std::vector<std::int64_t>> parse_tokens(const std::optional<std::string>& cell) {
  std::vector<std::int64_t> tokens;
  if (!cell) return tokens;
  auto texts = read_collection(*cell);
  if (!texts) return texts.err();
  for (const auto& text : *texts) {
    try {
      tokens.push_back(std::stoll(text.value_or("")));
    } catch (const std::exception& e) {
      return make_error(errc::parse, "token '{}' is not a Murmur3 token: {}", text.value_or(""),
                        e.what());
    }
  }
  return tokens;
}

std::string cell_string(const std::optional<std::string>& cell) {
  return cell.value_or("");
}

}  // namespace

result<std::vector<node_info>> nodes_from_rows(const rows_result& rows,
                                               std::vector<std::string>* skipped) {
  std::vector<node_info> nodes;
  if (rows.columns.size() < 4)
    return make_error(errc::protocol, "node rows need 4 columns, got {}", rows.columns.size());
  // Columns past the first four are found by name.
  auto column_named = [&](std::string_view name) -> std::optional<std::size_t> {
    for (std::size_t c = 4; c < rows.columns.size(); ++c)
      if (rows.columns[c].name == name) return c;
    return std::nullopt;
  };
  auto port_column = column_named("native_port");
  auto host_id_column = column_named("host_id");
  auto skip = [&](std::size_t index, std::string why) {
    if (skipped) skipped->push_back(fmt::format("row {}: {}", index, why));
  };
  for (std::size_t i = 0; i < rows.rows.size(); ++i) {
    const auto& row = rows.rows[i];
    if (row.size() < 4) {
      skip(i,
           fmt::format("{} cells where address, data_center, rack and tokens need 4", row.size()));
      continue;
    }
    if (!row[0]) {
      skip(i, "null address");
      continue;
    }
    if (rows.columns[0].type.id == type_id::inet && row[0]->size() != 4 && row[0]->size() != 16) {
      skip(i, fmt::format("an inet address of {} bytes (4 or 16 expected)", row[0]->size()));
      continue;
    }
    node_info n;
    n.address = cell_text(rows.columns[0].type, row[0]);
    n.data_center = cell_string(row[1]);
    n.rack = cell_string(row[2]);
    auto tokens = parse_tokens(row[3]);
    if (!tokens) {
      skip(i, fmt::format("node {}: bad tokens: {}", n.address, tokens.err().message));
      continue;
    }
    n.tokens = std::move(*tokens);
    if (host_id_column) {
      // A row without its identity is a node being removed or a broken peer table (the
      // Java driver skips it too): it cannot be told apart from the nodes already known.
      if (*host_id_column >= row.size() || !row[*host_id_column]) {
        skip(i, fmt::format("node {}: null host_id", n.address));
        continue;
      }
      n.host_id = cell_text(rows.columns[*host_id_column].type, row[*host_id_column]);
    }
    if (port_column && *port_column < row.size() && row[*port_column]) {
      const auto& port = *row[*port_column];
      if (port.size() != 4) {
        skip(i,
             fmt::format("node {}: a port cell of {} bytes (an int is 4)", n.address, port.size()));
        continue;
      }
      n.port = read_int(port);
      if (n.port < 0 || n.port > 65535) {
        skip(i, fmt::format("node {}: port {} is out of range", n.address, n.port));
        continue;
      }
    }
    nodes.push_back(std::move(n));
  }
  return nodes;
}

result<token_ring> discover_ring(session& s) {
  auto local = s.query("SELECT rpc_address, data_center, rack, tokens FROM system.local");
  if (!local) return local.err();
  auto peers = s.query("SELECT rpc_address, data_center, rack, tokens FROM system.peers");
  if (!peers) return peers.err();
  auto nodes = nodes_from_rows(*local);
  if (!nodes) return nodes.err();
  auto others = nodes_from_rows(*peers);
  if (!others) return others.err();
  nodes->insert(nodes->end(), others->begin(), others->end());
  if (nodes->empty()) return make_error(errc::protocol, "system.local returned no row");
  return token_ring(std::move(*nodes));
}

}  // namespace sluice::cql
