// `sluice gen`: print deterministic realistic users as JSON lines (the contract's twelve
// fields), optionally with injected defects, at a steady rate or as fast as possible.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "cli/verb.h"
#include "gen/generator.h"
#include "model/json.h"
#include "pipeline/avro_encode.h"

namespace sluice::cli {
namespace {

struct gen_options {
  gen::options generator;
  std::string nat;
  std::string gender;
  std::uint64_t count = 10;
  double rate = 0;
  std::uint64_t start_index = 0;
  bool with_kind = false;
  std::string format = "json";
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

/// Writes the buffer to stdout; false when the reader has gone (broken pipe).
bool flush_out(std::string& buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    auto n = ::write(STDOUT_FILENO, buffer.data() + done, buffer.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  buffer.clear();
  return true;
}

int run_gen(gen_options opts) {
  if (opts.rate < 0) throw fatal_error(fmt::format("--rate: '{}' must be 0 or more", opts.rate));
  if (opts.format != "json" && opts.format != "avro") {
    throw fatal_error(fmt::format("--format: '{}' is not json or avro", opts.format));
  }
  const bool avro = opts.format == "avro";
  if (avro && opts.with_kind) throw fatal_error("--with-kind: only with --format json");
  opts.generator.nationalities = split_list(opts.nat);
  if (!opts.gender.empty()) opts.generator.gender = opts.gender;
  gen::generator g(opts.generator);
  signal(SIGPIPE, SIG_IGN);

  std::string buffer;
  buffer.reserve(1 << 20);
  auto started = std::chrono::steady_clock::now();
  const std::uint64_t end = opts.count ? opts.start_index + opts.count : UINT64_MAX;
  for (std::uint64_t i = opts.start_index; i < end; ++i) {
    auto rec = g.make_record(i);
    if (avro) {
      pipeline::append_avro_binary(rec.record, buffer);  // concatenated sluice.v1.User datums
    } else {
      model::append_json(rec.record, buffer);
      if (opts.with_kind) {
        buffer.pop_back();
        buffer += ",\"_bad_kind\":\"";
        buffer += gen::name_of(rec.kind);
        buffer += "\"}";
      }
      buffer.push_back('\n');
    }
    if (opts.rate > 0) {
      auto due = started + std::chrono::duration<double>((i - opts.start_index + 1) / opts.rate);
      if (!flush_out(buffer)) return 0;
      std::this_thread::sleep_until(
          std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
    } else if (buffer.size() > (1 << 20) - 4096 && !flush_out(buffer)) {
      return 0;
    }
  }
  flush_out(buffer);
  return 0;
}

SLUICE_VERB("gen", [](CLI::App& root) -> std::function<int()> {
  auto opts = std::make_shared<gen_options>();
  auto* cmd =
      root.add_subcommand("gen", "print realistic users as JSON lines (deterministic by seed)");
  cmd->add_option("--seed", opts->generator.seed, "seed: the same seed prints the same users");
  cmd->add_option("--count", opts->count, "number of users (0 = unlimited)");
  cmd->add_option("--rate", opts->rate, "users per second (0 = as fast as possible)");
  cmd->add_option("--bad-ratio", opts->generator.bad_ratio,
                  "share of records with an injected defect (0..1)");
  cmd->add_option("--nat", opts->nat, "nationalities, comma separated (e.g. AU,BR,FR)");
  cmd->add_option("--gender", opts->gender, "male or female");
  cmd->add_option("--as-of", opts->generator.as_of, "the generator's today, YYYY-MM-DD");
  cmd->add_option("--start-index", opts->start_index, "index of the first user");
  cmd->add_flag("--with-kind", opts->with_kind, "add _bad_kind (the injected defect) to each line");
  cmd->add_option(
      "--format", opts->format,
      "json (one object per line) or avro (concatenated binary datums of contract/user.avsc)");
  return [opts] { return run_gen(*opts); };
});

}  // namespace
}  // namespace sluice::cli
