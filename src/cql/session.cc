// A blocking, pipelined CQL v4 connection to one node.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "cql/cql.h"

namespace sluice::cql {

session::~session() {
  close_socket();
}

void session::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

result<std::unique_ptr<session>> session::connect(const session_config& config) {
  std::unique_ptr<session> s(new session(config));
  auto opened = s->open();
  if (!opened) return opened.err();
  return s;
}

result<void> session::open() {
  close_socket();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(config_.port);
  if (int rc = getaddrinfo(config_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return make_error(errc::unavailable, "cannot resolve Cassandra host {}: {}", config_.host,
                      gai_strerror(rc));
  }
  for (auto* a = found; a; a = a->ai_next) {
    fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_ < 0) continue;
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
    close_socket();
  }
  freeaddrinfo(found);
  if (fd_ < 0) {
    return make_error(errc::unavailable, "cannot connect to Cassandra at {}:{}: {}", config_.host,
                      config_.port, std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string frame;
  write_startup(frame, 0);
  auto ready = roundtrip(std::move(frame));
  if (!ready) return ready.err();
  if (ready->error) {
    return make_error(errc::server, "Cassandra at {}:{} refused STARTUP: {}", config_.host,
                      config_.port, ready->error->message);
  }
  if (ready->op == opcode::authenticate) {
    return make_error(errc::unavailable,
                      "Cassandra at {}:{} requires authentication (not supported yet)",
                      config_.host, config_.port);
  }
  if (!config_.keyspace.empty()) {
    std::string use;
    write_query(use, 0, "USE \"" + config_.keyspace + "\"", {config_.level, {}, 0, {}});
    auto r = checked(roundtrip(std::move(use)), "USE keyspace");
    if (!r) return r.err();
  }
  return ok();
}

result<void> session::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close_socket();
      return make_error(errc::unavailable,
                        "connection to Cassandra at {}:{} lost while sending: {}", config_.host,
                        config_.port, std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

result<std::pair<frame_header, std::string>> session::read_frame() {
  auto read_exact = [this](char* dst, std::size_t n) -> result<void> {
    std::size_t done = 0;
    while (done < n) {
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(config_.timeout.count()));
      if (ready == 0) {
        close_socket();
        return make_error(errc::timeout, "no answer from Cassandra at {}:{} within {} ms",
                          config_.host, config_.port, config_.timeout.count());
      }
      auto got = ready > 0 ? ::recv(fd_, dst + done, n - done, 0) : -1;
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        close_socket();
        return make_error(errc::unavailable, "connection to Cassandra at {}:{} closed",
                          config_.host, config_.port);
      }
      done += static_cast<std::size_t>(got);
    }
    return ok();
  };
  char head[header_size];
  if (auto r = read_exact(head, header_size); !r) return r.err();
  auto header = parse_header(std::string_view(head, header_size));
  if (!header) {
    close_socket();
    return header.err();
  }
  std::string body(header->length, '\0');
  if (auto r = read_exact(body.data(), body.size()); !r) return r.err();
  return std::pair{*header, std::move(body)};
}

result<response> session::roundtrip(std::string frame) {
  if (fd_ < 0) {
    return make_error(errc::unavailable, "not connected to Cassandra at {}:{}", config_.host,
                      config_.port);
  }
  if (auto sent = send_all(frame); !sent) return sent.err();
  auto got = read_frame();
  if (!got) return got.err();
  return parse_response(got->first, got->second);
}

result<response> session::checked(result<response> r, std::string_view what) {
  if (!r) return r;
  if (r->error) {
    return make_error(errc::server, "{} failed: {} (0x{:04x}): {}", what,
                      error_name(r->error->code), r->error->code, r->error->message);
  }
  return r;
}

result<rows_result> session::query_page(std::string_view cql, const query_params& params) {
  if (fd_ < 0) {
    if (auto reopened = open(); !reopened) return reopened.err();
  }
  std::string frame;
  write_query(frame, 1, cql, params);
  auto r = checked(roundtrip(std::move(frame)), cql.substr(0, 80));
  if (!r) return r.err();
  return std::move(r->rows);
}

result<rows_result> session::query(std::string_view cql, std::vector<bound_value> values) {
  query_params params{config_.level, std::move(values), 5000, {}};
  rows_result all;
  while (true) {
    auto page = query_page(cql, params);
    if (!page) return page.err();
    if (all.columns.empty()) all.columns = std::move(page->columns);
    for (auto& row : page->rows) all.rows.push_back(std::move(row));
    if (!page->paging_state) break;
    params.paging_state = page->paging_state;
  }
  return all;
}

result<prepared> session::prepare(std::string cql) {
  if (fd_ < 0) {
    if (auto reopened = open(); !reopened) return reopened.err();
  }
  std::string frame;
  write_prepare(frame, 1, cql);
  auto r = checked(roundtrip(std::move(frame)), "PREPARE " + cql.substr(0, 80));
  if (!r) return r.err();
  return prepared{std::move(cql), std::move(r->prepared.id), std::move(r->prepared.bind_columns)};
}

result<response> session::run_prepared(
    prepared& statement, const std::function<void(std::string&, const prepared&)>& write_frame,
    std::string_view what) {
  if (fd_ < 0) {
    if (auto reopened = open(); !reopened) return reopened.err();
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string frame;
    write_frame(frame, statement);
    auto r = roundtrip(std::move(frame));
    if (!r) return r.err();
    if (r->error && r->error->code == error_unprepared && attempt == 0) {
      auto again = prepare(statement.cql);  // the node forgot it (restart, ALTER): again
      if (!again) return again.err();
      statement = std::move(*again);
      continue;
    }
    return checked(std::move(r), fmt::format("{} {}", what, statement.cql.substr(0, 80)));
  }
  return make_error(errc::server, "statement stayed unprepared after re-preparing: {}",
                    statement.cql);
}

result<rows_result> session::execute(prepared& statement, std::vector<bound_value> values) {
  query_params params{config_.level, std::move(values), 5000, {}};
  auto r = run_prepared(
      statement,
      [&params](std::string& frame, const prepared& p) { write_execute(frame, 1, p.id, params); },
      "EXECUTE");
  if (!r) return r.err();
  return std::move(r->rows);
}

result<void> session::execute_batch(prepared& statement,
                                    const std::vector<std::vector<bound_value>>& values,
                                    batch_kind kind) {
  if (values.empty()) return ok();
  if (values.size() > 0x7FFF)
    return make_error(errc::invalid_argument, "a BATCH holds at most 32767 statements, not {}",
                      values.size());
  auto r = run_prepared(
      statement,
      [&](std::string& frame, const prepared& p) {
        write_batch(frame, 1, kind, p.id, values, config_.level);
      },
      "BATCH of");
  if (!r) return r.err();
  return ok();
}

std::vector<result<void>> session::execute_many(prepared& statement,
                                                const std::vector<std::vector<bound_value>>& values,
                                                std::size_t window,
                                                std::vector<std::chrono::microseconds>* latencies) {
  std::vector<result<void>> results(values.size(), ok());
  if (latencies) latencies->assign(values.size(), std::chrono::microseconds(-1));
  if (values.empty()) return results;
  if (fd_ < 0) {
    if (auto reopened = open(); !reopened) {
      for (auto& r : results) r = reopened.err();
      return results;
    }
  }
  window = std::clamp<std::size_t>(window, 1, 32000);
  // Stream ids 1..window are handed out from a free list; owner[stream] is the request.
  std::vector<std::int16_t> free_streams;
  for (std::size_t s = window; s >= 1; --s) free_streams.push_back(static_cast<std::int16_t>(s));
  std::vector<std::size_t> owner(window + 1, SIZE_MAX);
  std::vector<std::chrono::steady_clock::time_point> sent_at(latencies ? window + 1 : 0);
  std::size_t pending = 0;
  std::vector<std::size_t> unprepared;
  std::size_t next = 0;
  std::string batch;
  auto fail_rest = [&](const error& e) {
    for (auto i : owner) {
      if (i != SIZE_MAX) results[i] = e;
    }
    for (; next < values.size(); ++next) results[next] = e;
  };
  while (next < values.size() || pending > 0) {
    batch.clear();
    while (next < values.size() && !free_streams.empty()) {
      auto stream = free_streams.back();
      free_streams.pop_back();
      owner[static_cast<std::size_t>(stream)] = next;
      if (latencies) sent_at[static_cast<std::size_t>(stream)] = std::chrono::steady_clock::now();
      write_execute(batch, stream, statement.id, {config_.level, values[next], 0, {}});
      ++next;
      ++pending;
    }
    if (!batch.empty()) {
      if (auto sent = send_all(batch); !sent) {
        fail_rest(sent.err());
        return results;
      }
    }
    auto got = read_frame();
    if (!got) {
      fail_rest(got.err());
      return results;
    }
    auto stream = got->first.stream;
    if (stream < 1 || static_cast<std::size_t>(stream) > window ||
        owner[static_cast<std::size_t>(stream)] == SIZE_MAX) {
      continue;  // an event (stream -1) or an answer to nothing we sent
    }
    auto index = owner[static_cast<std::size_t>(stream)];
    owner[static_cast<std::size_t>(stream)] = SIZE_MAX;
    if (latencies) {
      (*latencies)[index] = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - sent_at[static_cast<std::size_t>(stream)]);
    }
    free_streams.push_back(stream);
    --pending;
    auto parsed = parse_response(got->first, got->second);
    if (!parsed) {
      results[index] = parsed.err();
    } else if (parsed->error && parsed->error->code == error_unprepared) {
      unprepared.push_back(index);
    } else if (parsed->error) {
      results[index] =
          make_error(errc::server, "{} (0x{:04x}): {}", error_name(parsed->error->code),
                     parsed->error->code, parsed->error->message);
    }
  }
  for (auto index : unprepared) {
    auto r = execute(statement, values[index]);
    if (!r) results[index] = r.err();
  }
  return results;
}

}  // namespace sluice::cql
