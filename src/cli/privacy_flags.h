// The `--pseudonymise` flags of the verbs that write rows (`sluice process`): which
// fields, and where the HMAC key comes from (a file or an environment variable, never a
// flag's value: argv is world-readable). See src/privacy/privacy.h.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "privacy/privacy.h"

namespace sluice::cli {

struct pseudonym_flags {
  std::string fields;    // --pseudonymise email,phone
  std::string key_env;   // --pseudonym-key-env (default SLUICE_PSEUDONYM_KEY)
  std::string key_file;  // --pseudonym-key-file
  std::string key_id;    // --pseudonym-key-id (default: derived from the key)
};

/// Adds --pseudonymise, --pseudonym-key-env, --pseudonym-key-file and --pseudonym-key-id.
void add_pseudonym_flags(CLI::App* cmd, pseudonym_flags& flags);

/// The pseudonymiser the flags describe, or null without --pseudonymise. Throws
/// fatal_error naming the flag: a key flag without --pseudonymise, both key sources, an
/// unknown field, an unreadable or short key (never echoing it), a malformed key id.
std::shared_ptr<const privacy::pseudonymiser> make_pseudonymiser(const pseudonym_flags& flags);

}  // namespace sluice::cli
